// The per-device report rate (429 with Retry-After) and the retention sweep (90 days,
// bounded chunks per cron tick), on a stack with small, configured limits. The cron is
// fired with an injected time, so "91 days later" takes no waiting.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { root, startStack } from './stack.mjs';
import { newCustomer, enrolledDevice, sendReport, report, threat, usage, expectError } from './devices.mjs';

let stack;
let customerId;
const DAY = 86_400_000;

before(async () => {
  stack = await startStack({
    vars: { REPORT_RATE_PER_S: '1', REPORT_BURST: '3', RETENTION_CHUNK: '10', RETENTION_MAX_CHUNKS: '2' },
  });
  customerId = await newCustomer(stack, '株式会社リミット');
});
after(async () => { await stack?.stop(); });

test('a device over its rate gets 429 with Retry-After, and nothing of that report is stored', async () => {
  const token = await enrolledDevice(stack, customerId, '0c0000000001');
  for (let i = 0; i < 3; i += 1) {
    assert.equal((await sendReport(stack, token, report(`r-burst-${i}`, [threat(`e-burst-${i}`)]))).status, 202);
  }
  const res = await sendReport(stack, token, report('r-over', [threat('e-over')]));
  await expectError(res, 429, 'rate_limited');
  assert.ok(Number(res.headers.get('retry-after')) >= 1);
  assert.equal(stack.sql("SELECT count(*) AS n FROM device_events WHERE event_id = 'e-over'")[0].n, 0);

  // Another appliance has its own bucket.
  const other = await enrolledDevice(stack, customerId, '0c0000000002', 'utm2');
  assert.equal((await sendReport(stack, other, report('r-other', [threat('e-other')]))).status, 202);

  // After waiting as told, the same bytes go through.
  await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after')) * 1000));
  const retry = await sendReport(stack, token, report('r-over', [threat('e-over')]));
  assert.equal(retry.status, 202);
});

test('the sweep deletes raw rows and rollups past 90 days in bounded chunks and keeps the rest', async () => {
  const token = await enrolledDevice(stack, customerId, '0c0000000003', 'utm3');
  // 25 distinct threat rows and a usage record, stored now.
  const events = Array.from({ length: 25 }, (_, i) => threat(`e-old-${i}`, {
    threat: { name: `ET POLICY test ${i}`, signature_id: String(3000000 + i), vendor_severity: 'low' },
  }));
  events.push(usage('u-old-1'));
  assert.equal((await sendReport(stack, token, report('r-old', events))).status, 202);
  const rows = () => stack.sql(`SELECT
      (SELECT count(*) FROM threats WHERE device_id = '0c0000000003') AS threats,
      (SELECT count(*) FROM usage_records WHERE device_id = '0c0000000003') AS usage,
      (SELECT count(*) FROM threat_days WHERE device_id = '0c0000000003') AS days,
      (SELECT count(*) FROM usage_days WHERE device_id = '0c0000000003') AS usage_days,
      (SELECT count(*) FROM device_events WHERE device_id = '0c0000000003') AS ids,
      (SELECT count(*) FROM device_reports WHERE device_id = '0c0000000003') AS reports`)[0];
  const stored = rows();
  assert.deepEqual(stored, { threats: 25, usage: 1, days: 1, usage_days: 1, ids: 26, reports: 1 });

  // Ticks at `time` until one deletes nothing; returns how many it took.
  const drain = async (time) => {
    for (let tick = 1; tick <= 50; tick += 1) {
      if ((await stack.cron(time)).deleted === 0) return tick;
    }
    throw new Error('the sweep never finished');
  };

  // Nine days on: ids past the 7-day window (plus a day) go, everything else stays.
  await drain(new Date(Date.now() + 9 * DAY));
  assert.deepEqual(rows(), { ...stored, ids: 0, reports: 0 });

  // 89 days on: still within 90 days (the seed's older heartbeat hours go).
  await drain(new Date(Date.now() + 89 * DAY));
  assert.deepEqual(rows(), { ...stored, ids: 0, reports: 0 });

  // 92 days on: each tick deletes at most 2 chunks of 10 rows per table, so the 25 threat
  // rows take more than one tick; in the end nothing of that time is left.
  const later = new Date(Date.now() + 92 * DAY);
  const first = await stack.cron(later);
  assert.ok(first.deleted <= 7 * 2 * 10, `bounded: ${first.deleted}`);
  assert.ok(rows().threats > 0, 'a second tick is needed');
  assert.ok(await drain(later) >= 2);
  assert.deepEqual(rows(), { threats: 0, usage: 0, days: 0, usage_days: 0, ids: 0, reports: 0 });
  assert.equal(stack.sql('SELECT count(*) AS n FROM threats')[0].n, 0);

  // The health endpoint shows the last tick.
  const health = await (await fetch(`${stack.url}/api/v1/health`, {
    headers: { authorization: `Bearer ${stack.settings.OPERATOR_TOKEN}` },
  })).json();
  assert.equal(health.last_sweep.deleted, 0);
});

