// Appliance-down monitoring from the outside, driven through the cron route with an
// injected clock: a first mail when an appliance goes silent, a daily re-notice at 09:00
// Asia/Tokyo while it stays down, and a recovery mail when it reports again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';
import { newCustomer, enrolledDevice, sendReport, report } from './devices.mjs';

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
});

