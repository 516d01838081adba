// Helpers for tests that act as the operator and as appliances: create a customer, register
// and enroll a device, send reports shaped like api-v1's example with times near now.
import assert from 'node:assert/strict';

export function admin(stack, path, body) {
  return fetch(`${stack.url}${path}`, {
    method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.settings.OPERATOR_TOKEN}` },
  });
}

export async function newCustomer(stack, name = '株式会社テスト', recipients = ['it@example.jp']) {
  const res = await admin(stack, '/api/v1/admin/customers', {
    name, service_start: '2026-11-01', alert_recipients: recipients,
  });
  assert.equal(res.status, 201);
  return (await res.json()).customer_id;
}

/** Registers `deviceId` for the customer and enrolls it; returns the device token. */
export async function enrolledDevice(stack, customerId, deviceId, name = 'utm1') {
  const res = await admin(stack, `/api/v1/admin/customers/${customerId}/devices`, { device_id: deviceId, name });
  assert.equal(res.status, 201);
  const { enrollment_code } = await res.json();
  const enrolled = await fetch(`${stack.url}/api/v1/device/enroll`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ device_id: deviceId, enrollment_code }),
  });
  assert.equal(enrolled.status, 201);
  return (await enrolled.json()).device_token;
}

/**
 * POSTs a report (an object, or raw bytes as a string) with the device token. A kept-alive
 * connection that `wrangler dev` closed just as it was reused ("other side closed", before
 * any answer) is retried once on a new one, as an appliance would: reports are idempotent.
 */
export async function sendReport(stack, token, body, headers = {}) {
  const send = () => fetch(`${stack.url}/api/v1/device/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  try {
    return await send();
  } catch (e) {
    if (e.cause?.code !== 'UND_ERR_SOCKET') throw e;
    return send();
  }
}

/** An RFC 3339 time `secondsAgo` before now, in Asia/Tokyo. */
export function ago(secondsAgo) {
  const t = new Date(Date.now() - secondsAgo * 1000 + 9 * 3600 * 1000);
  return t.toISOString().replace(/\.\d+Z$/, '+09:00');
}

/** A threat event like api-v1's example; `overrides` replaces top-level fields. */
export function threat(eventId, overrides = {}) {
  return {
    type: 'threat', event_id: eventId, occurred_at: ago(30), function: 'ips',
    action: 'blocked', direction: 'outbound',
    threat: { name: 'ET MALWARE Win32/Emotet CnC Beacon', signature_id: '2030361', category: 'c2', vendor_severity: 'critical' },
    src: { ip: '192.168.1.23', port: 50122, mac: '3c:22:fb:01:02:03' },
    dst: { ip: '203.0.113.9', port: 443 },
    protocol: 'tcp', url: 'https://bad.example/gate.php',
    file: { name: 'invoice.doc.exe', sha256: 'ab'.repeat(32) },
    ...overrides,
  };
}

export function usage(eventId, overrides = {}) {
  return {
    type: 'usage', event_id: eventId, period_start: ago(3600), period_end: ago(0),
    kind: 'web_category', name: 'sns', hits: 412, bytes: 18233411,
    client: { ip: '192.168.1.23', mac: '3c:22:fb:01:02:03' },
    ...overrides,
  };
}

export function report(reportId, events = [], extra = {}) {
  return { report_id: reportId, sent_at: ago(0), firmware: '1.4.2', definitions: '2026.11.25.01', clients: 37, events, ...extra };
}

export async function expectError(res, status, code, path) {
  assert.equal(res.status, status, `expected ${status} ${code}`);
  const body = await res.json();
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  if (path !== undefined) assert.equal(body.error.path, path);
  return body;
}

/** Polls `check` every 200 ms until it returns something truthy (returned), or fails after `ms`. */
export async function waitFor(check, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}
