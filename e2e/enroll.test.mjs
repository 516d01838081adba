// Enrollment from the outside: an operator-issued code buys one device token, once; a
// replacement appliance's enrollment revokes the earlier tokens; disabled devices and
// ended contracts are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';

let stack;
let customerId;
before(async () => {
  stack = await startStack();
  const res = await admin('/api/v1/admin/customers', {
    name: '株式会社エンロール', service_start: '2026-12-01', alert_recipients: ['it@example.jp'],
  });
  customerId = (await res.json()).customer_id;
});
after(async () => { await stack?.stop(); });

function admin(path, body) {
  return fetch(`${stack.url}${path}`, {
    method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.settings.OPERATOR_TOKEN}` },
  });
}

async function issueCode(deviceId, name = 'utm1', customer = customerId) {
  const res = await admin(`/api/v1/admin/customers/${customer}/devices`, { device_id: deviceId, name });
  assert.equal(res.status, 201);
  return (await res.json()).enrollment_code;
}

function enroll(body) {
  return fetch(`${stack.url}/api/v1/device/enroll`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
}

async function expectError(res, status, code) {
  assert.equal(res.status, status);
  assert.equal((await res.json()).error.code, code);
}

test('a code buys one token, which is returned once and stored only as a hash', async () => {
  const code = await issueCode('0a0000000001');
  const res = await enroll({ device_id: '0a0000000001', enrollment_code: code, model: 'UTM-S100', firmware: '1.4.2' });
  assert.equal(res.status, 201);
  const { device_token, report_interval_s } = await res.json();
  assert.equal(report_interval_s, 60);
  assert.ok(device_token.length >= 32);
  const rows = stack.sql("SELECT token_hash FROM device_tokens WHERE device_id = '0a0000000001'");
  assert.equal(rows.length, 1);
  assert.notEqual(rows[0].token_hash, device_token);
  assert.ok(!JSON.stringify(stack.sql('SELECT * FROM device_tokens')).includes(device_token));
  assert.deepEqual(stack.sql("SELECT model, firmware FROM devices WHERE id = '0a0000000001'"),
    [{ model: 'UTM-S100', firmware: '1.4.2' }]);

  await expectError(await enroll({ device_id: '0a0000000001', enrollment_code: code }), 401, 'unauthenticated');
});

test('a code typed in lower case with spaces still works', async () => {
  const code = await issueCode('0a0000000002');
  const typed = code.toLowerCase().replaceAll('-', ' ');
  assert.equal((await enroll({ device_id: '0a0000000002', enrollment_code: typed })).status, 201);
});

test('wrong codes, codes for another device and expired codes are 401', async () => {
  const code = await issueCode('0a0000000003');
  await expectError(await enroll({ device_id: '0a0000000003', enrollment_code: 'AAAA-BBBB-CCCC-DDDD-EEEE' }), 401, 'unauthenticated');
  await expectError(await enroll({ device_id: '0a0000000004', enrollment_code: code }), 401, 'unauthenticated');
  stack.sql("UPDATE enrollment_codes SET expires_at = 0 WHERE device_id = '0a0000000003'");
  await expectError(await enroll({ device_id: '0a0000000003', enrollment_code: code }), 401, 'unauthenticated');
});

test('enrolling a replacement appliance revokes every earlier token of that device', async () => {
  const first = await enroll({ device_id: '0a0000000005', enrollment_code: await issueCode('0a0000000005') });
  assert.equal(first.status, 201);
  const second = await enroll({ device_id: '0a0000000005', enrollment_code: await issueCode('0a0000000005') });
  assert.equal(second.status, 201);
  const live = stack.sql("SELECT count(*) AS n FROM device_tokens WHERE device_id = '0a0000000005' AND revoked_at IS NULL");
  const all = stack.sql("SELECT count(*) AS n FROM device_tokens WHERE device_id = '0a0000000005'");
  assert.deepEqual([live[0].n, all[0].n], [1, 2]);
});

test('a disabled device is 403 device_disabled, an ended contract 403 contract_ended', async () => {
  const code = await issueCode('0a0000000006');
  stack.sql("UPDATE devices SET disabled = 1 WHERE id = '0a0000000006'");
  await expectError(await enroll({ device_id: '0a0000000006', enrollment_code: code }), 403, 'device_disabled');
  stack.sql(`UPDATE customers SET contract_ended_at = 1 WHERE id = '${customerId}'`);
  await expectError(await enroll({ device_id: '0a0000000006', enrollment_code: code }), 403, 'contract_ended');
});

test('an enroll body that breaks the rules is 400 with the field, or 415 when not JSON', async () => {
  const res = await enroll({ device_id: 'C0:25:A2', enrollment_code: 'x' });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error.path, '$.device_id');
  const form = await fetch(`${stack.url}/api/v1/device/enroll`, { method: 'POST', body: 'device_id=x' });
  await expectError(form, 415, 'unsupported_media_type');
});

test('a new code voids the earlier unused codes of that device id, and the live token stays', async () => {
  const created = await admin('/api/v1/admin/customers', {
    name: '株式会社さいはっこう', service_start: '2026-12-01', alert_recipients: ['it@example.jp'],
  });
  const customer = (await created.json()).customer_id;
  const issueCode_ = (id) => issueCode(id, 'utm1', customer);
  const slip = await issueCode_('0a00000000f1');
  const live = await enroll({ device_id: '0a00000000f1', enrollment_code: slip });
  assert.equal(live.status, 201);
  const { device_token } = await live.json();
  const old = await issueCode_('0a00000000f1');
  const current = await issueCode_('0a00000000f1');
  // The earlier, never used code is void: it neither enrolls nor revokes the live token.
  await expectError(await enroll({ device_id: '0a00000000f1', enrollment_code: old }), 401, 'unauthenticated');
  assert.deepEqual(
    stack.sql("SELECT count(*) AS n FROM device_tokens WHERE device_id = '0a00000000f1' AND revoked_at IS NULL"),
    [{ n: 1 }]);
  const heartbeat = await fetch(`${stack.url}/api/v1/device/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${device_token}` },
    body: JSON.stringify({ report_id: 'r-void-1', sent_at: new Date().toISOString(), events: [] }),
  });
  assert.equal(heartbeat.status, 202, 'the live appliance still reports');
  // The newest code enrolls the replacement.
  assert.equal((await enroll({ device_id: '0a00000000f1', enrollment_code: current })).status, 201);
});
