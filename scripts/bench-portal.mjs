// Times the customer portal's pages on the reference data set (scripts/seed-scale) through
// `wrangler dev`, signed in as the admin of a typical company (cus_scale_0001), of a busy
// one (cus_scale_busy, 1×) and of its noisy twin (cus_scale_noisy, 10× the detections):
// the dashboard (7 and 90 days), 問題を確認, 検知履歴 (first page, a filtered page, the
// 10th page through 次へ), one detection, 稼働状況, 利用状況, 通知メール and the two
// comparisons (参加企業平均, 自社UTM同士) and 月次レポート (issue 14). Before the pages, the cron's refresh of
// the peer figures runs until every kept day has them, and each tick's time and D1
// queries are printed (one tick's budget is 1,000 queries). Each page is
// fetched WARMUP times, then RUNS times; every answer must be a 200 of that company.
// Prints p50/p95 per page and company and, last, the line
//   portal p95 <a> ms at 1x, <b> ms at 10x; ratio <b/a>
// where a and b are the slowest page's p95 of the busy and of the noisy company.
//
// Usage: node scripts/bench-portal.mjs STATE_DIR [RUNS]   (after scripts/build; the state
// gains accounts and sessions)
import assert from 'node:assert/strict';
import { startStack } from '../e2e/stack.mjs';
import { readyUser } from '../e2e/identity.mjs';

const state = process.argv[2];
const RUNS = Number(process.argv[3] ?? 30);
const WARMUP = 10;
if (!state) throw new Error('usage: node scripts/bench-portal.mjs STATE_DIR [RUNS]');

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const round = (x) => Math.round(x * 10) / 10;

// The months of the reports: this one so far, and the last (made live until the cron of
// the 1st keeps it; a kept one is a single row).
const tokyo = new Date(Date.now() + 9 * 3600 * 1000);
const thisMonth = tokyo.toISOString().slice(0, 7);
const lastMonth = new Date(Date.UTC(tokyo.getUTCFullYear(), tokyo.getUTCMonth() - 1, 15)).toISOString().slice(0, 7);

const stack = await startStack({ state, migrate: true, seed: false });
const slowest = {};
try {
  // The data set ends at an hour: its appliances are taken to have gone on reporting.
  stack.sql(`UPDATE devices SET last_seen_at = ${Date.now()} WHERE customer_id LIKE 'cus_scale_%'
    AND last_seen_at = (SELECT max(last_seen_at) FROM devices WHERE customer_id LIKE 'cus_scale_%')`);
  // The peer figures: a tick refreshes today, yesterday and up to 10 days without figures.
  for (let tick = 1; tick <= 12; tick += 1) {
    const t0 = performance.now();
    const summary = await stack.cron();
    const ms = Math.round(performance.now() - t0);
    // A day's refresh is 4 D1 queries (members in one batch, two reads, the figures in one
    // batch); finding the due days is one more.
    console.log(`cron tick ${tick}: peer figures of ${summary.peer_days} days of 1,000+ companies in ${ms} ms, ${summary.peer_days * 4 + 1} D1 queries for them`);
    const [{ missing }] = stack.sql(`SELECT 90 - count(*) AS missing FROM peer_days WHERE function = ''`);
    if (missing <= 0) break;
  }
  for (const [customer, label] of [['cus_scale_0001', 'typical'], ['cus_scale_busy', '1x'], ['cus_scale_noisy', '10x']]) {
    const [{ name }] = stack.sql(`SELECT name FROM customers WHERE id = '${customer}'`);
    const [{ threats }] = stack.sql(`SELECT count(*) AS threats FROM threats WHERE customer_id = '${customer}'`);
    const [{ id: alertId }] = stack.sql(`SELECT id FROM threats WHERE customer_id = '${customer}' ORDER BY last_at DESC LIMIT 1 OFFSET 100`);
    const { visitor } = await readyUser(stack, `/api/v1/admin/customers/${customer}/accounts`);
    const get = async (url) => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await visitor.get(url);
        } catch (e) {
          if (attempt > 0) throw e; // wrangler dev now and then closes a kept-alive connection
        }
      }
    };
    // The 10th page of the history: follow 次の50件 nine times.
    let deep = '/alerts';
    for (let i = 0; i < 9; i += 1) {
      const { html } = await get(deep);
      const next = html.match(/<a [^>]*href="([^"]*after=[^"]*)"[^>]*>次の50件/);
      if (!next) break;
      deep = next[1].replaceAll('&amp;', '&');
    }
    const pages = [
      ['/', '/'],
      ['/?days=90', '/?days=90'],
      ['/problems', '/problems'],
      ['/alerts', '/alerts'],
      ['/alerts?severity=low', '/alerts?severity=low&function=ips'],
      ['/alerts (10th page)', deep],
      ['/alerts/{id}', `/alerts/${alertId}`],
      ['/appliances', '/appliances'],
      ['/usage', '/usage?days=30'],
      ['/mails', '/mails'],
      ['/compare/peers', '/compare/peers?days=30'],
      ['/compare/appliances', '/compare/appliances?days=30'],
      ['/reports/{this month}', `/reports/${thisMonth}`],
      ['/reports/{last month}', `/reports/${lastMonth}`],
    ];
    console.log(`${label} ${customer} (${name}): ${threats} stored detections`);
    slowest[label] = 0;
    for (const [what, url] of pages) {
      // A page not built yet is named, not timed.
      if ((await get(url)).status === 404) {
        console.log(`  ${what.padEnd(22)} (404: no such page yet)`);
        continue;
      }
      const times = [];
      for (let i = 0; i < WARMUP + RUNS; i += 1) {
        const t0 = performance.now();
        const r = await get(url);
        const t = performance.now() - t0;
        assert.equal(r.status, 200, `${customer} ${url}: ${r.status}`);
        if (i >= WARMUP) times.push(t);
      }
      const p50 = round(pct(times, 50));
      const p95 = round(pct(times, 95));
      slowest[label] = Math.max(slowest[label], p95);
      console.log(`  ${what.padEnd(22)} p50 ${String(p50).padStart(6)} ms  p95 ${String(p95).padStart(6)} ms`);
    }
  }
} finally {
  await stack.stop();
}
const a = slowest['1x'];
const b = slowest['10x'];
console.log(`portal p95 ${a} ms at 1x, ${b} ms at 10x; ratio ${round(b / a).toFixed(2)}`);
