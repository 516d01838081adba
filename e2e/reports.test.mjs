// Device reports from the outside (api-v1 POST /api/v1/device/reports): what is stored,
// idempotency per report and per event, every error row, atomicity, compaction, and one
// customer's appliance never touching another's data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';
import {
  admin, newCustomer, enrolledDevice, sendReport, report, threat, usage, ago, expectError,
} from './devices.mjs';

let stack;
let customerId;
let token;
const DEVICE = '0b0000000001';

before(async () => {
  stack = await startStack();
  customerId = await newCustomer(stack, '株式会社レポート');
  token = await enrolledDevice(stack, customerId, DEVICE);
});
after(async () => { await stack?.stop(); });

/** Rows stored for a device, per table: what a rejected report must leave unchanged. */
function counts(deviceId = DEVICE) {
  const one = (sql) => stack.sql(sql)[0].n;
  return {
    reports: one(`SELECT count(*) AS n FROM device_reports WHERE device_id = '${deviceId}'`),
    events: one(`SELECT count(*) AS n FROM device_events WHERE device_id = '${deviceId}'`),
    threats: one(`SELECT coalesce(sum(count), 0) AS n FROM threats WHERE device_id = '${deviceId}'`),
    usage: one(`SELECT count(*) AS n FROM usage_records WHERE device_id = '${deviceId}'`),
    days: one(`SELECT coalesce(sum(events), 0) AS n FROM threat_days WHERE device_id = '${deviceId}'`),
    hours: one(`SELECT coalesce(sum(reports), 0) AS n FROM device_report_hours WHERE device_id = '${deviceId}'`),
  };
}

async function accepted(res, expected) {
  assert.equal(res.status, 202, await res.clone().text());
  assert.deepEqual(await res.json(), expected);
}

test('the api-v1 example is stored whole and counts as a heartbeat', async () => {
  const before = Date.now();
  const res = await sendReport(stack, token, report('r-000123', [threat('e-98812'), usage('u-5521')]));
  await accepted(res, { report_id: 'r-000123', accepted: 2, duplicates: 0 });

  const [t] = stack.sql(`SELECT * FROM threats WHERE device_id = '${DEVICE}'`);
  assert.equal(t.customer_id, customerId);
  assert.equal(t.count, 1);
  assert.equal(t.first_event_id, 'e-98812');
  assert.equal(t.name, 'ET MALWARE Win32/Emotet CnC Beacon');
  assert.equal(t.vendor_severity, 'critical');
  assert.equal(t.src_ip, '192.168.1.23');
  assert.equal(t.dst_port, 443);
  assert.equal(t.file_name, 'invoice.doc.exe');
  const [u] = stack.sql(`SELECT * FROM usage_records WHERE device_id = '${DEVICE}'`);
  assert.equal(u.hits, 412);
  assert.equal(u.bytes, 18233411);
  assert.equal(u.client_mac, '3c:22:fb:01:02:03');
  assert.equal(stack.sql(`SELECT sum(events) AS n FROM threat_days WHERE customer_id = '${customerId}'`)[0].n, 1);
  assert.equal(stack.sql(`SELECT sum(hits) AS n FROM usage_days WHERE customer_id = '${customerId}'`)[0].n, 412);
  assert.deepEqual(stack.sql(`SELECT host, name, hits, bytes FROM usage_host_days WHERE customer_id = '${customerId}'`),
    [{ host: '192.168.1.23', name: 'sns', hits: 412, bytes: 18233411 }], 'per internal host: its IP before its MAC');

  const [d] = stack.sql(`SELECT * FROM devices WHERE id = '${DEVICE}'`);
  assert.ok(d.last_seen_at >= before && d.last_seen_at <= Date.now());
  assert.deepEqual([d.firmware, d.definitions, d.clients], ['1.4.2', '2026.11.25.01', 37]);
  assert.equal(counts().hours, 1);
});

test('an empty events array is a plain heartbeat', async () => {
  stack.sql(`UPDATE devices SET last_seen_at = 0 WHERE id = '${DEVICE}'`);
  const res = await sendReport(stack, token, report('hb-1', [], { firmware: '1.4.3', clients: 12 }));
  await accepted(res, { report_id: 'hb-1', accepted: 0, duplicates: 0 });
  const [d] = stack.sql(`SELECT last_seen_at, firmware, clients FROM devices WHERE id = '${DEVICE}'`);
  assert.ok(d.last_seen_at > 0);
  assert.deepEqual([d.firmware, d.clients], ['1.4.3', 12]);
});

