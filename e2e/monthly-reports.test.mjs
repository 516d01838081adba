// 月次レポート from the outside: the month so far on its page (without the top lists);
// on the 1st of the next month at 09:00 in Tokyo the cron keeps the month's report and
// mails its highlights to the alert recipients, once however often the tick repeats; the
// kept report's page has the top threats and hosts, the chart as SVG in the server's HTML,
// and prints without the menus; a company with no detection gets its report too; staff
// read it under /customers/{id}; a malformed month is a 400 that says why; the pages in
// Chromium at phone and PC width (axe, no sideways scrolling, no console errors).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';
import { launch } from './browser.mjs';
import { newCustomer, enrolledDevice, sendReport, report, threat, ago } from './devices.mjs';
import { readyUser } from './identity.mjs';
import { signedInPage, pageHydrated, checkPage } from './pages.mjs';

let stack;
let browser;
const co = {};
const text = (html) => html.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
const main = (html) => html.slice(html.indexOf('<main>'), html.indexOf('</main>'));
const tokyo = new Date(Date.now() + 9 * 3600 * 1000);
const month = tokyo.toISOString().slice(0, 7);
const [year, mon] = month.split('-').map(Number);
const label = `${year}年${mon}月`;
// 09:05 in Tokyo on the 1st of the next month.
const nextFirst = new Date(Date.UTC(mon === 12 ? year + 1 : year, mon === 12 ? 0 : mon, 1, 0, 5));
const monthlyMails = async (to) => (await stack.sink.mails(to)).filter((m) => m.subject.includes('月次レポート'));

const scan = (id, i) => threat(id, {
  occurred_at: ago(120 + i), function: 'ips', direction: 'inbound', action: 'blocked',
  threat: { name: 'ET SCAN Suspicious inbound to mySQL port 3306', signature_id: '2010937', category: 'attempted-recon', vendor_severity: 'low' },
  src: { ip: '198.51.100.23', port: 40000 + i }, dst: { ip: '192.168.1.10', port: 3306 }, url: undefined, file: undefined,
});

