// Every body field of the operator API (and enrollment) walked with bad values (issue 12):
// over-long text, control and bidirectional formatting characters, wrong types, nulls.
// Each must get a clear 4xx in api-v1's error envelope (400 naming the field, where the
// field's own rule refuses it), never a 5xx, and must store nothing; the same body with
// good values is then accepted, so the refusals were the field's doing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';
import { enrolledDevice, newCustomer, report, sendReport, threat } from './devices.mjs';
import { Visitor, address, issueAccount } from './identity.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

/** Bad values for any field; `null` is added for required fields (optional: null = absent). */
const BAD = [
  ['over-long text', 'あ'.repeat(5000)],
  ['a NUL', 'ab\u0000cd'],
  ['a control character', 'ab\u0007cd'],
  ['a line break', 'ab\r\ncd'],
  ['a bidi override', 'invoice\u202Egpj.exe'],
  ['a bidi isolate', 'ab\u2066cd'],
  ['a number', 12345],
  ['a boolean', true],
  ['an array', []],
  ['an object', {}],
];

/** Tables whose rows a refused request may touch: the audit trail, rate counters, token use. */
const BOOKKEEPING = new Set(['audit_log', 'rate_hits', 'api_tokens', 'd1_migrations', '_cf_KV', '_cf_METADATA']);

