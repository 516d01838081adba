// 参加企業平均と比べる and 自社UTM同士を比べる from the outside. Companies enroll and report
// today; the cron keeps the day's figures. With nine other companies the average is
// withheld (PEER_MIN_COMPANIES = 10 others); with ten it is shown, without the viewer's
// own detections, with where the viewer stands and the per-day chart as SVG in the
// server's HTML (readable without JavaScript); the viewer's appliances side by side with
// their chart; staff read both under /customers/{id}; both pages in Chromium at phone and
// PC width (axe, no sideways scrolling, no console errors).
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
const today = () => new Date(Date.now() + 9 * 3600 * 1000).toISOString().slice(0, 10);
const text = (html) => html.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
const main = (html) => html.slice(html.indexOf('<main>'), html.indexOf('</main>'));

/** `n` blocked scans from outside, `prefix`ed event ids, on `function`. */
const scans = (prefix, n, fn = 'ips') => Array.from({ length: n }, (_, i) => threat(`${prefix}-${i}`, {
  occurred_at: ago(60 + i), function: fn, direction: 'inbound', action: 'blocked',
  threat: { name: `ET SCAN probe ${i % 3}`, signature_id: `40${i % 3}`, category: 'scan', vendor_severity: 'low' },
  src: { ip: '198.51.100.9', port: 40000 + i }, dst: { ip: '192.168.1.10', port: 22 }, url: undefined, file: undefined,
}));

/** A company with one appliance that reported `n` detections today. */
async function peer(k, n) {
  const id = await newCustomer(stack, `株式会社ピア${k}`);
  const device = `cb00000000${k.toString(16).padStart(2, '0')}`;
  const token = await enrolledDevice(stack, id, device, `peer${k}`);
  assert.equal((await sendReport(stack, token, report(`pr-${k}`, scans(`p${k}`, n)))).status, 202);
  return id;
}

before(async () => {
  [stack, browser] = await Promise.all([startStack({ seed: false }), launch()]);
  // 株式会社くらべる: 本社 with 12 IPS detections, 支店 with 2 antivirus ones.
  co.id = await newCustomer(stack, '株式会社くらべる');
  const honsha = await enrolledDevice(stack, co.id, 'cc0000000001', '本社');
  const shiten = await enrolledDevice(stack, co.id, 'cc0000000002', '支店');
  assert.equal((await sendReport(stack, honsha, report('c-1', scans('h', 12), { clients: 140 }))).status, 202);
  assert.equal((await sendReport(stack, shiten, report('c-2', scans('s', 2, 'antivirus')))).status, 202);
  // Nine others, with 1..9 detections each.
  for (let k = 1; k <= 9; k += 1) await peer(k, k);
  co.admin = await readyUser(stack, `/api/v1/admin/customers/${co.id}/accounts`);
  co.operator = await readyUser(stack, '/api/v1/admin/operator/accounts');
  await stack.cron();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('with nine other companies the average is withheld, and no figure of theirs shows', async () => {
  const r = await co.admin.visitor.get(`/compare/peers?from=${today()}&to=${today()}`);
  assert.equal(r.status, 200);
  const page = text(main(r.html));
  assert.match(page, /参加企業数が少ないため、平均値はまだ表示できません/);
  assert.doesNotMatch(r.html, /<svg class="chart"/);
  assert.doesNotMatch(page, /上位|平均的な件数|少ない方/);
});

test('with ten, the average of the others (not the viewer) and where the viewer stands', async () => {
  await peer(10, 10);
  await stack.cron();
  const r = await co.admin.visitor.get(`/compare/peers?from=${today()}&to=${today()}`);
  assert.equal(r.status, 200);
  const page = text(main(r.html));
  // The others have 1..10: 5.5 a day; the viewer's 14 are above the ninetieth cut point.
  assert.match(page, /上位 10% に入る多さです/);
  assert.match(page, /自社の検知 14件/);
  assert.match(page, /参加企業平均 6件/);
  assert.match(page, /10社以上/);
  assert.match(page, /不正侵入防御 12件 5.5件|不正侵入防御 12件 6件/);
  // The chart is in the server's HTML, with its title, and the table beside it.
  assert.match(r.html, /<svg class="chart"[^>]*role="img"/);
  assert.match(r.html, /<title id="peers-per-day-title">1日ごとの検知件数（自社と参加企業平均）<\/title>/);
  assert.match(page, /表で見る/);
  // A week back: the days before today had no companies taking part, so it is withheld.
  const week = await co.admin.visitor.get('/compare/peers?days=7');
  assert.match(text(main(week.html)), /参加企業数が少ないため/);
});

test('自社UTM同士を比べる: each appliance with its detections, tiers, online share, clients and the chart', async () => {
  const r = await co.admin.visitor.get(`/compare/appliances?from=${today()}&to=${today()}`);
  assert.equal(r.status, 200);
  const html = main(r.html);
  const page = text(html);
  assert.match(page, /本社 ID: cc0000000001 検知 12件/);
  assert.match(page, /支店 ID: cc0000000002 検知 2件/);
  assert.match(page, /ウイルス対策 2件/);
  assert.match(page, /接続端末 140台/);
  assert.match(page, /目安の100台を超えています/);
  assert.match(page, /稼働率 \d+%/);
  assert.match(html, /<svg class="chart"/);
  assert.match(html, /<title id="appliances-per-day-title">/);
});

test('staff read both comparisons of a customer under /customers/{id}; a bad period is a 400 that says why', async () => {
  for (const page of ['compare/peers', 'compare/appliances']) {
    const r = await co.operator.visitor.get(`/customers/${co.id}/${page}?from=${today()}&to=${today()}`);
    assert.equal(r.status, 200, page);
    assert.match(text(main(r.html)), /株式会社くらべる/);
    const bad = await co.admin.visitor.get(`/${page}?from=2020-01-01&to=2020-01-02`);
    assert.equal(bad.status, 400, page);
    assert.match(text(main(bad.html)), /保存期間は90日間です/);
  }
});

for (const width of ['phone', 'pc']) {
  test(`in Chromium at ${width} width: both comparisons, without JavaScript and hydrated`, async () => {
    const q = `from=${today()}&to=${today()}`;
    const off = await signedInPage(browser, stack, co.admin, width, { javaScriptEnabled: false });
    try {
      await off.page.goto(`${stack.url}/compare/peers?${q}`);
      await off.page.getByText('上位 10% に入る多さです').waitFor();
      assert.equal(await off.page.locator('svg.chart').count(), 1);
    } finally {
      await off.context.close();
    }
    const { page, context, problems } = await signedInPage(browser, stack, co.admin, width);
    try {
      for (const [name, path, heading] of [
        ['compare-peers', `/compare/peers?${q}`, '上位 10% に入る多さです'],
        ['compare-appliances', `/compare/appliances?${q}`, 'UTM装置ごとの状況'],
      ]) {
        await page.goto(`${stack.url}${path}`);
        await pageHydrated(page, problems);
        await page.getByText(heading).first().waitFor();
        await checkPage(page, problems, name, width);
      }
      // Hydrated, a preset changes the period in place.
      await page.evaluate(() => { window.__stayed = true; });
      await page.getByRole('link', { name: '直近30日' }).click();
      await page.waitForURL(/days=30/);
      await page.getByText('UTM装置ごとの状況').waitFor();
      assert.equal(await page.evaluate(() => window.__stayed), true, 'no full page load');
    } finally {
      await context.close();
    }
  });
}
