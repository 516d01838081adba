// Runs the product on a state filled by scripts/seed-scale and measures what the reference
// data set costs it: the portal's 機器一覧 of a quiet and of the noisiest company (signed in
// as their admins; each must list its own appliances) and three cron sweeps (/__cron,
// DEV_CRON_CLOCK) a minute apart. The data set ends at an hour; first, the appliances still
// on then are taken to have gone on reporting (their last report is now). Prints the
// figures; exits non-zero if a page lacks its appliances or a sweep fails.
//
// Usage: node scripts/bench-seed-stack.mjs STATE_DIR   (after scripts/build; the state is
// changed: accounts, sweeps' rows)
import assert from 'node:assert/strict';
import { startStack } from '../e2e/stack.mjs';
import { readyUser } from '../e2e/identity.mjs';

const state = process.argv[2];
if (!state) throw new Error('usage: node scripts/bench-seed-stack.mjs STATE_DIR');
const stack = await startStack({ state, migrate: false, seed: false });
const ms = (t0) => Math.round(performance.now() - t0);
try {
  stack.sql(`UPDATE devices SET last_seen_at = ${Date.now()} WHERE customer_id LIKE 'cus_scale_%'
    AND last_seen_at = (SELECT max(last_seen_at) FROM devices WHERE customer_id LIKE 'cus_scale_%')`);
  const [fleet] = stack.sql(`SELECT count(*) AS devices, sum(last_seen_at < ${Date.now() - 300_000}) AS silent
    FROM devices WHERE customer_id LIKE 'cus_scale_%'`);
  console.log(`appliances: ${fleet.devices}, silent for more than 5 minutes: ${fleet.silent}`);
  for (const customer of ['cus_scale_0001', 'cus_scale_noisy']) {
    const devices = stack.sql(`SELECT id FROM devices WHERE customer_id = '${customer}' ORDER BY id`).map((d) => d.id);
    const { visitor } = await readyUser(stack, `/api/v1/admin/customers/${customer}/accounts`);
    const times = [];
    let page;
    for (let i = 0; i < 5; i += 1) {
      const t0 = performance.now();
      page = await visitor.get('/');
      times.push(ms(t0));
    }
    assert.equal(page.status, 200, `${customer}: 機器一覧 answered ${page.status}`);
    for (const id of devices) assert.ok(page.html.includes(id), `${customer}: 機器一覧 lists ${id}`);
    console.log(`機器一覧 ${customer}: lists ${devices.join(', ')}; ms ${times.join(' ')}`);
  }
  const now = Date.now();
  for (const [label, at] of [['now', now], ['a minute later', now + 60_000], ['two minutes later', now + 120_000]]) {
    const t0 = performance.now();
    const summary = await stack.cron(new Date(at));
    console.log(`cron ${label}: ${ms(t0)} ms ${JSON.stringify(summary)}`);
  }
} finally {
  await stack.stop();
}