before(async () => {
  [stack, browser] = await Promise.all([startStack({ seed: false }), launch()]);
  co.id = await newCustomer(stack, '株式会社げつじ', ['report@getsuji.example', 'boss@getsuji.example']);
  const token = await enrolledDevice(stack, co.id, 'ce0000000001', '本社UTM');
  const events = [...Array.from({ length: 5 }, (_, i) => scan(`m-${i}`, i)), threat('m-c2')];
  assert.equal((await sendReport(stack, token, report('m-1', events))).status, 202);
  co.quiet = await newCustomer(stack, '株式会社しずか', ['quiet@shizuka.example']);
  co.admin = await readyUser(stack, `/api/v1/admin/customers/${co.id}/accounts`);
  co.quietAdmin = await readyUser(stack, `/api/v1/admin/customers/${co.quiet}/accounts`);
  co.operator = await readyUser(stack, '/api/v1/admin/operator/accounts');
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('the month so far has its page, its counts and no top lists yet', async () => {
  const list = await co.admin.visitor.get('/reports');
  assert.equal(list.status, 200);
  assert.match(text(main(list.html)), new RegExp(`${label} （今月・作成中）`));
  const r = await co.admin.visitor.get(`/reports/${month}`);
  assert.equal(r.status, 200);
  const page = text(main(r.html));
  assert.match(page, /今月のレポートは作成中です/);
  assert.match(page, /検知件数（合計 6件）/);
  assert.match(page, /月が終わったあと翌月1日に作成するレポートに載ります/);
  assert.match(r.html, /<svg class="chart"/);
});

test('on the 1st at 09:00 the report is kept and mailed once to each recipient, however often the tick runs', async () => {
  assert.equal((await stack.cron(new Date(nextFirst.getTime() - 10 * 60 * 1000))).monthly_reports, 0, 'not before 09:00');
  // The reports wait for the peer figures of the whole month (ten days a tick).
  let made = 0;
  let tick = 0;
  for (; tick < 6 && made === 0; tick += 1) {
    made = (await stack.cron(new Date(nextFirst.getTime() + tick * 60 * 1000))).monthly_reports;
  }
  assert.ok(made >= 2, `made ${made} by tick ${tick}`);
  // The next ticks send the queued mails and make nothing again.
  for (let i = 0; i < 2; i += 1, tick += 1) {
    const again = await stack.cron(new Date(nextFirst.getTime() + tick * 60 * 1000));
    assert.equal(again.monthly_reports, 0);
  }
  for (const to of ['report@getsuji.example', 'boss@getsuji.example']) {
    const mails = await monthlyMails(to);
    assert.equal(mails.length, 1, to);
    assert.match(mails[0].subject, new RegExp(`【見守りサービス】${label}の月次レポート（株式会社げつじ）`));
    assert.match(mails[0].text, /対応が必要な問題が残っています/);
    assert.match(mails[0].text, new RegExp(`/reports/${month}`));
  }
  const quiet = await monthlyMails('quiet@shizuka.example');
  assert.equal(quiet.length, 1);
  assert.match(quiet[0].text, /この月の検知はありませんでした/);
  assert.equal(stack.sql(`SELECT count(*) AS n FROM monthly_reports WHERE customer_id = '${co.id}'`)[0].n, 1);
  // The ticks as of next month cleaned up today's sessions as expired: sign in anew.
  co.admin = await readyUser(stack, `/api/v1/admin/customers/${co.id}/accounts`);
  co.quietAdmin = await readyUser(stack, `/api/v1/admin/customers/${co.quiet}/accounts`);
  co.operator = await readyUser(stack, '/api/v1/admin/operator/accounts');
});

test('the kept report has the top threats and hosts, and staff read it; a bad month is a 400', async () => {
  const r = await co.admin.visitor.get(`/reports/${month}`);
  assert.equal(r.status, 200);
  const page = text(main(r.html));
  assert.doesNotMatch(page, /作成中/);
  assert.match(page, /多かった脅威 ET SCAN Suspicious inbound to mySQL port 3306 5件/);
  assert.match(page, /検知の多かった社内の端末 192\.168\.1\.10 5件/);
  assert.match(page, /本社UTM/);
  const quiet = await co.quietAdmin.visitor.get(`/reports/${month}`);
  assert.match(text(main(quiet.html)), /この月の検知はありませんでした/);
  const staff = await co.operator.visitor.get(`/customers/${co.id}/reports/${month}`);
  assert.equal(staff.status, 200);
  assert.match(text(main(staff.html)), /株式会社げつじ/);
  const bad = await co.admin.visitor.get('/reports/2026-13');
  assert.equal(bad.status, 400);
  assert.match(text(main(bad.html)), /月は YYYY-MM の形式で指定してください/);
  const future = await co.admin.visitor.get(`/reports/${year + 1}-01`);
  assert.equal(future.status, 404);
  assert.match(text(main(future.html)), /のレポートはまだありません/);
});

for (const width of ['phone', 'pc']) {
  test(`in Chromium at ${width} width: the list and the report, without JavaScript, hydrated and printed`, async () => {
    const off = await signedInPage(browser, stack, co.admin, width, { javaScriptEnabled: false });
    try {
      await off.page.goto(`${stack.url}/reports/${month}`);
      await off.page.getByText('多かった脅威').waitFor();
    } finally {
      await off.context.close();
    }
    const { page, context, problems } = await signedInPage(browser, stack, co.admin, width);
    try {
      await page.goto(`${stack.url}/reports`);
      await pageHydrated(page, problems);
      await checkPage(page, problems, 'reports', width);
      await page.goto(`${stack.url}/reports/${month}`);
      await pageHydrated(page, problems);
      await page.getByText('多かった脅威').waitFor();
      await checkPage(page, problems, 'report', width);
      await page.emulateMedia({ media: 'print' });
      assert.equal(await page.locator('nav.portal').isVisible(), false, 'no menu on paper');
      assert.equal(await page.locator('svg.chart').isVisible(), true, 'the chart on paper');
      if (width === 'pc') await page.pdf?.({ path: new URL('./artifacts/screenshots/report.pdf', import.meta.url).pathname, format: 'A4' }).catch(() => {});
    } finally {
      await context.close();
    }
  });
}
