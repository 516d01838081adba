// The portal's pages past the dashboard, from the outside, on a known data set:
// 問題を確認 (most urgent first, what to do, 対応しました with a note, 対応済み), 検知履歴
// (newest first, repeats counted, every filter by URL and by form, keyset pages that
// neither skip nor repeat), one detection in full (defanged URL, the rule, its incident
// and mail) and the alert mail's link to it, an appliance's status (the clients warning,
// what to do when offline, its outages), インターネット利用状況 and 通知メール履歴; staff
// read the same pages under /customers/{id}; each page in Chromium at phone and PC width
// (axe, no sideways scrolling, no console errors), without JavaScript and hydrated.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';
import { launch } from './browser.mjs';
import { newCustomer, enrolledDevice, sendReport, report, threat, usage, ago } from './devices.mjs';
import { readyUser } from './identity.mjs';
import { signedInPage, pageHydrated, checkPage, realProblems } from './pages.mjs';

let stack;
let browser;
const co = {};

const beacon = (id, host = '192.168.1.23') => threat(id, {
  function: 'ips', direction: 'outbound', action: 'detected',
  src: { ip: host, port: 50122, mac: '3c:22:fb:01:02:03' },
});
const scan = (id, port, at = 30) => threat(id, {
  occurred_at: ago(at), function: 'ips', direction: 'inbound', action: 'blocked',
  threat: { name: `ET SCAN Suspicious inbound to port ${port}`, signature_id: `30${port}`, category: 'scan', vendor_severity: 'medium' },
  src: { ip: '198.51.100.77', port: 40000 }, dst: { ip: '192.168.1.10', port }, url: undefined, file: undefined,
});
const virus = (id) => threat(id, {
  function: 'antivirus', direction: 'outbound', action: 'detoxified',
  threat: { name: 'Trojan.GenericKD.4711', category: 'malware', vendor_severity: 'high' },
  src: { ip: '192.168.1.40', mac: '3c:22:fb:0a:0b:0c' }, dst: { ip: '203.0.113.80', port: 80 },
  url: 'http://evil.example/payload.exe',
});
const odd = (id) => threat(id, {
  function: 'other', direction: 'outbound', action: 'detected',
  threat: { name: 'Unusual traffic pattern 77', category: 'misc-unknown', vendor_severity: 'medium' },
  src: { ip: '192.168.1.77' }, dst: { ip: '203.0.113.77', port: 8443 }, url: undefined, file: undefined,
});