/** Every row of every table but those in `skip`. */
function snapshot(skip = BOOKKEEPING) {
  const tables = stack.sql("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .map((r) => r.name).filter((t) => !skip.has(t)).sort();
  return Object.fromEntries(tables.map((t) => [t, stack.sql(`SELECT * FROM "${t}"`)]));
}

/**
 * POSTs JSON. A kept-alive connection that wrangler dev closed just as it was reused fails
 * before any answer: it is sent once more on a new one (what is walked here stores nothing).
 */
function post(path, body, token = stack.settings.OPERATOR_TOKEN) {
  const send = () => fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return send().catch((e) => {
    if (e.cause?.message !== 'other side closed') throw e;
    return send();
  });
}

/**
 * Walks every field of `good()` (a fresh valid body per call) through BAD at `path`, then
 * sends a good body. `required`: fields that may not be null; `also`: statuses a field may
 * answer besides 400 (a wrong code is 401, an unknown reseller 404); `allowed`: bad values a
 * field takes by its own rule (a finding may have line breaks, recipients may be none yet).
 */
async function walk(path, good, { required, also = {}, allowed = {}, token, accepted = [200, 201] }) {
  const was = snapshot();
  const fields = Object.keys(good());
  assert.ok(required.every((f) => fields.includes(f)), `${path}: the good body has every required field`);
  for (const field of fields) {
    const values = (required.includes(field) ? [...BAD, ['null', null]] : BAD)
      .filter(([what]) => !(allowed[field] ?? []).includes(what));
    for (const [what, value] of values) {
      const body = { ...good(), [field]: value };
      const res = await post(path, body, token);
      const label = `${path} with ${what} in ${field}`;
      assert.ok(res.status < 500, `${label}: answered ${res.status}, never a 5xx`);
      const answer = await res.json();
      assert.equal(typeof answer?.error?.code, 'string', `${label}: api-v1's error envelope`);
      assert.equal(typeof answer.error.message, 'string', `${label}: a message`);
      if (res.status === 400) {
        assert.equal(answer.error.code, 'invalid_field', label);
        assert.ok(answer.error.path === `$.${field}` || answer.error.path.startsWith(`$.${field}[`),
          `${label}: the path names the field (${answer.error.path})`);
      } else {
        assert.ok((also[field] ?? []).includes(res.status), `${label}: 400 expected, got ${res.status} ${answer.error.code}`);
      }
    }
  }
  assert.deepEqual(snapshot(), was, `${path}: no refused request stored anything`);
  const ok = await post(path, good(), token);
  assert.ok(accepted.includes(ok.status), `${path}: the good body is accepted (${ok.status} ${await ok.text()})`);
}

let seq = 0;
const nextDevice = () => `0f${String(++seq).padStart(10, '0')}`;

test('every body field of the operator API refuses bad values with a clear 400 and stores nothing', async () => {
  const reseller = await (await post('/api/v1/admin/resellers', { name: '株式会社フィールド販売' })).json();
  const customerId = await newCustomer(stack, '株式会社フィールド');

  await walk('/api/v1/admin/customers', () => ({
    name: '株式会社サンプル', reseller_id: reseller.reseller_id, service_start: '2026-12-01',
    paid_from: '2027-01-01', alert_recipients: ['a@example.jp', 'b@example.jp'],
  }), {
    required: ['name', 'service_start', 'alert_recipients'],
    also: { reseller_id: [404] },
    // No recipients yet is a customer the operator completes later.
    allowed: { alert_recipients: ['an array'] },
  });

  await walk(`/api/v1/admin/customers/${customerId}/devices`, () => ({ device_id: nextDevice(), name: 'utm1' }),
    { required: ['device_id', 'name'] });

  for (const path of [`/api/v1/admin/customers/${customerId}/accounts`,
    `/api/v1/admin/resellers/${reseller.reseller_id}/accounts`, '/api/v1/admin/operator/accounts']) {
    await walk(path, () => ({ email: address('field') }), { required: ['email'] });
  }

  await walk('/api/v1/admin/resellers', () => ({ name: '株式会社サンプル販売' }), { required: ['name'] });

  await walk('/api/v1/admin/tokens', () => ({ scope: 'reseller', reseller_id: reseller.reseller_id, name: '販売店CRM連携' }),
    { required: ['scope', 'name'], also: { reseller_id: [404] } });
});

test('an investigation finding refuses bad values with a clear 400 and stores nothing', async () => {
  const customerId = await newCustomer(stack, '株式会社フィールド調査');
  const token = await enrolledDevice(stack, customerId, nextDevice());
  assert.equal((await sendReport(stack, token, report('r-field-1', [threat('e-field-1')]))).status, 202);
  const [incident] = stack.sql(`SELECT id FROM incidents WHERE customer_id = '${customerId}'`);
  await walk(`/api/v1/admin/incidents/${incident.id}/investigation`,
    () => ({ finding: '該当端末のフルスキャンで問題は見つかりませんでした。', severity: 'low', by: '運用担当 山田' }),
    { required: ['finding', 'by'], allowed: { finding: ['a line break'] } });
});

test('every field of an enrollment refuses bad values with a clear 4xx and enrolls nothing', async () => {
  const customerId = await newCustomer(stack, '株式会社フィールド登録');
  const res = await post(`/api/v1/admin/customers/${customerId}/devices`, { device_id: nextDevice(), name: 'utm1' });
  const deviceId = `0f${String(seq).padStart(10, '0')}`;
  const { enrollment_code } = await res.json();
  // A wrong code is 401 whatever it looks like; the good body is tried last.
  await walk('/api/v1/device/enroll', () => ({ device_id: deviceId, enrollment_code, model: 'UTM-S100', firmware: '1.4.2' }),
    { required: ['device_id', 'enrollment_code'], also: { enrollment_code: [401] }, token: null });
});

/** Bad values a person (or a script) can type into a form field: BAD's texts, or nothing. */
const TYPED = [...BAD.filter(([, value]) => typeof value === 'string'), ['nothing', '']];

/** Tables a refused form may touch: the trail, counters and the visitor's own session. */
const FORM_BOOKKEEPING = new Set([...BOOKKEEPING, 'sessions', 'signin_throttle']);

const formSnapshot = () => snapshot(FORM_BOOKKEEPING);

/**
 * Walks each field of a form (`good`: the other fields' values) through TYPED. Every
 * answer is the form's own message (a redirect back to `page` with `?e=`), never a 5xx,
 * and nothing is stored.
 */
async function walkForm(v, action, page, good) {
  const was = formSnapshot();
  for (const field of Object.keys(good)) {
    for (const [what, value] of TYPED) {
      const label = `${action} with ${what} in ${field}`;
      const send = () => v.post(action, { ...good, [field]: value }, { from: page });
      // A kept-alive connection that wrangler dev closed just as it was reused fails
      // before any answer: send once more on a new one, as a browser would.
      const r = await send().catch((e) => {
        if (e.cause?.message !== 'other side closed') throw new Error(`${label}: ${e.message} (${e.cause?.message})`);
        return send();
      });
      assert.ok(r.status < 500, `${label}: answered ${r.status}`);
      assert.equal(r.status, 303, `${label}: the form answers with its page`);
      assert.match(r.location ?? '', new RegExp(`^${page.replace('?', '\\?')}\\?e=[a-z_]+$`), `${label}: a message (${r.location})`);
    }
  }
  assert.deepEqual(formSnapshot(), was, `${action}: no refused form stored anything`);
}

test('every sign-in form field answers bad input with its message and stores nothing', async () => {
  const customerId = await newCustomer(stack, '株式会社フィールド入力');
  const path = `/api/v1/admin/customers/${customerId}/accounts`;
  // First sign-in: the temporary credentials lead to /setup.
  const issued = await issueAccount(stack, path);
  const v = new Visitor(stack.url);
  let r = await v.post('/auth/login', { login_id: issued.loginId, password: issued.password }, { from: '/login' });
  assert.equal(r.location, '/setup');
  const password = `field-walk-${Math.random().toString(36).slice(2, 10)}`;
  const loginId = `walk${Math.random().toString(36).slice(2, 8)}`;
  await walkForm(v, '/auth/setup', '/setup', { login_id: loginId, password, password_confirm: password });
  r = await v.post('/auth/setup', { login_id: loginId, password, password_confirm: password }, { from: '/setup' });
  assert.equal(r.location, '/setup/2fa');
  // Choosing the second factor, and the phone number for SMS codes.
  await walkForm(v, '/auth/2fa', '/setup/2fa', { method: 'none' });
  await walkForm(v, '/auth/sms/send', '/setup/sms', { phone: '09012345678' });
  assert.equal((await stack.sink.sms()).length, 0, 'no text message went out');
  r = await v.post('/auth/2fa', { method: 'none' }, { from: '/setup/2fa' });
  assert.match(r.location, /^\/\?done=2fa_none/);
  // Signed in: changing the password.
  const next = `field-walk-next-${Math.random().toString(36).slice(2, 10)}`;
  await walkForm(v, '/auth/password', '/account', { current: password, password: next, password_confirm: next });
  // A stranger at the sign-in form.
  await walkForm(new Visitor(stack.url), '/auth/login', '/login', { login_id: loginId, password });
  // The account still signs in with what it chose, once the walk's lockout has passed.
  await stack.clock(16 * 60 * 1000);
  try {
    const w = new Visitor(stack.url);
    r = await w.post('/auth/login', { login_id: loginId, password }, { from: '/login' });
    assert.equal(r.location, '/', `signs in: ${r.location}`);
  } finally {
    await stack.clock(0);
  }
  // Bodies no browser sends: bytes that are not UTF-8, a field twice. A plain 4xx.
  const was = formSnapshot();
  const stranger = new Visitor(stack.url);
  for (const [who, action, page, field] of [[v, '/auth/password', '/account', 'current'],
    [stranger, '/auth/login', '/login', 'login_id']]) {
    const csrf = await who.csrf(page);
    for (const [what, body] of [
      ['bytes that are not UTF-8', `csrf=${csrf}&${field}=%FF%FE%FD`],
      ['a field twice', `csrf=${csrf}&${field}=a&${field}=b`],
    ]) {
      const res = await fetch(`${stack.url}${action}`, { method: 'POST', redirect: 'manual', headers: who.formHeaders({}), body });
      await res.text();
      assert.ok(res.status < 500, `${action} with ${what}: answered ${res.status}, never a 5xx`);
    }
  }
  assert.deepEqual(formSnapshot(), was, 'no malformed form stored anything');
});
