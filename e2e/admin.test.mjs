// The operator API of api-v1 from the outside: authentication, media type, field rules
// with paths, and what a customer and an appliance registration answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

function post(path, body, { token = stack.settings.OPERATOR_TOKEN, type = 'application/json' } = {}) {
  const headers = { 'content-type': type };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(`${stack.url}${path}`, {
    method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function expectError(res, status, code, path) {
  assert.equal(res.status, status);
  const body = await res.json();
  assert.equal(body.error.code, code, JSON.stringify(body));
  assert.ok(body.error.message.length > 0);
  if (path !== undefined) assert.equal(body.error.path, path);
  return body;
}

const customer = {
  name: '株式会社サンプル', service_start: '2026-12-01', paid_from: '2027-01-01',
  alert_recipients: ['a@example.jp', 'b@example.jp', 'c@example.jp'],
};

test('without the operator token the admin API is 401, and the token never appears in an answer', async () => {
  await expectError(await post('/api/v1/admin/customers', customer, { token: null }), 401, 'unauthenticated');
  await expectError(await post('/api/v1/admin/customers', customer, { token: 'wrong' }), 401, 'unauthenticated');
  const res = await post('/api/v1/admin/customers', customer, { token: `${stack.settings.OPERATOR_TOKEN}x` });
  const text = await res.text();
  assert.equal(res.status, 401);
  assert.ok(!text.includes(stack.settings.OPERATOR_TOKEN));
});

test('a body that is not application/json is 415, and broken JSON is 400 invalid_json', async () => {
  await expectError(await post('/api/v1/admin/customers', 'name=x', { type: 'application/x-www-form-urlencoded' }),
    415, 'unsupported_media_type');
  await expectError(await post('/api/v1/admin/customers', '{"name": '), 400, 'invalid_json');
});

test('more than three alert recipients is 400 invalid_field at the list', async () => {
  const four = { ...customer, alert_recipients: [...customer.alert_recipients, 'd@example.jp'] };
  await expectError(await post('/api/v1/admin/customers', four), 400, 'invalid_field', '$.alert_recipients');
  const bad = { ...customer, alert_recipients: ['a@example.jp', 'not an address'] };
  await expectError(await post('/api/v1/admin/customers', bad), 400, 'invalid_field', '$.alert_recipients[1]');
  const unknownReseller = { ...customer, reseller_id: 'rsl_nobody' };
  await expectError(await post('/api/v1/admin/customers', unknownReseller), 400, 'invalid_field', '$.reseller_id');
});

test('a customer is created, and its appliance gets a single code that expires in 30 days', async () => {
  const res = await post('/api/v1/admin/customers', { ...customer, reseller_id: 'rsl_demo' });
  assert.equal(res.status, 201);
  const { customer_id } = await res.json();
  assert.match(customer_id, /^[A-Za-z0-9._:-]{1,64}$/);

  const dev = await post(`/api/v1/admin/customers/${customer_id}/devices`, { device_id: 'a0b1c2d3e4f5', name: 'utm1' });
  assert.equal(dev.status, 201);
  const { enrollment_code, expires_at } = await dev.json();
  assert.match(enrollment_code, /^[A-Z2-9]{4}(-[A-Z2-9]{4}){4}$/);
  assert.match(expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00$/);
  const days = (Date.parse(expires_at) - Date.now()) / 86_400_000;
  assert.ok(days > 29.9 && days <= 30, `expires in ${days} days`);

  // A replacement appliance for the same customer gets a new, different code.
  const again = await post(`/api/v1/admin/customers/${customer_id}/devices`, { device_id: 'a0b1c2d3e4f5', name: 'utm1-new' });
  assert.equal(again.status, 201);
  assert.notEqual((await again.json()).enrollment_code, enrollment_code);
});

test("another customer's device id is a 409, an unknown customer a 404", async () => {
  // c025a28b0a41 is the demo company's utm1 (seed).
  const res = await post('/api/v1/admin/customers', customer);
  const { customer_id } = await res.json();
  await expectError(await post(`/api/v1/admin/customers/${customer_id}/devices`, { device_id: 'c025a28b0a41', name: 'mine' }),
    409, 'conflict');
  await expectError(await post('/api/v1/admin/customers/cus_nobody/devices', { device_id: 'a0b1c2d3e4f6', name: 'x' }),
    404, 'not_found');
  await expectError(await post(`/api/v1/admin/customers/${customer_id}/devices`, { device_id: 'A0:B1', name: 'x' }),
    400, 'invalid_field', '$.device_id');
});

test('a wrong method on the admin API is 405 with Allow: POST', async () => {
  const res = await fetch(`${stack.url}/api/v1/admin/customers`);
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'POST');
  await expectError(res, 405, 'method_not_allowed');
});
