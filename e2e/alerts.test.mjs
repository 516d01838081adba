// Alert mail from the outside: an outbound C2 beacon is mailed ★★★ to all three
// recipients within seconds, in one mail; lower tiers wait for the batch window and go
// out together; repeats do not mail again; a failing mail API delays but never loses or
// duplicates a mail. Mail goes to the stack's own dev mail sink.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';
import { admin, newCustomer, enrolledDevice, sendReport, report, threat, waitFor } from './devices.mjs';

let stack;
const RECIPIENTS = ['it@example.jp', 'boss@example.jp', 'vendor@example.jp'];

before(async () => {
  // Appliance-down notices have a file of their own (downtime.test.mjs): here they would
  // take the mail sink's injected faults meant for alert mails.
  stack = await startStack({ seed: false, vars: { OFFLINE_AFTER_MIN: '100000' } });
});
after(async () => { await stack?.stop(); });

const customer = (name) => newCustomer(stack, name, RECIPIENTS);

const beacon = (id, overrides = {}) => threat(id, {
  direction: 'outbound', action: 'detected',
  threat: { name: 'ET MALWARE Win32/Emotet CnC Beacon', signature_id: '2030361', category: 'c2', vendor_severity: 'critical' },
  ...overrides,
});
const scan = (id, sid, port) => threat(id, {
  direction: 'inbound', action: 'blocked', function: 'ips',
  threat: { name: `ET SCAN Suspicious inbound to port ${port}`, signature_id: sid, category: 'scan', vendor_severity: 'medium' },
  src: { ip: '198.51.100.77', port: 40000 }, dst: { ip: '192.168.1.10', port },
  url: undefined, file: undefined,
});


const mailsOf = (name) => stack.sink.mails().then((all) => all.filter((m) => m.subject.includes(name)));

test('an outbound C2 beacon is mailed ★★★ to all three recipients within seconds, once', async () => {
  const c = await customer('株式会社アラート');
  const token = await enrolledDevice(stack, c, '0e0000000001');
  const sent = Date.now();
  assert.equal((await sendReport(stack, token, report('r-c2', [beacon('e-c2-1')]))).status, 202);
  const [mail] = await waitFor(async () => { const m = await mailsOf('株式会社アラート'); return m.length ? m : null; });
  const latency = Date.now() - sent;
  assert.ok(latency < 10_000, `mailed after ${latency} ms`);
  assert.deepEqual([...mail.to].sort(), [...RECIPIENTS].sort());
  assert.match(mail.subject, /★★★/);
  assert.match(mail.text, /Emotet/);
  assert.match(mail.text, /フルスキャン/);
  const [row] = stack.sql(`SELECT status, attempts, kind FROM mails WHERE customer_id = '${c}'`);
  assert.deepEqual(row, { status: 'sent', attempts: 1, kind: 'alert' });

  // The same beacon again, in later reports: the incident counts up, no second mail.
  for (let i = 2; i <= 4; i += 1) {
    assert.equal((await sendReport(stack, token, report(`r-c2-${i}`, [beacon(`e-c2-${i}`)]))).status, 202);
  }
  // A mail needs a notification to claim: wait until every one of this customer's is
  // claimed and every mail handed over, let a cron tick run, then nothing more may arrive.
  const settled = () => stack.sql(`SELECT
      (SELECT count(*) FROM notifications WHERE customer_id = '${c}' AND mail_id IS NULL)
    + (SELECT count(*) FROM mails WHERE customer_id = '${c}' AND status = 'queued') AS n`)[0].n === 0;
  await waitFor(settled);
  await stack.cron();
  assert.ok(settled());
  assert.equal(stack.sql(`SELECT count(*) AS n FROM mails WHERE customer_id = '${c}'`)[0].n, 1);
  assert.equal((await mailsOf('株式会社アラート')).length, 1);
  const [incident] = stack.sql(`SELECT count, severity_rank, rule FROM incidents WHERE customer_id = '${c}'`);
  assert.deepEqual(incident, { count: 4, severity_rank: 0, rule: 'c2-from-inside' });
});