test('re-sending a report stores nothing new and answers accepted 0', async () => {
  const body = report('r-replay', [threat('e-r1'), threat('e-r2', { direction: 'inbound' }), usage('u-r1')]);
  await accepted(await sendReport(stack, token, body), { report_id: 'r-replay', accepted: 3, duplicates: 0 });
  const stored = counts();
  await accepted(await sendReport(stack, token, body), { report_id: 'r-replay', accepted: 0, duplicates: 3 });
  // Even with different events under the same report id: the report is already stored.
  const changed = { ...body, events: [threat('e-r9')] };
  await accepted(await sendReport(stack, token, changed), { report_id: 'r-replay', accepted: 0, duplicates: 1 });
  assert.deepEqual(counts(), stored);
});

test('events already stored count as duplicates in a new report', async () => {
  await accepted(await sendReport(stack, token, report('r-d1', [threat('e-d1')])),
    { report_id: 'r-d1', accepted: 1, duplicates: 0 });
  const before = counts();
  await accepted(await sendReport(stack, token, report('r-d2', [threat('e-d1'), threat('e-d2'), threat('e-d2')])),
    { report_id: 'r-d2', accepted: 1, duplicates: 2 });
  assert.equal(counts().events, before.events + 1);
  assert.equal(counts().threats, before.threats + 1);
});

test('concurrent retries of one report store it once', async () => {
  const body = report('r-race', Array.from({ length: 50 }, (_, i) => threat(`e-race-${i}`)));
  const before = counts();
  const answers = await Promise.all(Array.from({ length: 6 }, () => sendReport(stack, token, body)));
  const bodies = await Promise.all(answers.map((r) => { assert.equal(r.status, 202); return r.json(); }));
  assert.equal(bodies.reduce((n, b) => n + b.accepted, 0), 50);
  assert.equal(counts().events, before.events + 50);
  assert.equal(counts().threats, before.threats + 50);
  assert.equal(counts().days, before.days + 50);
});

test('repeats of one signature from one source within ten minutes are one row with a count', async () => {
  const scan = (i, secondsAgo) => threat(`e-scan-${i}`, {
    occurred_at: ago(secondsAgo), direction: 'inbound', action: 'blocked', function: 'ips',
    threat: { name: 'ET SCAN Suspicious inbound to MSSQL port 1433', signature_id: '2010935', vendor_severity: 'medium' },
    src: { ip: '198.51.100.77', port: 40000 + i }, dst: { ip: '192.0.2.10', port: 1433 },
  });
  // Put all 40 in one ten-minute bucket: seconds 0-39 of the current bucket, if it has run
  // that long, else of the previous one.
  const intoBucket = Math.floor(Date.now() / 1000) % 600;
  const base = intoBucket >= 60 ? 1 : intoBucket + 60;
  const events = Array.from({ length: 40 }, (_, i) => scan(i, base + i));
  await accepted(await sendReport(stack, token, report('r-scan', events)), { report_id: 'r-scan', accepted: 40, duplicates: 0 });
  const rows = stack.sql(`SELECT count, first_at, last_at, first_event_id FROM threats WHERE sig_key = 'sid:2010935'`);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].count, 40);
  assert.equal(rows[0].last_at - rows[0].first_at, 39_000);
  const [day] = stack.sql(`SELECT events FROM threat_days WHERE device_id = '${DEVICE}' AND vendor_severity = 'medium'`);
  assert.equal(day.events, 40);
});

test('every field rule of api-v1 is a 400 naming the field, and stores nothing', async () => {
  const before = counts();
  const cases = [
    [{ report_id: 'x'.repeat(65) }, '$.report_id'],
    [{ report_id: 'r/1' }, '$.report_id'],
    [{ sent_at: '2026-11-25 10:00' }, '$.sent_at'],
    [{ events: 'none' }, '$.events'],
    [{ events: [threat('e-x', { function: 'firewall' })] }, '$.events[0].function'],
    [{ events: [threat('e-ok'), threat('e-x', { action: 'quarantined' })] }, '$.events[1].action'],
    [{ events: [threat('e-x', { direction: 'sideways' })] }, '$.events[0].direction'],
    [{ events: [threat('e-x', { threat: { name: 'x', vendor_severity: 'severe' } })] }, '$.events[0].threat.vendor_severity'],
    [{ events: [threat('e-x', { threat: { name: '', vendor_severity: 'low' } })] }, '$.events[0].threat.name'],
    [{ events: [threat('e-x', { threat: { name: 'x', vendor_severity: 'low', category: 'C2' } })] }, '$.events[0].threat.category'],
    [{ events: [threat('e-x', { src: { ip: '999.1.1.1' } })] }, '$.events[0].src.ip'],
    [{ events: [threat('e-x', { src: { mac: '3c22fb010203' } })] }, '$.events[0].src.mac'],
    [{ events: [threat('e-x', { dst: { port: 65536 } })] }, '$.events[0].dst.port'],
    [{ events: [threat('e-x', { url: `https://x/${'a'.repeat(2048)}` })] }, '$.events[0].url'],
    [{ events: [threat('e-x', { file: { name: 'a'.repeat(256) } })] }, '$.events[0].file.name'],
    [{ events: [threat('e-x', { threat: { name: 'bad\u0007name', vendor_severity: 'low' } })] }, '$.events[0].threat.name'],
    [{ events: [threat('e-x', { occurred_at: ago(8 * 86400) })] }, '$.events[0].occurred_at'],
    [{ events: [threat('e-x', { occurred_at: ago(-600) })] }, '$.events[0].occurred_at'],
    [{ events: [usage('u-x', { period_start: ago(0), period_end: ago(60) })] }, '$.events[0].period_end'],
    [{ events: [usage('u-x', { kind: 'game' })] }, '$.events[0].kind'],
    [{ events: [usage('u-x', { hits: -1 })] }, '$.events[0].hits'],
    [{ events: [{ ...threat('e-x'), type: 'alarm' }] }, '$.events[0].type'],
    [{ events: [threat('e x')] }, '$.events[0].event_id'],
  ];
  for (const [change, path] of cases) {
    const res = await sendReport(stack, token, report('r-bad', [], change));
    await expectError(res, 400, 'invalid_field', path);
  }
  const missing = report('r-bad');
  delete missing.report_id;
  await expectError(await sendReport(stack, token, missing), 400, 'invalid_field', '$.report_id');
  await expectError(await sendReport(stack, token, '{"report_id": '), 400, 'invalid_json');
  await expectError(await sendReport(stack, token, '[1,2]'), 400, 'invalid_field', '$');
  assert.deepEqual(counts(), before);
});

