// Rate limits from the outside (issue 12, items 3 and 6): enrollment attempts per device id
// and per address, the operator API per token, and the tighter limit on issuing accounts.
// Every limit answers 429 `rate_limited` with Retry-After, and a right enrollment code
// gets the same 429 as a wrong one once a window is full.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';
import { admin, newCustomer } from './devices.mjs';
import { address, api } from './identity.mjs';

let stack;
let customerId;
before(async () => {
  stack = await startStack({
    vars: {
      ENROLL_PER_DEVICE_PER_HOUR: '3',
      ENROLL_PER_ADDRESS_PER_HOUR: '8',
      ADMIN_API_PER_MIN: '40',
      ACCOUNTS_ISSUED_PER_HOUR: '2',
    },
  });
  customerId = await newCustomer(stack, '株式会社レート');
});
after(async () => { await stack?.stop(); });

function enroll(deviceId, code) {
  return fetch(`${stack.url}/api/v1/device/enroll`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ device_id: deviceId, enrollment_code: code }),
  });
}

async function issueCode(deviceId) {
  const res = await admin(stack, `/api/v1/admin/customers/${customerId}/devices`, { device_id: deviceId, name: 'utm' });
  assert.equal(res.status, 201);
  return (await res.json()).enrollment_code;
}

async function rateLimited(res) {
  assert.equal(res.status, 429, `429 expected, got ${res.status}`);
  const retry = Number(res.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 3600, `Retry-After ${res.headers.get('retry-after')}`);
  assert.equal((await res.json()).error.code, 'rate_limited');
}

test('enrollment attempts per device id are limited, and the right code then gets the same 429', async () => {
  const code = await issueCode('0b0000000001');
  for (let i = 0; i < 3; i += 1) {
    const res = await enroll('0b0000000001', `WRONG-CODE-${i}`);
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.code, 'unauthenticated');
  }
  await rateLimited(await enroll('0b0000000001', 'WRONG-CODE-X'));
  await rateLimited(await enroll('0b0000000001', code));
  assert.deepEqual(stack.sql("SELECT count(*) AS n FROM device_tokens WHERE device_id = '0b0000000001'"), [{ n: 0 }],
    'nothing was issued');
});

test('enrollment attempts per address are limited across device ids', async () => {
  // 5 attempts were made above, refused ones included: 3 more of the 8 are left.
  const ids = ['0b0000000002', '0b0000000003', '0b0000000004'];
  for (const id of ids) assert.equal((await enroll(id, 'WRONG')).status, 401);
  await rateLimited(await enroll('0b0000000006', 'WRONG'));
});

test('the operator API is limited per token, other tokens go on, and refused requests are not audited', async () => {
  const issued = await api(stack, 'POST', '/api/v1/admin/tokens', { name: 'rate-test', scope: 'operator' });
  assert.equal(issued.status, 201, JSON.stringify(issued.body));
  const token = issued.body.token;
  let answered = 0;
  let refused;
  for (let i = 0; i < 60 && !refused; i += 1) {
    const res = await fetch(`${stack.url}/api/v1/admin/audit?limit=1`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status === 429) refused = res; else { assert.equal(res.status, 200); answered += 1; await res.body?.cancel(); }
  }
  assert.ok(refused, 'the token met its limit');
  assert.equal(answered, 40, 'exactly ADMIN_API_PER_MIN requests were answered');
  await rateLimited(refused);
  const again = await fetch(`${stack.url}/api/v1/admin/audit?limit=1`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(again.status, 429);
  const other = await api(stack, 'POST', '/api/v1/admin/customers', {
    name: '株式会社ほか', service_start: '2026-12-01', alert_recipients: ['x@example.jp'],
  });
  assert.equal(other.status, 201, 'the operator token has its own count');
  const audited = stack.sql(`SELECT count(*) AS n FROM audit_log WHERE detail LIKE '%/api/v1/admin/audit%'`)[0].n;
  assert.ok(audited <= 40, `refused requests are not audited (${audited} rows)`);
});

test('issuing accounts has a tighter limit per token than the rest of the API', async () => {
  const path = `/api/v1/admin/customers/${customerId}/accounts`;
  for (let i = 0; i < 2; i += 1) {
    const res = await api(stack, 'POST', path, { email: address('rate') });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  const before = (await stack.sink.mails()).length;
  const res = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.settings.OPERATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: address('rate') }),
  });
  await rateLimited(res);
  assert.equal((await stack.sink.mails()).length, before, 'no mail went out');
  // The rest of the API still answers this token.
  const customer = await api(stack, 'POST', '/api/v1/admin/customers', {
    name: '株式会社まだ', service_start: '2026-12-01', alert_recipients: ['y@example.jp'],
  });
  assert.equal(customer.status, 201);
});