test('lower tiers wait for the batch window and go out together in one mail', async () => {
  const c = await customer('株式会社バッチ');
  const token = await enrolledDevice(stack, c, '0e0000000002');
  const events = [scan('e-s1', '2010935', 1433), scan('e-s2', '2010936', 3306), scan('e-s3', '2010937', 5432)];
  assert.equal((await sendReport(stack, token, report('r-scan', events))).status, 202);
  assert.equal(stack.sql(`SELECT count(*) AS n FROM notifications WHERE customer_id = '${c}'`)[0].n, 3);
  await stack.cron(new Date(Date.now() + 60_000));
  assert.equal((await mailsOf('株式会社バッチ')).length, 0, 'not before the window ends');
  await stack.cron(new Date(Date.now() + 6 * 60_000));
  const mails = await mailsOf('株式会社バッチ');
  assert.equal(mails.length, 1);
  assert.match(mails[0].subject, /★☆☆/);
  for (const port of [1433, 3306, 5432]) assert.match(mails[0].text, new RegExp(`port ${port}`));
  await stack.cron(new Date(Date.now() + 12 * 60_000));
  assert.equal((await mailsOf('株式会社バッチ')).length, 1, 'never twice');
});

test('a failing mail API delays the mail but never loses or duplicates it', async () => {
  const c = await customer('株式会社リトライ');
  const token = await enrolledDevice(stack, c, '0e0000000003');
  await stack.sink.control({ fail_next: 2, status: 500 });
  assert.equal((await sendReport(stack, token, report('r-f', [beacon('e-f1')]))).status, 202);
  await waitFor(() => stack.sql(`SELECT attempts FROM mails WHERE customer_id = '${c}'`)[0]?.attempts === 1);
  let [row] = stack.sql(`SELECT status, last_error FROM mails WHERE customer_id = '${c}'`);
  assert.equal(row.status, 'queued');
  assert.match(row.last_error, /500/);
  // The next attempts come from the cron sweep, after 30 s, then 60 s more.
  await stack.cron(new Date(Date.now() + 40_000));
  [row] = stack.sql(`SELECT status, attempts FROM mails WHERE customer_id = '${c}'`);
  assert.deepEqual(row, { status: 'queued', attempts: 2 });
  await stack.cron(new Date(Date.now() + 3 * 60_000));
  [row] = stack.sql(`SELECT status, attempts FROM mails WHERE customer_id = '${c}'`);
  assert.deepEqual(row, { status: 'sent', attempts: 3 });
  assert.equal((await mailsOf('株式会社リトライ')).length, 1);
  await stack.cron(new Date(Date.now() + 10 * 60_000));
  assert.equal((await mailsOf('株式会社リトライ')).length, 1);
});

test("one customer's alerts never reach another customer's recipients", async () => {
  const other = await admin(stack, '/api/v1/admin/customers', {
    name: '株式会社よそ', service_start: '2026-11-01', alert_recipients: ['other@example.jp'],
  });
  assert.equal(other.status, 201);
  const mails = await stack.sink.mails('other@example.jp');
  assert.equal(mails.length, 0);
  for (const m of await stack.sink.mails()) {
    assert.ok(!m.to.includes('other@example.jp'));
  }
});

test('a mail API that does not answer counts as a failed attempt and is retried', async () => {
  const c = await customer('株式会社タイムアウト');
  const token = await enrolledDevice(stack, c, '0e0000000005');
  await stack.sink.control({ fail_next: 1, status: 200, delay_ms: 12_000 });
  assert.equal((await sendReport(stack, token, report('r-t', [beacon('e-t1')]))).status, 202);
  await waitFor(() => stack.sql(`SELECT attempts FROM mails WHERE customer_id = '${c}'`)[0]?.attempts === 1, 20_000);
  const [row] = stack.sql(`SELECT status, last_error FROM mails WHERE customer_id = '${c}'`);
  assert.equal(row.status, 'queued');
  assert.match(row.last_error, /did not answer/);
  // The slow request was accepted late by the sink; the retry carries the same
  // Idempotency-Key, so there is still exactly one mail.
  await waitFor(async () => (await mailsOf('株式会社タイムアウト')).length === 1);
  await stack.cron(new Date(Date.now() + 60_000));
  assert.equal(stack.sql(`SELECT status FROM mails WHERE customer_id = '${c}'`)[0].status, 'sent');
  assert.equal((await mailsOf('株式会社タイムアウト')).length, 1);
});

