// ダッシュボード / セキュリティステータス from the outside: a company with a known set of
// detections sees the problem banner, the counts by ★ and by function (checked against
// the stored rows), its appliances' cards and the ways on; the period picker; a refused
// period is a 400 with the reason; a company without an appliance is told what comes
// next; staff open it read-only under /customers/{id}. In Chromium at phone and PC width
// (axe, no sideways scrolling), with JavaScript off and hydrated.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';
import { launch } from './browser.mjs';
import { newCustomer, enrolledDevice, sendReport, report, threat } from './devices.mjs';
import { readyUser } from './identity.mjs';
import { signedInPage, pageHydrated, checkPage, realProblems } from './pages.mjs';

let stack;
let browser;
const co = {};

const beacon = (id) => threat(id, { function: 'ips', direction: 'outbound', action: 'detected' });
const scan = (id, port) => threat(id, {
  function: 'ips', direction: 'inbound', action: 'blocked',
  threat: { name: `ET SCAN Suspicious inbound to port ${port}`, signature_id: `20${port}`, category: 'scan', vendor_severity: 'medium' },
  src: { ip: '198.51.100.77', port: 40000 }, dst: { ip: '192.168.1.10', port }, url: undefined, file: undefined,
});
const virus = (id) => threat(id, {
  function: 'antivirus', direction: 'outbound', action: 'detoxified',
  threat: { name: 'Trojan.GenericKD.4711', category: 'malware', vendor_severity: 'high' },
  src: { ip: '192.168.1.40', mac: '3c:22:fb:0a:0b:0c' }, dst: { ip: '203.0.113.80', port: 80 },
});

/** Today in Tokyo, and `n` days before it, as YYYY-MM-DD. */
function tokyoDay(daysBack = 0) {
  const t = new Date(Date.now() + 9 * 3600_000 - daysBack * 86_400_000);
  return t.toISOString().slice(0, 10);
}
const slashed = (d) => d.replaceAll('-', '/');

