// Appliance-down monitoring from the outside, driven through the cron route with an
// injected clock: a first mail when an appliance goes silent, a daily re-notice at 09:00
// Asia/Tokyo while it stays down, and a recovery mail when it reports again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';
import { newCustomer, enrolledDevice, sendReport, report, threat } from './devices.mjs';

let stack;
const RECIPIENTS = ['it@example.jp', 'boss@example.jp', 'vendor@example.jp'];

before(async () => {
  stack = await startStack({ seed: false });
});
after(async () => { await stack?.stop(); });

const customer = (name) => newCustomer(stack, name, RECIPIENTS);

const mailsOf = (name) => stack.sink.mails().then((all) => all.filter((m) => m.subject.includes(name)));

/** The first 09:00 Asia/Tokyo at least `hours` after `from`. */
function nineAfter(from, hours) {
  const t = new Date(from.getTime() + hours * 3_600_000);
  const jst = new Date(t.getTime() + 9 * 3_600_000);
  const nine = Date.UTC(jst.getUTCFullYear(), jst.getUTCMonth(), jst.getUTCDate(), 0, 0, 0);
  return new Date(nine <= t.getTime() ? nine + 86_400_000 : nine);
}

test('a silent appliance is mailed once, again at the daily 09:00 check, and on recovery', async () => {
  const c = await customer('株式会社ていし');
  const token = await enrolledDevice(stack, c, '0e0000000004', 'honsha-utm');
  assert.equal((await sendReport(stack, token, report('hb-1'))).status, 202);
  const subjects = async () => (await mailsOf('honsha-utm')).map((m) => m.subject);

  await stack.cron(new Date(Date.now() + 4 * 60_000));
  assert.deepEqual(await subjects(), [], 'not before the 5-minute threshold');
  const down = await stack.cron(new Date(Date.now() + 6 * 60_000));
  assert.equal(down.appliance_notices, 1);
  let s = await subjects();
  assert.equal(s.length, 1);
  assert.match(s[0], /停止を検知/);
  const [mail] = await mailsOf('honsha-utm');
  assert.deepEqual([...mail.to].sort(), [...RECIPIENTS].sort());
  await stack.cron(new Date(Date.now() + 7 * 60_000));
  assert.equal((await subjects()).length, 1, 'no repeat within the day');

  // The daily check a day later mails again (it is more than 6 h after the first).
  const daily = nineAfter(new Date(), 24);
  await stack.cron(daily);
  await stack.cron(new Date(daily.getTime() + 60_000));
  s = await subjects();
  assert.equal(s.length, 2);
  assert.match(s[1], /停止したまま/);

  // It reports again: one recovery mail.
  assert.equal((await sendReport(stack, token, report('hb-2'))).status, 202);
  await stack.cron(new Date(Date.now() + 60_000));
  await stack.cron(new Date(Date.now() + 120_000));
  s = await subjects();
  assert.equal(s.length, 3);
  assert.match(s[2], /復旧/);
  // (created_at is the sweep's injected time, so sort by kind rather than by time)
  const kinds = stack.sql(`SELECT kind, status FROM mails WHERE customer_id = '${c}' ORDER BY kind`);
  assert.deepEqual(kinds.map((k) => k.kind), ['appliance_down', 'appliance_recovered', 'appliance_still_down']);
  assert.ok(kinds.every((k) => k.status === 'sent'));
  // The appliance's page reads one outage: from its last report, noticed once, closed.
  const outages = stack.sql(`SELECT down_since IS NOT NULL AS since, back_at IS NOT NULL AS back
    FROM device_outages WHERE device_id = '0e0000000004'`);
  assert.deepEqual(outages, [{ since: 1, back: 1 }]);
});