test('an alert under investigation is mailed ※調査中※, then its result; an upgrade to ★★★ is recorded', async () => {
  const c = await customer('株式会社ちょうさ');
  const token = await enrolledDevice(stack, c, '0e0000000006');
  const odd = threat('e-odd', {
    direction: 'outbound', action: 'detected',
    threat: { name: 'Unusual TLS pattern', signature_id: '9000001', category: 'new-kind', vendor_severity: 'high' },
  });
  assert.equal((await sendReport(stack, token, report('r-odd', [odd]))).status, 202);
  await stack.cron(new Date(Date.now() + 6 * 60_000));
  let mails = await mailsOf('株式会社ちょうさ');
  assert.equal(mails.length, 1);
  assert.match(mails[0].subject, /※調査中※/);
  const [incident] = stack.sql(`SELECT id, severity_rank FROM incidents WHERE customer_id = '${c}'`);
  assert.equal(incident.severity_rank, 3);

  const review = (id, body, token_ = stack.settings.OPERATOR_TOKEN) => fetch(`${stack.url}/api/v1/admin/incidents/${id}/investigation`, {
    method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token_}` },
  });
  const finding = { finding: '該当端末のフルスキャンで\nトロイの木馬を検出しました。', severity: 'high', by: '運用担当 山田' };
  assert.equal((await review(incident.id, finding, 'wrong')).status, 401);
  assert.equal((await review(999999, finding)).status, 404);
  const bad = await review(incident.id, { ...finding, severity: 'urgent' });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.path, '$.severity');

  const res = await review(incident.id, finding);
  assert.equal(res.status, 201);
  const body = await res.json();
  assert.deepEqual([body.severity, body.previous_severity], ['high', 'investigating']);
  assert.equal(stack.sql(`SELECT severity_rank FROM incidents WHERE id = ${incident.id}`)[0].severity_rank, 0);
  const [record] = stack.sql(`SELECT old_rank, new_rank, reviewer, finding FROM incident_reviews WHERE incident_id = ${incident.id}`);
  assert.deepEqual([record.old_rank, record.new_rank, record.reviewer], [3, 0, '運用担当 山田']);
  mails = await mailsOf('株式会社ちょうさ');
  assert.equal(mails.length, 2);
  assert.match(mails[1].subject, /★★★/);
  assert.match(mails[1].text, /トロイの木馬/);
  assert.deepEqual([...mails[1].to].sort(), [...RECIPIENTS].sort());
});

test('a flush that stopped after claiming its alerts is completed by the sweep, not lost', async () => {
  const c = await customer('株式会社ちゅうだん');
  const token = await enrolledDevice(stack, c, '0e0000000007');
  assert.equal((await sendReport(stack, token, report('r-half', [scan('e-half', '2010999', 8080)]))).status, 202);
  // What a flush cut off between its two steps leaves: claimed notifications and a queued
  // mail without texts.
  stack.sql(`INSERT INTO mails (id, customer_id, kind, recipients, status, attempts, next_attempt_at, created_at)
             VALUES ('ml_half', '${c}', 'alert', '${JSON.stringify(RECIPIENTS)}', 'queued', 0, 0, 0)`);
  stack.sql(`UPDATE notifications SET mail_id = 'ml_half' WHERE customer_id = '${c}'`);
  await stack.cron(new Date(Date.now() + 60_000));
  const [row] = stack.sql("SELECT status, subject FROM mails WHERE id = 'ml_half'");
  assert.equal(row.status, 'sent');
  assert.match(row.subject, /★☆☆/);
  const mails = await mailsOf('株式会社ちゅうだん');
  assert.equal(mails.length, 1);
  assert.match(mails[0].text, /port 8080/);
});

test('a scan from many sources is recorded as mass activity and not mailed; a ★★★ beside it still is', async () => {
  const c = await customer('株式会社マス');
  const token = await enrolledDevice(stack, c, '0e0000000008');
  const from = (id, ip) => threat(id, {
    direction: 'inbound', action: 'blocked', function: 'ips',
    threat: { name: 'ET SCAN Potential SSH Scan', signature_id: '2001219', category: 'attempted-recon', vendor_severity: 'medium' },
    src: { ip, port: 40000 }, dst: { ip: '203.0.113.50', port: 22 }, url: undefined, file: undefined,
  });
  const wave = [from('e-m1', '198.51.100.1'), from('e-m2', '198.51.100.2'), from('e-m3', '198.51.100.3')];
  assert.equal((await sendReport(stack, token, report('r-mass', wave))).status, 202);
  await stack.cron(new Date(Date.now() + 6 * 60_000));
  assert.equal((await mailsOf('株式会社マス')).length, 0, 'mass scanning is not news');
  const [scan] = stack.sql(`SELECT notice, severity_rank, count FROM incidents WHERE customer_id = '${c}'`);
  assert.deepEqual(scan, { notice: 'mass', severity_rank: 2, count: 3 });
  assert.equal(stack.sql(`SELECT count(*) AS n FROM notifications WHERE customer_id = '${c}'`)[0].n, 0);

  // A later wave of the same scan with a C2 beacon: the ★★★ goes out at once, alone.
  const more = [from('e-m4', '198.51.100.4'), beacon('e-m-c2')];
  assert.equal((await sendReport(stack, token, report('r-mass-2', more))).status, 202);
  const [mail] = await waitFor(async () => { const m = await mailsOf('株式会社マス'); return m.length ? m : null; });
  assert.match(mail.subject, /★★★/);
  assert.doesNotMatch(mail.text, /SSH Scan/);
});

test('after four alert mails in a day, lower tiers wait for the next morning; ★★★ never waits', async () => {
  const c = await customer('株式会社まいにち');
  const token = await enrolledDevice(stack, c, '0e0000000009');
  // A mail day runs 08:00–08:00 Asia/Tokyo: act within one, from 09:00 (00:00 UTC) a day
  // or two ahead.
  const day = new Date(Date.now() + 2 * 86_400_000);
  day.setUTCHours(0, 0, 0, 0);
  for (let i = 1; i <= 5; i += 1) {
    assert.equal((await sendReport(stack, token, report(`r-day-${i}`, [scan(`e-day-${i}`, String(2011000 + i), 1000 + i)]))).status, 202);
    await stack.cron(new Date(day.getTime() + i * 60_000));
  }
  const mails = await mailsOf('株式会社まいにち');
  assert.equal(mails.length, 4, 'the fifth waits');
  assert.doesNotMatch(mails.map((m) => m.text).join('\n'), /port 1005/);
  // A ★★★ is mailed at once all the same, and takes the waiting alert with it.
  assert.equal((await sendReport(stack, token, report('r-day-c2', [beacon('e-day-c2')]))).status, 202);
  await waitFor(async () => (await mailsOf('株式会社まいにち')).length === 5);
  const high = (await mailsOf('株式会社まいにち'))[4];
  assert.match(high.subject, /★★★/);
  assert.match(high.text, /port 1005/);
  // A sixth ★☆☆ that day waits for 08:00 the next morning, then goes.
  assert.equal((await sendReport(stack, token, report('r-day-6', [scan('e-day-6', '2011006', 1006)]))).status, 202);
  await stack.cron(new Date(day.getTime() + 10 * 3600_000));
  assert.equal((await mailsOf('株式会社まいにち')).length, 5);
  const morning = new Date(day.getTime() + 23 * 3600_000);
  await stack.cron(morning);
  const last = (await mailsOf('株式会社まいにち'))[5];
  assert.ok(last, 'sent in the morning');
  assert.match(last.text, /port 1006/);
});

test('a flood of distinct incidents is one mail listing the 50 most urgent, ★★★ first, and counting the rest', async () => {
  const c = await customer('株式会社おおぜい');
  const token = await enrolledDevice(stack, c, '0e00000000f8');
  // 80 distinct lower-tier incidents (each its own signature from one source to one host:
  // no mass activity), then a ★★★ at the end of the same report.
  const events = Array.from({ length: 80 }, (_, i) => scan(`e-many-${i}`, String(2020000 + i), 10000 + i));
  events.push(beacon('e-many-c2'));
  assert.equal((await sendReport(stack, token, report('r-many', events))).status, 202);
  const [mail] = await waitFor(async () => { const m = await mailsOf('株式会社おおぜい'); return m.length ? m : null; });
  assert.match(mail.subject, /★★★/);
  assert.match(mail.subject, /81件/);
  assert.match(mail.text, /1件目　重要度：★★★/, 'the ★★★ is listed first');
  assert.match(mail.text, /50件目/);
  assert.doesNotMatch(mail.text, /51件目/);
  assert.equal((mail.text.match(/\/incidents\//g) ?? []).length, 50, 'one link per listed incident');
  assert.match(mail.text, /ほか31件のアラートは、ポータルでご確認ください/);
  assert.match(mail.html, /ほか31件/);
  // One mail took every notification: nothing is left for a second mail.
  const claimed = stack.sql(`SELECT count(DISTINCT mail_id) AS mails, count(*) AS n,
      sum(mail_id IS NULL) AS pending FROM notifications WHERE customer_id = '${c}'`)[0];
  assert.deepEqual(claimed, { mails: 1, n: 81, pending: 0 });
  await stack.cron(new Date(Date.now() + 6 * 60_000));
  assert.equal((await mailsOf('株式会社おおぜい')).length, 1);
});