before(async () => {
  [stack, browser] = await Promise.all([startStack({ seed: false }), launch()]);
  // 株式会社ダッシュ: a C2 beacon (★★★) and two blocked scans (★☆☆) on its first
  // appliance, a cleaned virus (★★☆) on its second.
  co.busy = await newCustomer(stack, '株式会社ダッシュ');
  const one = await enrolledDevice(stack, co.busy, 'da0000000001', '本社UTM');
  const two = await enrolledDevice(stack, co.busy, 'da0000000002', '工場UTM');
  assert.equal((await sendReport(stack, one, report('d-1', [beacon('b1'), scan('s1', 22), scan('s2', 3389)]))).status, 202);
  assert.equal((await sendReport(stack, two, report('d-2', [virus('v1')]))).status, 202);
  // 株式会社しずか: one blocked scan only, nothing that needs its admin.
  co.quiet = await newCustomer(stack, '株式会社しずか');
  const q = await enrolledDevice(stack, co.quiet, 'db0000000001', 'しずかUTM');
  assert.equal((await sendReport(stack, q, report('q-1', [scan('q1', 445)]))).status, 202);
  // 株式会社はじめて: no appliance yet.
  co.fresh = await newCustomer(stack, '株式会社はじめて');
  co.busyAdmin = await readyUser(stack, `/api/v1/admin/customers/${co.busy}/accounts`);
  co.quietAdmin = await readyUser(stack, `/api/v1/admin/customers/${co.quiet}/accounts`);
  co.freshAdmin = await readyUser(stack, `/api/v1/admin/customers/${co.fresh}/accounts`);
  co.operator = await readyUser(stack, '/api/v1/admin/operator/accounts');
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The href of the link whose text is `name` (entities decoded). */
function href(html, name) {
  const m = html.match(new RegExp(`<a [^>]*href="([^"]*)"[^>]*>${name}</a>`));
  return m?.[1].replaceAll('&amp;', '&');
}

/** The page's text, tags and scripts removed. */
const text = (html) => html.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

/** Detections per tier and per function as stored, counted independently of the page. */
function stored(customer) {
  const tiers = Object.fromEntries(stack.sql(`SELECT severity, sum(count) AS n FROM threats WHERE customer_id = '${customer}' GROUP BY severity`).map((r) => [r.severity, r.n]));
  const functions = Object.fromEntries(stack.sql(`SELECT function, sum(count) AS n FROM threats WHERE customer_id = '${customer}' GROUP BY function`).map((r) => [r.function, r.n]));
  return { tiers, functions };
}

test('the dashboard shows the problem, the counts by ★ and by function, and every appliance', async () => {
  const { status, html } = await co.busyAdmin.visitor.get('/');
  assert.equal(status, 200);
  const t = text(html);
  assert.match(t, /ご利用の環境で問題が見つかりました/);
  assert.doesNotMatch(t, /問題は見つかりませんでした/);
  assert.match(t, new RegExp(`表示期間: ${slashed(tokyoDay(6))}〜${slashed(tokyoDay(0))}`));
  const { tiers, functions } = stored(co.busy);
  assert.deepEqual(tiers, { high: 1, medium: 1, low: 2 }, 'the data set as rated');
  for (const [stars, key] of [['★★★', 'high'], ['★★☆', 'medium'], ['★☆☆', 'low'], ['調査中', 'investigating']]) {
    assert.match(t, new RegExp(`${stars} ${tiers[key] ?? 0}件`), `${stars} count`);
  }
  assert.match(t, /検知件数（合計 4件）/);
  assert.deepEqual(functions, { ips: 3, antivirus: 1 });
  assert.match(t, /不正侵入防御 3件 .*ウイルス対策 1件/);
  // One card per appliance: name, id, state, detections.
  assert.match(t, /本社UTM ID: da0000000001 オンライン 最終通信: \d{4}\/\d\d\/\d\d \d\d:\d\d 検知 3件/);
  assert.match(t, /工場UTM ID: da0000000002 オンライン 最終通信: [\d/ :]+ 検知 1件/);
  // The ways on: 詳細を確認 is the history of this period; 問題を確認; the comparisons.
  assert.equal(href(html, '詳細を確認'), '/alerts?days=7');
  assert.equal(href(html, '問題を確認'), '/problems');
  assert.equal(href(html, '参加企業平均と比べる'), '/compare/peers');
  assert.equal(href(html, '自社UTM同士を比べる'), '/compare/appliances');
  assert.match(html, /href="\/alerts\?days=7&amp;severity=high"/);
  assert.match(html, /href="\/appliances\/da0000000001"/);
  assert.doesNotMatch(html, /customers\//, 'an admin\'s URLs carry no customer id');
});

test('with nothing that needs the admin the banner says no problem was found', async () => {
  const t = text((await co.quietAdmin.visitor.get('/')).html);
  assert.match(t, /問題は見つかりませんでした/);
  assert.match(t, /★☆☆ 1件/);
  // A handled ★★★ is no longer a problem: the banner follows.
  stack.sql(`UPDATE incidents SET handled_at = ${Date.now()}, handled_note = 'テスト' WHERE customer_id = '${co.busy}'`);
  try {
    assert.match(text((await co.busyAdmin.visitor.get('/')).html), /問題は見つかりませんでした/);
  } finally {
    stack.sql(`UPDATE incidents SET handled_at = NULL, handled_note = NULL WHERE customer_id = '${co.busy}'`);
  }
});

test('the period picker: presets and from–to dates, and a refused period is a 400 that says why', async () => {
  const v = co.busyAdmin.visitor;
  const p30 = await v.get('/?days=30');
  assert.equal(p30.status, 200);
  assert.match(text(p30.html), new RegExp(`表示期間: ${slashed(tokyoDay(29))}〜${slashed(tokyoDay(0))}`));
  assert.match(p30.html, /<a href="\/\?days=30" aria-current="page">直近30日<\/a>/);
  assert.equal(href(p30.html, '詳細を確認'), '/alerts?days=30');
  assert.match(p30.html, /href="\/alerts\?days=30"/, '詳細を確認 keeps the period');
  const range = await v.get(`/?from=${tokyoDay(1)}&to=${tokyoDay(0)}`);
  assert.equal(range.status, 200);
  assert.match(text(range.html), new RegExp(`表示期間: ${slashed(tokyoDay(1))}〜${slashed(tokyoDay(0))}`));
  assert.match(range.html, new RegExp(`href="/alerts\\?from=${tokyoDay(1)}&amp;to=${tokyoDay(0)}"`));
  const refused = [
    [`/?from=2020-01-01&to=${tokyoDay(0)}`, /保存期間は90日間です。\d{4}-\d\d-\d\d以降の期間を指定してください/],
    ['/?from=2026-13-01&to=2026-13-02', /期間の開始日は YYYY-MM-DD の形式の日付で指定してください/],
    [`/?from=${tokyoDay(0)}`, /期間は開始日と終了日の両方を指定してください/],
    [`/?from=${tokyoDay(0)}&to=${tokyoDay(3)}`, /期間の開始日が終了日より後になっています/],
    ['/?days=365', /期間は直近7日・30日・90日のいずれかを選んでください/],
  ];
  for (const [url, message] of refused) {
    const r = await v.get(url);
    assert.equal(r.status, 400, url);
    assert.match(text(r.html), message, url);
    assert.match(r.html, /name="from"/, `${url}: the picker is there to choose again`);
  }
});

test('a company without an appliance is told what happens next', async () => {
  const { status, html } = await co.freshAdmin.visitor.get('/');
  assert.equal(status, 200);
  const t = text(html);
  assert.match(t, /UTM装置がまだ登録されていません/);
  assert.match(t, /初期設定/);
  assert.match(t, /相談窓口/);
});

test('staff open a customer\'s dashboard read-only under /customers/{id}, with links that stay there', async () => {
  const { status, html } = await co.operator.visitor.get(`/customers/${co.busy}`);
  assert.equal(status, 200);
  const t = text(html);
  assert.match(t, /株式会社ダッシュ/);
  assert.match(t, /ご利用の環境で問題が見つかりました/);
  assert.match(t, /閲覧のみ/);
  assert.equal(href(html, '詳細を確認'), `/customers/${co.busy}/alerts?days=7`);
  assert.equal(href(html, '問題を確認'), `/customers/${co.busy}/problems`);
  const main = html.slice(html.indexOf('<main>'));
  assert.doesNotMatch(main, /<form[^>]*method="post"/i, 'nothing to change');
  // A customer admin cannot open another company this way.
  assert.equal((await co.quietAdmin.visitor.get(`/customers/${co.busy}`)).status, 404);
});

for (const width of ['phone', 'pc']) {
  test(`in Chromium at ${width} width: readable without JavaScript, and the period changes in place once hydrated`, async () => {
    const off = await signedInPage(browser, stack, co.busyAdmin, width, { javaScriptEnabled: false });
    try {
      await off.page.goto(`${stack.url}/`);
      await off.page.getByText('ご利用の環境で問題が見つかりました').waitFor();
      await off.page.getByRole('link', { name: '直近30日' }).click();
      await off.page.waitForURL(/\?days=30$/);
      await off.page.getByText(`表示期間: ${slashed(tokyoDay(29))}〜`).waitFor();
      // The date form submits as a plain GET.
      await off.page.locator('input[name=from]').fill(tokyoDay(2));
      await off.page.locator('input[name=to]').fill(tokyoDay(0));
      await off.page.getByRole('button', { name: '表示' }).click();
      await off.page.waitForURL(new RegExp(`from=${tokyoDay(2)}&to=${tokyoDay(0)}`));
      await off.page.getByText(`表示期間: ${slashed(tokyoDay(2))}〜${slashed(tokyoDay(0))}`).waitFor();
    } finally {
      await off.context.close();
    }

    const { page, context, problems } = await signedInPage(browser, stack, co.busyAdmin, width);
    try {
      await page.goto(`${stack.url}/`);
      await pageHydrated(page, problems);
      await checkPage(page, problems, 'dashboard', width);
      await page.evaluate(() => { window.__stayed = true; });
      await page.getByRole('link', { name: '直近90日' }).click();
      await page.waitForURL(/\?days=90$/);
      await page.getByText(`表示期間: ${slashed(tokyoDay(89))}〜`).waitFor();
      await page.locator('input[name=from]').fill(tokyoDay(1));
      await page.locator('input[name=to]').fill(tokyoDay(0));
      await page.getByRole('button', { name: '表示' }).click();
      await page.waitForURL(new RegExp(`from=${tokyoDay(1)}&to=${tokyoDay(0)}`));
      await page.getByText(`表示期間: ${slashed(tokyoDay(1))}〜${slashed(tokyoDay(0))}`).waitFor();
      assert.equal(await page.evaluate(() => window.__stayed), true, 'no full page load');
      assert.deepEqual(realProblems(problems), []);
    } finally {
      await context.close();
    }

    const fresh = await signedInPage(browser, stack, co.freshAdmin, width);
    try {
      await fresh.page.goto(`${stack.url}/`);
      await pageHydrated(fresh.page, fresh.problems);
      await fresh.page.getByText('UTM装置がまだ登録されていません').waitFor();
      await checkPage(fresh.page, fresh.problems, 'dashboard-no-appliance', width);
    } finally {
      await fresh.context.close();
    }
  });
}