test('unknown fields are ignored, unknown event types are not', async () => {
  const body = report('r-fwd', [{ ...threat('e-fwd'), severity_hint: 9 }], { vendor_blob: { a: 1 } });
  await accepted(await sendReport(stack, token, body), { report_id: 'r-fwd', accepted: 1, duplicates: 0 });
});

test('a report with a bad event anywhere stores none of its events', async () => {
  const before = counts();
  const events = Array.from({ length: 1000 }, (_, i) => threat(`e-atom-${i}`));
  events[999] = threat('e-atom-999', { dst: { ip: 'not-an-ip' } });
  await expectError(await sendReport(stack, token, report('r-atom', events)), 400, 'invalid_field', '$.events[999].dst.ip');
  assert.deepEqual(counts(), before);
});

test('a storage failure mid-report leaves nothing behind and the retry stores it whole', async () => {
  // A trigger makes the batch's last statement fail, after the events were inserted.
  stack.sql(`CREATE TRIGGER fail_hours BEFORE INSERT ON device_report_hours
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
  stack.sql(`DELETE FROM device_report_hours WHERE device_id = '${DEVICE}'`);
  const before = counts();
  const body = report('r-fail', [threat('e-fail-1'), usage('u-fail-1')]);
  try {
    const res = await sendReport(stack, token, body);
    const err = await expectError(res, 503, 'unavailable');
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    assert.ok(!JSON.stringify(err).includes('injected'), 'no internals in the answer');
    assert.deepEqual(counts(), before);
  } finally {
    stack.sql('DROP TRIGGER fail_hours');
  }
  await accepted(await sendReport(stack, token, body), { report_id: 'r-fail', accepted: 2, duplicates: 0 });
});

test('more than 1000 events or more than 1 MiB is 413', async () => {
  const before = counts();
  const events = Array.from({ length: 1001 }, (_, i) => ({ type: 'usage', event_id: `u-${i}` }));
  await expectError(await sendReport(stack, token, report('r-big', events)), 413, 'payload_too_large');
  const huge = JSON.stringify(report('r-huge', [], { padding: 'x'.repeat(1024 * 1024) }));
  await expectError(await sendReport(stack, token, huge), 413, 'payload_too_large');
  assert.deepEqual(counts(), before);
});

test('tokens: missing, malformed, unknown and revoked are 401', async () => {
  const body = report('r-auth', [threat('e-auth')]);
  await expectError(await sendReport(stack, null, body), 401, 'unauthenticated');
  await expectError(await sendReport(stack, 'not-a-token', body), 401, 'unauthenticated');
  await expectError(await sendReport(stack, `mmd_${'0'.repeat(64)}`, body), 401, 'unauthenticated');
  await expectError(await sendReport(stack, token, body, { authorization: `Basic ${token}` }), 401, 'unauthenticated');

  const other = await enrolledDevice(stack, customerId, '0b0000000002', 'utm2');
  const replacement = await enrolledDevice(stack, customerId, '0b0000000002', 'utm2');
  await expectError(await sendReport(stack, other, body), 401, 'unauthenticated');
  await accepted(await sendReport(stack, replacement, body), { report_id: 'r-auth', accepted: 1, duplicates: 0 });
});

test('revoking, disabling or ending a contract takes effect on the very next report', async () => {
  const c = await newCustomer(stack, '株式会社即時');
  const t = await enrolledDevice(stack, c, '0b0000000004');
  // The Worker now remembers this token's device.
  await accepted(await sendReport(stack, t, report('r-now-1')), { report_id: 'r-now-1', accepted: 0, duplicates: 0 });
  const before = counts('0b0000000004');
  stack.sql("UPDATE devices SET disabled = 1 WHERE id = '0b0000000004'");
  await expectError(await sendReport(stack, t, report('r-now-2', [threat('e-now')])), 403, 'device_disabled');
  stack.sql("UPDATE devices SET disabled = 0 WHERE id = '0b0000000004'");
  await accepted(await sendReport(stack, t, report('r-now-3')), { report_id: 'r-now-3', accepted: 0, duplicates: 0 });
  const replacement = await enrolledDevice(stack, c, '0b0000000004');
  await expectError(await sendReport(stack, t, report('r-now-4', [threat('e-now')])), 401, 'unauthenticated');
  await accepted(await sendReport(stack, replacement, report('r-now-5')), { report_id: 'r-now-5', accepted: 0, duplicates: 0 });
  stack.sql(`UPDATE customers SET contract_ended_at = 1 WHERE id = '${c}'`);
  await expectError(await sendReport(stack, replacement, report('r-now-6', [threat('e-now')])), 403, 'contract_ended');
  const after = counts('0b0000000004');
  assert.equal(after.events, before.events);
  assert.equal(after.reports, before.reports + 2);
});

test('a disabled device and an ended contract are 403 and store nothing', async () => {
  const c = await newCustomer(stack, '株式会社解約予定');
  const t = await enrolledDevice(stack, c, '0b0000000003');
  stack.sql("UPDATE devices SET disabled = 1 WHERE id = '0b0000000003'");
  await expectError(await sendReport(stack, t, report('r-x', [threat('e-x')])), 403, 'device_disabled');
  stack.sql(`UPDATE customers SET contract_ended_at = 1 WHERE id = '${c}'`);
  await expectError(await sendReport(stack, t, report('r-x', [threat('e-x')])), 403, 'contract_ended');
  assert.deepEqual(Object.values(counts('0b0000000003')), [0, 0, 0, 0, 0, 0]);
});

test('a body that is not application/json is 415; other methods are 405', async () => {
  const res = await sendReport(stack, token, JSON.stringify(report('r-ct')), { 'content-type': 'text/plain' });
  await expectError(res, 415, 'unsupported_media_type');
  const get = await fetch(`${stack.url}/api/v1/device/reports`, { headers: { authorization: `Bearer ${token}` } });
  await expectError(get, 405, 'method_not_allowed');
  assert.equal(get.headers.get('allow'), 'POST');
});

test('an appliance emptying its spool at 10 reports a second is never refused', async () => {
  const start = Date.now();
  for (let i = 0; i < 30; i += 1) {
    const due = start + i * 100;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    const res = await sendReport(stack, token, report(`r-spool-${i}`, [threat(`e-spool-${i}`)]));
    assert.equal(res.status, 202);
  }
});

test("one customer's appliance never touches another's data, even with the same ids", async () => {
  const a = await newCustomer(stack, '株式会社エー');
  const b = await newCustomer(stack, '株式会社ビー');
  const tokenA = await enrolledDevice(stack, a, '0b00000000aa');
  const tokenB = await enrolledDevice(stack, b, '0b00000000bb');
  const same = report('r-same', [threat('e-same'), usage('u-same')]);
  await accepted(await sendReport(stack, tokenB, same), { report_id: 'r-same', accepted: 2, duplicates: 0 });
  // A names B's device and customer in the body: ignored, the token decides.
  const spoof = { ...same, device_id: '0b00000000bb', customer_id: b };
  await accepted(await sendReport(stack, tokenA, spoof), { report_id: 'r-same', accepted: 2, duplicates: 0 });
  for (const [table, col] of [['threats', 'customer_id'], ['usage_records', 'customer_id'], ['threat_days', 'customer_id'], ['usage_host_days', 'customer_id']]) {
    const rows = stack.sql(`SELECT device_id, ${col} AS c FROM ${table} WHERE device_id IN ('0b00000000aa', '0b00000000bb') ORDER BY device_id`);
    assert.deepEqual(rows.map((r) => [r.device_id, r.c]), [['0b00000000aa', a], ['0b00000000bb', b]], table);
  }
  assert.equal(counts('0b00000000bb').events, 2);
  // A's operator-issued device id cannot be registered under B.
  const res = await admin(stack, `/api/v1/admin/customers/${b}/devices`, { device_id: '0b00000000aa', name: 'x' });
  await expectError(res, 409, 'conflict');
});