test('2,000 appliances going silent at once are each mailed once within a few ticks, and again at 09:00, while alert mail flows', async () => {
  // 100 customers with 20 appliances each, all last seen now: real rows the sweep reads.
  const t0 = Date.now();
  const k = (n) => `WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < ${n - 1})`;
  stack.sql(`${k(100)} INSERT INTO customers (id, name, service_start, created_at)
    SELECT printf('bulk-%03d', i), printf('一斉株式会社%03d', i), '2026-11-01', 0 FROM k`);
  stack.sql(`${k(100)} INSERT INTO alert_recipients (customer_id, position, email)
    SELECT printf('bulk-%03d', i), 1, printf('bulk-%03d@example.jp', i) FROM k`);
  stack.sql(`${k(2000)} INSERT INTO devices (id, customer_id, name, last_seen_at, created_at)
    SELECT printf('b1%010x', i), printf('bulk-%03d', i / 20), printf('一斉-%04d', i), ${t0}, 0 FROM k`);

  // An alert customer whose lower-tier alert falls due in the first tick of the wave.
  const c = await customer('株式会社ながれ');
  const token = await enrolledDevice(stack, c, '0e0000000005', 'nagare-utm');
  const scan = (port) => threat(`e-wave-scan-${port}`, {
    direction: 'inbound', action: 'blocked',
    threat: { name: `ET SCAN Suspicious inbound to port ${port}`, signature_id: String(2031000 + port), category: 'scan', vendor_severity: 'medium' },
    src: { ip: '198.51.100.77', port: 40000 }, dst: { ip: '192.168.1.10', port },
    url: undefined, file: undefined,
  });

  const alertMails = async () => (await stack.sink.mails()).filter((m) => m.subject.includes('株式会社ながれ') && /アラート/.test(m.subject));
  const count = (kind) => stack.sql(`SELECT
      (SELECT count(*) FROM mails WHERE kind = '${kind}' AND customer_id LIKE 'bulk-%') AS queued,
      (SELECT count(*) FROM mails WHERE kind = '${kind}' AND customer_id LIKE 'bulk-%' AND status = 'sent') AS sent,
      (SELECT count(*) FROM (SELECT subject FROM mails WHERE kind = '${kind}' AND customer_id LIKE 'bulk-%'
         GROUP BY subject HAVING count(*) > 1)) AS twice`)[0];

  // Ticks a minute apart from `start` until all 2,000 notices of `kind` are sent.
  const wave = async (start, kind, port) => {
    // A lower-tier alert whose batch window has passed by the wave's first tick.
    assert.equal((await sendReport(stack, token, report(`r-wave-${port}`, [scan(port)]))).status, 202);
    const alertsBefore = (await alertMails()).length;
    for (let tick = 1; tick <= 8; tick += 1) {
      const summary = await stack.cron(new Date(start + (tick - 1) * 60_000));
      assert.ok(summary.appliance_notices <= 500, `tick ${tick}: ${summary.appliance_notices} notices decided`);
      assert.ok(summary.mails_sent <= 440, `tick ${tick}: ${summary.mails_sent} mails sent`);
      assert.deepEqual(summary.failed, [], `tick ${tick}: every step ran`);
      if (tick === 1) {
        const first = count(kind);
        assert.ok(first.queued < 2000 && first.sent < 2000, `bounded: ${JSON.stringify(first)}`);
        // The alert flush ran although 2,000 appliances were waiting.
        assert.equal((await alertMails()).length, alertsBefore + 1, 'the alert due in this tick was mailed');
        // A ★★★ during the wave is mailed at once.
        const beacon = threat(`e-wave-c2-${kind}`, {
          direction: 'outbound', action: 'detected',
          src: { ip: kind === 'appliance_down' ? '192.168.1.51' : '192.168.1.52', port: 50122 },
        });
        assert.equal((await sendReport(stack, token, report(`r-wave-${kind}`, [beacon]))).status, 202);
      }
      const now = count(kind);
      if (now.sent === 2000) {
        assert.deepEqual(now, { queued: 2000, sent: 2000, twice: 0 });
        return tick;
      }
    }
    throw new Error(`not all mailed: ${JSON.stringify(count(kind))}`);
  };

  const downTicks = await wave(t0 + 6 * 60_000, 'appliance_down', 3389);
  assert.ok(downTicks >= 2, 'the wave took more than one bounded tick');
  const daily = nineAfter(new Date(t0), 24);
  await wave(daily.getTime(), 'appliance_still_down', 5900);

  // In the sink: one mail per appliance and notice, nothing twice.
  const mails = (await stack.sink.mails()).filter((m) => m.subject.includes('一斉-'));
  const subjects = new Set(mails.map((m) => m.subject));
  assert.equal(mails.length, 4000);
  assert.equal(subjects.size, 4000);
  assert.ok(subjects.has('【見守りサービス】UTM装置の停止を検知しました（一斉-1999）'));
  assert.ok(subjects.has('【見守りサービス】UTM装置が停止したままです（一斉-0000）'));
  assert.equal(stack.sql("SELECT count(*) AS n FROM device_down WHERE device_id LIKE 'b1%'")[0].n, 2000);
  // The ★★★ reports sent during each wave were mailed too.
  const alerts = await alertMails();
  assert.equal(alerts.filter((m) => /★★★/.test(m.subject)).length, 2);
});

test('a failing step is named in the summary and the other steps still run', async () => {
  const c = await customer('株式会社こしょう');
  const token = await enrolledDevice(stack, c, '0e0000000006', 'kosho-utm');
  assert.equal((await sendReport(stack, token, report('hb-k'))).status, 202);
  // The retention step cannot run without one of its tables.
  stack.sql('ALTER TABLE usage_days RENAME TO usage_days_away');
  try {
    const summary = await stack.cron(new Date(Date.now() + 6 * 60_000));
    assert.deepEqual(summary.failed, ['retention']);
    assert.ok(summary.appliance_notices >= 1, 'the downtime step ran after it');
    assert.equal((await mailsOf('kosho-utm')).length, 1);
  } finally {
    stack.sql('ALTER TABLE usage_days_away RENAME TO usage_days');
  }
});