/** GET `path` on `stack` with the given headers through node:http (fetch will not set Host). */
function rawGet(stack, path, headers) {
  return new Promise((resolve, reject) => {
    const req = request(`${stack.url}${path}`, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the development clock wants the operator token and a loopback host', async () => {
  const later = `time=${Date.now() + 100 * DAY}`;
  const operator = `Bearer ${stack.settings.OPERATOR_TOKEN}`;
  for (const path of [`/__cron?${later}`, `/__clock?offset=${100 * DAY}`]) {
    await expectError(await fetch(`${stack.url}${path}`), 401, 'unauthenticated');
    const wrong = await fetch(`${stack.url}${path}`, { headers: { authorization: 'Bearer nope' } });
    await expectError(wrong, 401, 'unauthenticated');
    const elsewhere = await rawGet(stack, path, { host: 'mimamori.example', authorization: operator });
    assert.equal(elsewhere.status, 404, `${path} from another host: ${elsewhere.body}`);
  }
  const res = await fetch(`${stack.url}/__clock?offset=0`, { headers: { authorization: operator } });
  assert.equal(res.status, 200);
});

test('the shipped wrangler.toml cannot turn the development clock on', () => {
  const toml = readFileSync(join(root, 'wrangler.toml'), 'utf8');
  assert.ok(!/DEV_CRON_CLOCK/.test(toml), 'no DEV_CRON_CLOCK in wrangler.toml');
  const example = readFileSync(join(root, '.dev.vars.example'), 'utf8');
  const devOnly = example.indexOf('Local development only');
  assert.ok(devOnly > 0 && example.indexOf('DEV_CRON_CLOCK=') > devOnly,
    'the example keeps DEV_CRON_CLOCK under "Local development only"');
});

test('the time-travel cron and clock routes answer only where DEV_CRON_CLOCK is set', async () => {
  const off = await startStack({ vars: { DEV_CRON_CLOCK: '0' } });
  try {
    const res = await fetch(`${off.url}/__cron?time=${Date.now() + 100 * DAY}`);
    await expectError(res, 404, 'not_found');
    const clock = await fetch(`${off.url}/__clock?offset=${100 * DAY}`);
    await expectError(clock, 404, 'not_found');
  } finally {
    await off.stop();
  }
});

test('the sweep deletes incidents with their notifications and reviews, mails and down states past 90 days, and every row of a deleted customer', async () => {
  const beacon = (id, ip) => threat(id, { direction: 'outbound', action: 'detected', src: { ip, port: 50122 } });
  // Customer "old": a ★★★ mailed now, reviewed, its appliance noticed down; then moved
  // 100 days into the past. Customer "new": the same, left as it is.
  const made = {};
  for (const [name, device] of [['old', '0c0000000010'], ['new', '0c0000000011'], ['gone', '0c0000000012']]) {
    const c = await newCustomer(stack, `株式会社ほぞん${name}`);
    const token = await enrolledDevice(stack, c, device, `utm-${name}`);
    assert.equal((await sendReport(stack, token, report(`r-keep-${name}`, [beacon(`e-keep-${name}`, '192.168.1.77')]))).status, 202);
    made[name] = { c, device };
  }
  const rows = (c) => stack.sql(`SELECT
      (SELECT count(*) FROM incidents WHERE customer_id = '${c}') AS incidents,
      (SELECT count(*) FROM notifications WHERE customer_id = '${c}') AS notifications,
      (SELECT count(*) FROM incident_reviews WHERE incident_id IN (SELECT id FROM incidents WHERE customer_id = '${c}')) AS reviews,
      (SELECT count(*) FROM mails WHERE customer_id = '${c}') AS mails,
      (SELECT count(*) FROM device_down WHERE device_id IN (SELECT id FROM devices WHERE customer_id = '${c}')) AS down,
      (SELECT count(*) FROM threats WHERE customer_id = '${c}') AS threats`)[0];
  for (const { c, device } of Object.values(made)) {
    for (let i = 0; i < 50 && stack.sql(`SELECT count(*) AS n FROM mails WHERE customer_id = '${c}'`)[0].n === 0; i += 1) {
      await new Promise((r) => setTimeout(r, 200));
    }
    stack.sql(`INSERT INTO incident_reviews (incident_id, finding, old_rank, new_rank, reviewer, mail_id, created_at)
      SELECT id, '調査結果', 3, 0, '運用担当', 'ml_review', last_at FROM incidents WHERE customer_id = '${c}'`);
    stack.sql(`INSERT INTO device_down VALUES ('${device}', NULL, ${Date.now()}, ${Date.now()}, NULL)`);
    // Not watched: no recovery notice is to clear the down state it was given.
    stack.sql(`UPDATE devices SET disabled = 1 WHERE id = '${device}'`);
  }
  const full = { incidents: 1, notifications: 1, reviews: 1, mails: 1, down: 1, threats: 1 };
  for (const { c } of Object.values(made)) assert.deepEqual(rows(c), full);
  const old = made.old.c;
  const back = 100 * DAY;
  stack.sql(`UPDATE incidents SET first_at = first_at - ${back}, last_at = last_at - ${back} WHERE customer_id = '${old}'`);
  stack.sql(`UPDATE threats SET first_at = first_at - ${back}, last_at = last_at - ${back} WHERE customer_id = '${old}'`);
  stack.sql(`UPDATE mails SET created_at = created_at - ${back} WHERE customer_id = '${old}'`);
  stack.sql(`UPDATE device_down SET first_notice_at = first_notice_at - ${back}, last_notice_at = last_notice_at - ${back}
    WHERE device_id = '${made.old.device}'`);
  // Customer "gone" is deleted behind the store's back: its rows are orphans of any age.
  // (D1 cascades a device's rows; this connection does not enforce foreign keys.)
  for (const t of ['device_down', 'device_tokens', 'enrollment_codes', 'device_report_hours']) {
    stack.sql(`DELETE FROM ${t} WHERE device_id = '${made.gone.device}'`);
  }
  stack.sql(`DELETE FROM devices WHERE customer_id = '${made.gone.c}'`);
  stack.sql(`DELETE FROM accounts WHERE customer_id = '${made.gone.c}'`);
  stack.sql(`DELETE FROM alert_recipients WHERE customer_id = '${made.gone.c}'`);
  stack.sql(`DELETE FROM customers WHERE id = '${made.gone.c}'`);

  const drained = async () => {
    for (let tick = 1; tick <= 20; tick += 1) {
      if ((await stack.cron(new Date(Date.now() + 60_000))).deleted === 0) return tick;
    }
    throw new Error('the sweep never finished');
  };
  await drained();
  const none = { incidents: 0, notifications: 0, reviews: 0, mails: 0, down: 0, threats: 0 };
  assert.deepEqual(rows(old), none, 'past 90 days: gone');
  assert.deepEqual(rows(made.new.c), full, 'within 90 days: kept');
  assert.deepEqual(rows(made.gone.c), { ...none, down: 0 }, 'a deleted customer: gone');
  assert.equal(stack.sql('SELECT count(*) AS n FROM erased_customers')[0].n, 0, 'and its tombstone');
});
