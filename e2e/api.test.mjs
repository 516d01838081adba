// The Worker's HTTP plumbing from the outside: health, api-v1 error bodies, and the cron
// trigger reaching D1 and KV.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';
import { readyUser } from './identity.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

function assertErrorBody(body, code) {
  assert.equal(typeof body.error, 'object', `error envelope in ${JSON.stringify(body)}`);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
}

test('health answers ok with the version when the database answers', async () => {
  const res = await fetch(`${stack.url}/api/v1/health`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const body = await res.json();
  assert.equal(body.status, 'ok');
  assert.equal(body.db, 'ok');
  assert.match(body.version, /^\d+\.\d+\.\d+/);
});

test('an unknown api path is a 404 with the api-v1 error body', async () => {
  for (const path of ['/api/v1/nope', '/api/v1', '/api/v1/device/unknown/deeper']) {
    const res = await fetch(`${stack.url}${path}`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 404, path);
    assertErrorBody(await res.json(), 'not_found');
  }
});

test('requests with bodies the route never reads do not disturb the Worker', async () => {
  // Regression: an unread request body used to crash the isolate after the response, so
  // that about every other request afterwards failed with a 503 "worker restarted".
  const statuses = [];
  for (let i = 0; i < 40; i++) {
    const res = await fetch(`${stack.url}/api/v1/nope`, { method: 'POST', body: JSON.stringify({ i }) });
    statuses.push(res.status);
    await res.arrayBuffer();
  }
  assert.deepEqual([...new Set(statuses)], [404]);
});

test('a body over 1 MiB is a 413 payload_too_large, and the Worker keeps serving', async () => {
  const big = 'x'.repeat(1024 * 1024 + 1);
  const res = await fetch(`${stack.url}/api/v1/device/reports`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: big,
  });
  assert.equal(res.status, 413);
  assertErrorBody(await res.json(), 'payload_too_large');
  const health = await fetch(`${stack.url}/api/v1/health`, { method: 'GET' });
  assert.equal(health.status, 200);
});

test('a wrong method on health is a 405 with Allow and the error body', async () => {
  const res = await fetch(`${stack.url}/api/v1/health`, { method: 'DELETE' });
  assert.equal(res.status, 405);
  assert.match(res.headers.get('allow'), /GET/);
  assertErrorBody(await res.json(), 'method_not_allowed');
});

test('the cron trigger runs the sweep, which reads D1 and records its summary in KV', async () => {
  const asOperator = { headers: { authorization: `Bearer ${stack.settings.OPERATOR_TOKEN}` } };
  const before = await (await fetch(`${stack.url}/api/v1/health`, asOperator)).json();
  assert.equal(before.last_sweep, null);

  const res = await fetch(`${stack.url}/__scheduled?cron=*+*+*+*+*`);
  assert.equal(res.status, 200);

  const body = await (await fetch(`${stack.url}/api/v1/health`, asOperator)).json();
  // The seed has four appliances over two customers; one (utm3) went silent 3 hours ago.
  assert.equal(body.last_sweep.devices, 4);
  assert.equal(body.last_sweep.offline, 1);
  assert.match(body.last_sweep.at, /\+09:00$/);
});

test('health shows the fleet figures of the last sweep to the operator only', async () => {
  await fetch(`${stack.url}/__scheduled?cron=*+*+*+*+*`);
  for (const headers of [{}, { authorization: 'Bearer not-a-token' }]) {
    const res = await fetch(`${stack.url}/api/v1/health`, { headers });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), ['config', 'db', 'status', 'version'], JSON.stringify(body));
  }
  const operator = await fetch(`${stack.url}/api/v1/health`, {
    headers: { authorization: `Bearer ${stack.settings.OPERATOR_TOKEN}` },
  });
  assert.equal((await operator.json()).last_sweep.devices, 4);
});

test('an unknown page is a 404 in Japanese, not an API error; strangers are sent to ログイン first', async () => {
  const stranger = await fetch(`${stack.url}/no-such-page`, { redirect: 'manual' });
  assert.equal(stranger.status, 303);
  assert.equal(stranger.headers.get('location'), '/login');
  const { visitor } = await readyUser(stack, '/api/v1/admin/customers/cus_demo/accounts');
  const res = await visitor.get('/no-such-page');
  assert.equal(res.status, 404);
  assert.match(res.res.headers.get('content-type'), /text\/html/);
  assert.match(res.html, /ページが見つかりません/);
});

test('health is 503 with db unavailable when the database has no schema', async () => {
  const bare = await startStack({ migrate: false });
  try {
    const res = await fetch(`${bare.url}/api/v1/health`);
    assert.equal(res.status, 503);
    assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After seconds');
    const body = await res.json();
    assert.equal(body.db, 'unavailable');
    assertErrorBody(body, 'unavailable');
  } finally {
    await bare.stop();
  }
});
