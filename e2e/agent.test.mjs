// The agent against the real Worker: enroll, forward the sample eve.json, and live through
// an outage — the reports it could not deliver wait in its spool, survive the agent being
// killed, and arrive exactly once when the cloud is back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, root } from './stack.mjs';
import { admin } from './devices.mjs';

const agent = join(process.env.MIMAMORI_TARGET_DIR || join(root, 'target'), 'agent', 'release', 'mimamori-agent');
const sample = join(root, 'agent', 'testdata', 'eve-sample.json');
const DEVICE = 'c025a28b0a41';
let stack;
let dir;

before(async () => {
  stack = await startStack();
  dir = mkdtempSync(join(tmpdir(), 'mimamori-agent-'));
});
after(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = (args) => execFileSync(agent, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const stored = () => stack.sql(`SELECT
    (SELECT count(*) FROM device_events WHERE device_id = '${DEVICE}') AS events,
    (SELECT coalesce(sum(count), 0) FROM threats WHERE device_id = '${DEVICE}') AS threats,
    (SELECT count(*) FROM usage_records WHERE device_id = '${DEVICE}') AS usage`)[0];

test('the agent enrolls with an operator code and never prints its token', async () => {
  const res = await admin(stack, '/api/v1/admin/customers/cus_demo/devices', { device_id: DEVICE, name: 'utm1' });
  const { enrollment_code } = await res.json();
  const out = run(['enroll', '--url', stack.url, '--device-id', DEVICE, '--code', enrollment_code, '--state', dir]);
  assert.match(out, /enrolled c025a28b0a41/);
  assert.doesNotMatch(out, /mmd_/);
});

test('reports spooled during an outage survive a killed agent and arrive exactly once', async () => {
  await stack.halt();
  // The agent reads the whole file, cannot deliver, keeps retrying; then it is killed.
  const child = spawn(agent, ['forward-eve', sample, '--state', dir, '--replay', '--quiet'], { stdio: 'ignore' });
  const spool = join(dir, 'spool');
  const deadline = Date.now() + 20_000;
  while (!(readdirSync(dir).includes('spool') && readdirSync(spool).some((f) => f.endsWith('.json')))) {
    assert.ok(Date.now() < deadline, 'the report reached the spool');
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 500));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const waiting = readdirSync(spool).filter((f) => f.endsWith('.json'));
  assert.ok(waiting.length >= 1);

  await stack.resume();
  assert.deepEqual(stored(), { events: 0, threats: 0, usage: 0 });
  // A new agent on the same state dir delivers the spool first; the file forwarded again
  // has the same event ids, so the second copy is all duplicates.
  const out = run(['forward-eve', sample, '--state', dir, '--replay', '--quiet']);
  assert.match(out, /left in spool\s+0/);
  // The sample holds 16 threat events and its usage sums to hourly records; each is
  // stored once, and every event of the second forwarding is a duplicate.
  const after = stored();
  assert.equal(after.threats, 16);
  assert.ok(after.usage >= 1);
  assert.equal(after.events, after.threats + after.usage);
  assert.equal(Number(out.match(/duplicates\s+(\d+)/)[1]), after.events, out);
  assert.deepEqual(readdirSync(spool).filter((f) => f.endsWith('.json')), []);
});

test('a simulated appliance keeps the portal live: heartbeats, threats and usage', async () => {
  const before = stored();
  const out = run(['simulate', '--state', dir, '--speed', '600', '--reports', '30', '--seed', '3', '--quiet']);
  assert.match(out, /delivered 30/);
  const after = stored();
  assert.ok(after.events > before.events, 'some events were stored');
  const [d] = stack.sql(`SELECT last_seen_at, clients FROM devices WHERE id = '${DEVICE}'`);
  assert.ok(Date.now() - d.last_seen_at < 60_000);
  assert.ok(d.clients > 0);
});
