// The console's customers from the outside (issue 15, "Customers"): the operator API's
// record (GET/PATCH /api/v1/admin/customers/{id}) with its audit trail; お客様一覧 and
// お客様情報 for the operator and a reseller's staff, each seeing and changing only its
// own customers; the change form refusing bad fields with a message per field and what
// was typed kept; and a change of recipients that the next alert mail follows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';
import { launch } from './browser.mjs';
import { api, readyUser } from './identity.mjs';
import { enrolledDevice, sendReport, report, threat, expectError, waitFor } from './devices.mjs';
import { signedInPage, pageHydrated, checkPage } from './pages.mjs';

let stack;
let browser;
before(async () => {
  [stack, browser] = await Promise.all([startStack({ seed: false, vars: { OFFLINE_AFTER_MIN: '100000' } }), launch()]);
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});


let world;
async function setUp() {
  if (world) return world;
  const reseller = async (name) => (await api(stack, 'POST', '/api/v1/admin/resellers', { name })).body.reseller_id;
  const R1 = await reseller('見守り販売いち');
  const R2 = await reseller('見守り販売に');
  const customer = async (name, resellerId, extra = {}) => {
    const r = await api(stack, 'POST', '/api/v1/admin/customers', {
      name, reseller_id: resellerId, service_start: '2026-11-01', alert_recipients: ['first@example.jp'], ...extra,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.customer_id;
  };
  const A = await customer('株式会社コンソールA', R1, {
    contact: { name: '見守 太郎', department: '総務部', title: '課長', email: 'taro@example.jp', phone: '03-1234-5678' },
    address: '東京都千代田区千代田1-1',
  });
  const B = await customer('株式会社コンソールB', R2);
  const token = async (body) => (await api(stack, 'POST', '/api/v1/admin/tokens', body)).body.token;
  world = {
    R1, R2, A, B,
    tokenR1: await token({ scope: 'reseller', reseller_id: R1, name: 'R1 CRM' }),
    staffR1: await readyUser(stack, `/api/v1/admin/resellers/${R1}/accounts`),
    staffR2: await readyUser(stack, `/api/v1/admin/resellers/${R2}/accounts`),
    operator: await readyUser(stack, '/api/v1/admin/operator/accounts'),
    adminA: await readyUser(stack, `/api/v1/admin/customers/${A}/accounts`),
  };
  return world;
}

test('the record over the API: read, changed field by field with old and new in the audit log, scoped', async () => {
  const w = await setUp();
  const got = await api(stack, 'GET', `/api/v1/admin/customers/${w.A}`);
  assert.equal(got.status, 200);
  assert.equal(got.body.name, '株式会社コンソールA');
  assert.equal(got.body.status, 'active');
  assert.equal(got.body.reseller_id, w.R1);
  assert.deepEqual(got.body.contact, { name: '見守 太郎', department: '総務部', title: '課長', email: 'taro@example.jp', phone: '03-1234-5678' });
  assert.deepEqual(got.body.alert_recipients, ['first@example.jp']);
  assert.deepEqual(got.body.devices, []);
  await enrolledDevice(stack, w.A, 'c0c0c0000001', 'utm-本社');
  const withDevice = await api(stack, 'GET', `/api/v1/admin/customers/${w.A}`);
  assert.deepEqual(withDevice.body.devices.map((d) => [d.device_id, d.status]), [['c0c0c0000001', 'never_seen']]);

  const patched = await api(stack, 'PATCH', `/api/v1/admin/customers/${w.A}`, { contact: { title: '部長' }, address: '東京都港区1-2-3' }, w.tokenR1);
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.equal(patched.body.contact.title, '部長');
  assert.equal(patched.body.contact.name, '見守 太郎', 'fields not named stay');
  assert.equal(patched.body.address, '東京都港区1-2-3');
  const [entry] = stack.sql(`SELECT detail, token_id FROM audit_log WHERE event = 'customer.changed' ORDER BY id DESC LIMIT 1`);
  assert.match(entry.detail, /contact\.title: 課長 → 部長/);
  assert.match(entry.detail, /address: 東京都千代田区千代田1-1 → 東京都港区1-2-3/);

  // Bad fields: 400 invalid_field at the field; nothing stored.
  const bad = async (body, path) => expectError(
    await fetch(`${stack.url}/api/v1/admin/customers/${w.A}`, {
      method: 'PATCH', headers: { authorization: `Bearer ${stack.settings.OPERATOR_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    }), 400, 'invalid_field', path);
  await bad({ alert_recipients: ['a@x.jp', 'b@x.jp', 'c@x.jp', 'd@x.jp'] }, '$.alert_recipients');
  await bad({ alert_recipients: [] }, '$.alert_recipients');
  await bad({ contact: { email: 'nope' } }, '$.contact.email');
  await bad({ name: '' }, '$.name');
  assert.equal((await api(stack, 'GET', `/api/v1/admin/customers/${w.A}`)).body.contact.title, '部長');

  // Another reseller's customer is one that does not exist.
  assert.equal((await api(stack, 'GET', `/api/v1/admin/customers/${w.B}`, undefined, w.tokenR1)).status, 404);
  assert.equal((await api(stack, 'PATCH', `/api/v1/admin/customers/${w.B}`, { name: '乗っ取り' }, w.tokenR1)).status, 404);
  assert.equal((await api(stack, 'GET', '/api/v1/admin/customers/cus_nope')).status, 404);
  assert.equal((await api(stack, 'GET', `/api/v1/admin/customers/${w.B}`)).body.name, '株式会社コンソールB');
});

test('お客様一覧 and お客様情報: each staff member finds and opens only their customers', async () => {
  const w = await setUp();
  const list1 = await w.staffR1.visitor.get('/admin/customers');
  assert.equal(list1.status, 200);
  assert.ok(list1.html.includes('株式会社コンソールA') && !list1.html.includes('株式会社コンソールB'));
  const op = await w.operator.visitor.get(`/admin/customers?q=${encodeURIComponent('コンソールb')}`);
  assert.ok(op.html.includes('株式会社コンソールB') && !op.html.includes('株式会社コンソールA'), 'search by a part of the name, any case');
  assert.ok(op.html.includes('見守り販売に'), 'the operator sees the reseller');
  const page = await w.staffR1.visitor.get(`/admin/customers/${w.A}`);
  assert.equal(page.status, 200);
  for (const text of ['見守 太郎', '部長', 'first@example.jp', 'c0c0c0000001', `/customers/${w.A}/problems`, '変更履歴']) {
    assert.ok(page.html.includes(text), `the record shows ${text}`);
  }
  assert.equal((await w.staffR2.visitor.get(`/admin/customers/${w.A}`)).status, 404);
  assert.equal((await w.adminA.visitor.get(`/admin/customers/${w.A}`)).status, 404, 'not a customer admin\'s page');
  assert.equal((await w.adminA.visitor.get('/admin/customers')).status, 404);
  // The form of another reseller's customer: 404, nothing changed.
  const csrf = await w.staffR2.visitor.csrf('/admin/customers');
  const form = await w.staffR2.visitor.post(`/admin/customers/${w.A}/profile`, { name: '乗っ取り', recipient1: 'x@example.jp' }, { csrf });
  assert.equal(form.status, 404);
  assert.equal(stack.sql(`SELECT name FROM customers WHERE id = '${w.A}'`)[0].name, '株式会社コンソールA');
});

test('the change form keeps what was typed on a refusal and the next alert mail follows its recipients', async () => {
  const w = await setUp();
  for (const width of ['phone', 'pc']) {
    const { page, problems } = await signedInPage(browser, stack, w.staffR1, width);
    await page.goto(`${stack.url}/admin/customers/${w.A}`);
    await pageHydrated(page, problems);
    await checkPage(page, problems, 'console-customer', width);
    if (width === 'phone') { await page.close(); continue; }
    // A bad address and phone: the page comes back with both messages and the typed values.
    await page.locator('#f-email').fill('taro-at-example');
    await page.locator('#f-phone').fill('12');
    await page.locator('#f-contact_name').fill('見守 花子');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: '変更を保存' }).click()]);
    await page.locator('#f-email-error').waitFor();
    assert.match(await page.locator('#f-email-error').innerText(), /メールアドレスの形式/);
    assert.match(await page.locator('#f-phone-error').innerText(), /電話番号/);
    assert.equal(await page.locator('#f-contact_name').inputValue(), '見守 花子', 'nothing typed is lost');
    assert.equal(await page.locator('#f-email').getAttribute('aria-invalid'), 'true');
    // The refused form is answered 400 on purpose, which the browser logs; nothing else.
    assert.ok(problems.every((p) => /\b400\b/.test(p)), problems.join('\n'));
    problems.length = 0;
    await checkPage(page, problems, 'console-customer-refused', width);
    assert.equal(stack.sql(`SELECT contact_name FROM customers WHERE id = '${w.A}'`)[0].contact_name, '見守 太郎', 'nothing stored');
    // Corrected, with new recipients.
    await page.locator('#f-email').fill('hanako@example.jp');
    await page.locator('#f-phone').fill('03-9876-5432');
    await page.locator('#f-recipient1').fill('new-it@example.jp');
    await page.locator('#f-recipient2').fill('new-boss@example.jp');
    await Promise.all([page.waitForURL(/done=profile/), page.getByRole('button', { name: '変更を保存' }).click()]);
    assert.match(await page.locator('p.notice').innerText(), /変更しました/);
    const history = await page.locator('table.history').innerText();
    assert.match(history, /new-it@example\.jp, new-boss@example\.jp/);
    assert.match(history, new RegExp(w.staffR1.loginId));
    await page.close();
  }
  const record = await api(stack, 'GET', `/api/v1/admin/customers/${w.A}`);
  assert.deepEqual(record.body.alert_recipients, ['new-it@example.jp', 'new-boss@example.jp']);
  assert.equal(record.body.contact.email, 'hanako@example.jp');
  // The next ★★★ goes to the new recipients only.
  const token = await enrolledDevice(stack, w.A, 'c0c0c0000002', 'utm-支店');
  assert.equal((await sendReport(stack, token, report('r-console-1', [threat('e-console-1')]))).status, 202);
  const mail = await waitFor(async () => (await stack.sink.mails()).find((m) => m.subject.includes('株式会社コンソールA') && /★★★/.test(m.subject)));
  assert.deepEqual([...mail.to].sort(), ['new-boss@example.jp', 'new-it@example.jp']);
});