/** The page's text, tags and scripts removed. */
const text = (html) => html.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
const main = (html) => html.slice(html.indexOf('<main>'), html.indexOf('</main>'));
const waitFor = async (check, what, ms = 15_000) => {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

before(async () => {
  [stack, browser] = await Promise.all([startStack({ seed: false }), launch()]);
  // 株式会社ページ: a C2 beacon (★★★) thrice, a cleaned virus (★★☆), an undecidable
  // event (調査中) and 60 different blocked scans (★☆☆) on two appliances; usage.
  co.id = await newCustomer(stack, '株式会社ページ', ['it@page.example', 'boss@page.example']);
  const one = await enrolledDevice(stack, co.id, 'ca0000000001', '本社UTM');
  const two = await enrolledDevice(stack, co.id, 'ca0000000002', '倉庫UTM');
  co.one = one;
  co.two = two;
  const scans = Array.from({ length: 60 }, (_, i) => scan(`s${i}`, 1000 + i, 600 + i * 5));
  assert.equal((await sendReport(stack, one, report('p-1', [...scans.slice(0, 30)]))).status, 202);
  assert.equal((await sendReport(stack, one, report('p-2', [...scans.slice(30), beacon('b1'), beacon('b2'), beacon('b3')], { clients: 130 }))).status, 202);
  assert.equal((await sendReport(stack, two, report('p-3', [virus('v1'), odd('o1'),
    usage('u1', { name: 'sns', hits: 500, bytes: 3_000_000 }),
    usage('u2', { kind: 'application', name: 'video-streaming', hits: 20, bytes: 900_000_000, client: { ip: '192.168.1.40' } }),
  ]))).status, 202);
  co.admin = await readyUser(stack, `/api/v1/admin/customers/${co.id}/accounts`);
  co.other = await newCustomer(stack, '株式会社よそ');
  co.otherAdmin = await readyUser(stack, `/api/v1/admin/customers/${co.other}/accounts`);
  co.operator = await readyUser(stack, '/api/v1/admin/operator/accounts');
  // The ★★★ mail goes out at once; wait until it is handed to the sink.
  await waitFor(() => stack.sql(`SELECT count(*) AS n FROM mails WHERE customer_id = '${co.id}' AND status = 'sent'`)[0].n > 0, 'the ★★★ mail');
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('the data set is rated as the pages expect', () => {
  const tiers = Object.fromEntries(stack.sql(`SELECT severity, count(*) AS n FROM threats WHERE customer_id = '${co.id}' GROUP BY severity`).map((r) => [r.severity, r.n]));
  assert.deepEqual(tiers, { high: 1, medium: 1, investigating: 1, low: 60 });
});

test('問題を確認 lists what needs the admin, most urgent first, with what to do', async () => {
  const { status, html } = await co.admin.visitor.get('/problems');
  assert.equal(status, 200);
  const t = text(main(html));
  const order = ['★★★', '★★☆', '調査中'].map((s) => t.indexOf(`${s} マルウェアに`));
  assert.ok(order.every((i) => i > 0) && order[0] < order[1] && order[1] < order[2], `order ${order}`);
  assert.doesNotMatch(t, /★☆☆ マルウェア/, '★☆☆ waits for nobody');
  assert.match(t, /本社UTM/);
  assert.match(t, /192\.168\.1\.23（MAC 3c:22:fb:01:02:03）/);
  assert.match(t, /ET MALWARE Win32\/Emotet CnC Beacon（不正侵入防御）/);
  assert.match(t, /\d\d:\d\d（3回）/, 'the beacon thrice');
  assert.match(t, /検知のみ（通過）・社内から外部へ/);
  assert.match(t, /指令サーバー/, 'why it was rated so');
  assert.match(t, /ネットワークから外し.*フルスキャン/, 'what to do');
  assert.match(t, /調査結果のご報告」をメールでお送りします/);
  assert.equal([...html.matchAll(/action="\/problems\/handled"/g)].length, 3, 'a form per open problem');
  assert.match(t, /対応済みの問題はまだありません/);
});

test('対応しました records who, when and the note, once, and the problem moves to 対応済み', async () => {
  const [{ id }] = stack.sql(`SELECT id FROM incidents WHERE customer_id = '${co.id}' AND severity_rank = 1`);
  const v = co.admin.visitor;
  const long = await v.post('/problems/handled', { incident: String(id), note: 'あ'.repeat(501) }, { from: '/problems' });
  assert.equal(long.location, `/problems?e=note_long#i${id}`);
  assert.match(text((await v.get('/problems?e=note_long')).html), /メモは500文字以内で入力してください/);
  const forged = await v.post('/problems/handled', { incident: String(id), note: 'x', csrf: 'forged' }, { csrf: 'forged' });
  assert.notEqual(forged.location, '/problems?done=handled#handled');
  // Another company's admin cannot mark it: answered like a missing incident.
  const stranger = await co.otherAdmin.visitor.post('/problems/handled', { incident: String(id), note: 'x' }, { from: '/problems' });
  assert.equal(stranger.location, '/problems');
  assert.equal(stack.sql(`SELECT handled_at FROM incidents WHERE id = ${id}`)[0].handled_at, null);

  const ok = await v.post('/problems/handled', { incident: String(id), note: 'フルスキャン済み。\r\n検出なし。' }, { from: '/problems' });
  assert.equal(ok.location, '/problems?done=handled#handled');
  const [row] = stack.sql(`SELECT handled_at, handled_by, handled_note FROM incidents WHERE id = ${id}`);
  assert.equal(row.handled_by, co.admin.accountId);
  assert.equal(row.handled_note, 'フルスキャン済み。\n検出なし。');
  assert.ok(Math.abs(row.handled_at - Date.now()) < 60_000);
  const again = await v.post('/problems/handled', { incident: String(id), note: '二度目' }, { from: '/problems' });
  assert.equal(again.location, '/problems?done=handled#handled');
  assert.equal(stack.sql(`SELECT handled_note FROM incidents WHERE id = ${id}`)[0].handled_note, 'フルスキャン済み。\n検出なし。', 'the first record stands');
  assert.equal(stack.sql(`SELECT count(*) AS n FROM audit_log WHERE event = 'incident.handled' AND account_id = '${co.admin.accountId}'`)[0].n, 1);

  const t = text(main((await v.get('/problems?done=handled')).html));
  assert.match(t, /「対応しました」として記録しました/);
  const handled = t.slice(t.indexOf('対応済み '));
  assert.match(handled, /★★☆ マルウェアに感染している可能性があります/);
  assert.match(handled, /対応しました: \d{4}\/\d\d\/\d\d \d\d:\d\d（/);
  assert.match(handled, /フルスキャン済み。 検出なし。/);
  assert.equal([...(await v.get('/problems')).html.matchAll(/action="\/problems\/handled"/g)].length, 2);
  // Staff read the record and get no form.
  const staff = await co.operator.visitor.get(`/customers/${co.id}/problems`);
  assert.equal(staff.status, 200);
  assert.match(text(staff.html), /フルスキャン済み。/);
  assert.doesNotMatch(main(staff.html), /<form[^>]*method="post"/i);
  assert.equal((await co.operator.visitor.post('/problems/handled', { incident: String(id) }, { from: '/' })).location, '/');
});

/** Every page of `path` (with its query), following 次の50件: the alert ids in order. */
async function walk(v, path) {
  const ids = [];
  let next = path;
  for (let pages = 0; next; pages += 1) {
    assert.ok(pages < 20);
    const { status, html } = await v.get(next);
    assert.equal(status, 200, next);
    ids.push(...[...html.matchAll(/data-alert-id="(\d+)"/g)].map((m) => Number(m[1])));
    next = html.match(/<a[^>]*href="([^"]*)"[^>]*>次の50件<\/a>/)?.[1].replaceAll('&amp;', '&');
  }
  return ids;
}

test('検知履歴: newest first, a page at a time, every row once, repeats counted', async () => {
  const v = co.admin.visitor;
  const ids = await walk(v, '/alerts?days=7');
  const stored = stack.sql(`SELECT id FROM threats WHERE customer_id = '${co.id}' ORDER BY last_at DESC, id DESC`).map((r) => r.id);
  assert.equal(stored.length, 63);
  assert.deepEqual(ids, stored);
  const first = await v.get('/alerts?days=7');
  assert.equal([...first.html.matchAll(/data-alert-id=/g)].length, 50);
  assert.match(text(first.html), /ET MALWARE Win32\/Emotet CnC Beacon 3回/);
});

test('検知履歴 filters by ★, function, appliance, host and action, and keeps them across pages', async () => {
  const v = co.admin.visitor;
  const count = (where) => stack.sql(`SELECT count(*) AS n FROM threats WHERE customer_id = '${co.id}' AND ${where}`)[0].n;
  for (const [query, where] of [
    ['severity=low', "severity = 'low'"],
    ['severity=investigating', "severity = 'investigating'"],
    ['function=antivirus', "function = 'antivirus'"],
    ['device=ca0000000002', "device_id = 'ca0000000002'"],
    ['host=192.168.1.40', "host = '192.168.1.40'"],
    ['action=blocked', "action = 'blocked'"],
    ['severity=low&device=ca0000000001&action=blocked', "severity = 'low' AND device_id = 'ca0000000001' AND action = 'blocked'"],
  ]) {
    const ids = await walk(v, `/alerts?days=7&${query}`);
    assert.equal(ids.length, count(where), query);
    assert.equal(new Set(ids).size, ids.length, `${query}: no repeats`);
  }
  // The filter form shows what was chosen.
  const { html } = await v.get('/alerts?days=7&severity=low&host=192.168.1.10');
  assert.match(html, /<option value="low" selected/);
  assert.match(html, /name="host" value="192.168.1.10"/);
  // Values that are not one of the choices: a 400 with the reason, never a 500.
  for (const [query, message] of [
    ['severity=critical', /重要度の指定が正しくありません/],
    ['host=pc-01', /IPアドレス/],
    ['device=../../x', /UTM装置の指定が正しくありません/],
    ['after=yesterday', /ページの指定が正しくありません/],
    ['days=365', /./],
  ]) {
    const r = await v.get(`/alerts?${query}`);
    assert.equal(r.status, 400, query);
    assert.match(text(main(r.html)), message, query);
  }
  // Another company's appliance filters to nothing of theirs.
  assert.equal((await walk(co.otherAdmin.visitor, '/alerts?days=7&device=ca0000000001')).length, 0);
});

test('a detection in full: every field, the rule and why, its incident and the mail about it', async () => {
  const v = co.admin.visitor;
  const [virusRow] = stack.sql(`SELECT id FROM threats WHERE customer_id = '${co.id}' AND function = 'antivirus'`);
  const { status, html } = await v.get(`/alerts/${virusRow.id}`);
  assert.equal(status, 200);
  const t = text(main(html));
  for (const shown of ['Trojan.GenericKD.4711', '無害化', '社内から外部へ', '倉庫UTM（ca0000000002）', '192.168.1.40',
    '3c:22:fb:0a:0b:0c', '203.0.113.80', 'invoice.doc.exe', 'ab'.repeat(32), 'v1', '判定ルール:', '対応済み']) {
    assert.ok(t.includes(shown), `shows ${shown}`);
  }
  assert.match(t, /hxxp\[:\/\/\]evil\[\.\]example\/payload\[\.\]exe/, 'the URL defanged');
  assert.doesNotMatch(html, /href="[^"]*evil/, 'never a link');
  assert.doesNotMatch(html, /http:\/\/evil\.example/);
  // The ★★★ beacon was mailed: its detail names the mail, and the mail's link leads here.
  const [beaconRow] = stack.sql(`SELECT id FROM threats WHERE customer_id = '${co.id}' AND severity = 'high'`);
  const b = text(main((await v.get(`/alerts/${beaconRow.id}`)).html));
  assert.match(b, /重要度：★★★/);
  assert.match(b, /送信済み/);
  const mail = (await stack.sink.mails('it@page.example')).find((m) => m.subject.includes('★★★'));
  const link = mail.text.match(/http:\/\/[^\s]+\/incidents\/(\d+)/);
  assert.ok(link, mail.text);
  const followed = await v.get(`/incidents/${link[1]}`);
  assert.equal(followed.location, `/alerts/${beaconRow.id}`);
  assert.equal((await co.otherAdmin.visitor.get(`/incidents/${link[1]}`)).location, '/problems', 'not theirs: nothing');
  // Another company's detection is a 404 like a missing one.
  assert.equal((await co.otherAdmin.visitor.get(`/alerts/${virusRow.id}`)).status, 404);
  assert.equal((await v.get('/alerts/99999999')).status, 404);
  assert.equal((await v.get('/alerts/abc')).status, 404);
});

test('an appliance: state and since when, firmware, clients over 100 warned, outages, and what to do offline', async () => {
  const v = co.admin.visitor;
  let t = text(main((await v.get('/appliances/ca0000000001')).html));
  assert.match(t, /本社UTM オンライン \d{4}\/\d\d\/\d\d \d\d:\d\dから/);
  assert.match(t, /ファームウェア 1\.4\.2/);
  assert.match(t, /定義ファイルのバージョン 2026\.11\.25\.01/);
  assert.match(t, /接続している端末 130台/);
  assert.match(t, /目安の100台を超えています/);
  assert.match(t, /停止の記録はありません/);
  t = text(main((await v.get('/appliances/ca0000000002')).html));
  assert.match(t, /接続している端末 37台/);
  assert.doesNotMatch(t, /目安の100台を超えています/);
  // Silent past OFFLINE_AFTER_MIN: the cron's sweep records the outage; the page says what to do.
  stack.sql(`UPDATE devices SET last_seen_at = ${Date.now() - 20 * 60_000} WHERE id = 'ca0000000002'`);
  await stack.cron();
  t = text(main((await v.get('/appliances/ca0000000002')).html));
  assert.match(t, /倉庫UTM オフライン/);
  assert.match(t, /UTM装置と通信できていません/);
  assert.match(t, /電源が入っているか/);
  assert.match(t, /LANケーブル/);
  assert.match(t, /相談窓口へご連絡ください/);
  assert.match(t, /停止: \d{4}\/\d\d\/\d\d \d\d:\d\d 検知: [\d/ :]+ 復旧: 停止中/);
  // It reports again: the next sweep closes the outage.
  assert.equal((await sendReport(stack, co.two, report('p-4', []))).status, 202);
  await stack.cron();
  t = text(main((await v.get('/appliances/ca0000000002')).html));
  assert.match(t, /倉庫UTM オンライン/);
  assert.match(t, /復旧: \d{4}\/\d\d\/\d\d \d\d:\d\d/);
  assert.equal((await co.otherAdmin.visitor.get('/appliances/ca0000000002')).status, 404);
  assert.equal((await v.get('/appliances/zz')).status, 404);
});

test('インターネット利用状況: top names by hits and bytes, per appliance and host, recorded not blocked', async () => {
  const { status, html } = await co.admin.visitor.get('/usage?days=7');
  assert.equal(status, 200);
  const t = text(main(html));
  assert.match(t, /遮断されたわけではありません/);
  assert.match(t, /Webカテゴリ（アクセス回数の多い順） sns 500回/);
  assert.match(t, /アプリケーション（通信量の多い順） video-streaming 858\.3 MB/);
  assert.match(t, /倉庫UTM 機器ID ca0000000002/);
  assert.match(t, /192\.168\.1\.40 20回・858\.3 MB/);
  assert.equal((await co.admin.visitor.get('/usage?from=2020-01-01&to=2020-01-02')).status, 400);
});

test('通知メール履歴: every mail with its subject, addresses and whether it was delivered', async () => {
  const { status, html } = await co.admin.visitor.get('/mails');
  assert.equal(status, 200);
  const t = text(main(html));
  const [mail] = stack.sql(`SELECT subject FROM mails WHERE customer_id = '${co.id}' AND status = 'sent' ORDER BY created_at LIMIT 1`);
  assert.ok(t.includes(mail.subject), mail.subject);
  assert.match(t, /宛先: it@page\.example、boss@page\.example/);
  assert.match(t, /送信済み（\d{4}\/\d\d\/\d\d \d\d:\d\d）/);
  assert.match(t, /検知のお知らせ/);
  // A mail still being retried says so.
  stack.sql(`UPDATE mails SET status = 'queued', attempts = 2, sent_at = NULL, next_attempt_at = ${Date.now() + 3_600_000} WHERE customer_id = '${co.id}'`);
  try {
    assert.match(text(main((await co.admin.visitor.get('/mails')).html)), /送信中（2回失敗、[\d/ :]+に再送します）/);
  } finally {
    stack.sql(`UPDATE mails SET status = 'sent', attempts = 1, sent_at = created_at WHERE customer_id = '${co.id}'`);
  }
  assert.match(text(main((await co.otherAdmin.visitor.get('/mails')).html)), /お送りしたメールはまだありません/);
});

test('staff read every page of a customer under /customers/{id}, and a customer admin cannot', async () => {
  const [alert] = stack.sql(`SELECT id FROM threats WHERE customer_id = '${co.id}' LIMIT 1`);
  for (const page of ['problems', 'alerts', `alerts/${alert.id}`, 'appliances/ca0000000001', 'usage', 'mails']) {
    const r = await co.operator.visitor.get(`/customers/${co.id}/${page}`);
    assert.equal(r.status, 200, page);
    assert.match(r.html, /閲覧のみ/, page);
    assert.doesNotMatch(main(r.html), /<form[^>]*method="post"/i, `${page}: nothing to change`);
    for (const href of [...main(r.html).matchAll(/href="(\/[^"]*)"/g)].map((m) => m[1])) {
      if (href === '/') continue;
      assert.ok(href.startsWith(`/customers/${co.id}`), `${page}: ${href} stays under the customer`);
    }
    assert.equal((await co.otherAdmin.visitor.get(`/customers/${co.id}/${page}`)).status, 404, page);
    // The operator's own URLs without an id are no customer's.
    assert.equal((await co.operator.visitor.get(`/${page}`)).status, 404, `/${page} for staff`);
  }
});

const PAGES = [
  ['problems', '/problems', '未対応の問題'],
  ['alerts', '/alerts?days=7', '検知履歴'],
  ['alert', null, '判定の理由'],
  ['appliance', '/appliances/ca0000000001', 'UTM装置の情報'],
  ['usage', '/usage?days=7', '会社全体'],
  ['mails', '/mails', '通知メール履歴'],
];

for (const width of ['phone', 'pc']) {
  test(`in Chromium at ${width} width: every page, without JavaScript and hydrated`, async () => {
    const [virusRow] = stack.sql(`SELECT id FROM threats WHERE customer_id = '${co.id}' AND function = 'antivirus'`);
    const off = await signedInPage(browser, stack, co.admin, width, { javaScriptEnabled: false });
    try {
      // The filters are a plain GET form.
      await off.page.goto(`${stack.url}/alerts?days=7`);
      await off.page.locator('select[name=severity]').selectOption('medium');
      await off.page.getByRole('button', { name: '絞り込む' }).click();
      await off.page.waitForURL(/severity=medium/);
      await off.page.getByText('Trojan.GenericKD.4711').waitFor();
      assert.equal(await off.page.locator('[data-alert-id]').count(), 1);
    } finally {
      await off.context.close();
    }
    const { page, context, problems } = await signedInPage(browser, stack, co.admin, width);
    try {
      for (const [name, path, heading] of PAGES) {
        await page.goto(`${stack.url}${path ?? `/alerts/${virusRow.id}`}`);
        await pageHydrated(page, problems);
        await page.getByText(heading, { exact: false }).first().waitFor();
        await checkPage(page, problems, name, width);
      }
      // Hydrated, the filter form narrows the list in place.
      await page.goto(`${stack.url}/alerts?days=7`);
      await pageHydrated(page, problems);
      await page.evaluate(() => { window.__stayed = true; });
      await page.locator('select[name=function]').selectOption('antivirus');
      await page.getByRole('button', { name: '絞り込む' }).click();
      await page.waitForURL(/function=antivirus/);
      await page.getByText('Trojan.GenericKD.4711').waitFor();
      await waitFor(async () => (await page.locator('[data-alert-id]').count()) === 1, 'the narrowed list');
      assert.equal(await page.evaluate(() => window.__stayed), true, 'no full page load');
      // 対応しました from the page.
      await page.goto(`${stack.url}/problems`);
      await pageHydrated(page, problems);
      const before = await page.locator('form.handle').count();
      if (before > 0) {
        await page.locator('form.handle textarea').first().fill(`${width}で確認しました`);
        await page.locator('form.handle button').first().click();
        await page.waitForURL(/done=handled/);
        await page.getByText('「対応しました」として記録しました').waitFor();
        assert.equal(await page.locator('form.handle').count(), before - 1);
      }
      assert.deepEqual(realProblems(problems), []);
    } finally {
      await context.close();
    }
    const staff = await signedInPage(browser, stack, co.operator, width);
    try {
      await staff.page.goto(`${stack.url}/customers/${co.id}/problems`);
      await pageHydrated(staff.page, staff.problems);
      await checkPage(staff.page, staff.problems, 'problems-staff', width);
    } finally {
      await staff.context.close();
    }
  });
}
