// Sign-in hardened from the outside (issue 12, items 1, 8, 9 and 10): a form field longer
// than any real value is answered like a wrong one and leaves a short audit entry; a lock
// is written in the audit log once, not once per refused attempt; the audit log is read a
// page at a time and trimmed by the cron; codes at rest are keyed digests and recovery
// codes wait sealed for their one page view; a new session id never renews the sign-in's
// 12-hour limit or the password's freshness; SMS codes go only to Japanese mobiles and at
// most five an hour to one number.
import { test, before, after } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';
import { newCustomer } from './devices.mjs';
import { Visitor, api, readyUser } from './identity.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

const accountsOf = (customer) => `/api/v1/admin/customers/${customer}/accounts`;
const unique = () => Math.random().toString(36).slice(2, 8);
const quote = (s) => `'${s.replaceAll("'", "''")}'`;
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

/** The audit rows about `loginId` (as stored). */
function auditOf(loginId) {
  return stack.sql(`SELECT login_id, detail, ip, length(CAST(user_agent AS BLOB)) AS ua_bytes,
    length(CAST(login_id AS BLOB)) AS id_bytes FROM audit_log WHERE login_id LIKE ${quote(`${loginId}%`)}`);
}

test('a 900 KB login id is answered like a wrong password, counted, and leaves a short entry', async () => {
  const v = new Visitor(stack.url);
  const wrong = await v.post('/auth/login', { login_id: `nobody-${unique()}`, password: 'some-password-1' }, { from: '/login' });
  const prefix = `long-${unique()}-`;
  const huge = prefix + 'x'.repeat(900 * 1024);
  const headers = { 'user-agent': `agent-${'y'.repeat(8000)}` };
  const r = await v.post('/auth/login', { login_id: huge, password: 'some-password-1' }, { from: '/login', headers });
  assert.equal(r.status, 303);
  assert.equal(r.location, wrong.location, 'the same answer as for a wrong password');
  assert.equal(r.location, '/login?e=invalid');
  const [row, ...more] = auditOf(prefix);
  assert.equal(more.length, 0, 'one entry');
  assert.ok(row.id_bytes <= 64, `login id kept: ${row.id_bytes} bytes`);
  assert.ok(row.ua_bytes <= 256, `user agent kept: ${row.ua_bytes} bytes`);
  assert.ok(row.login_id.startsWith(prefix));
  // Counted like any failure: four more and the (cut) id is locked.
  let last;
  for (let i = 0; i < 4; i += 1) {
    last = await v.post('/auth/login', { login_id: huge, password: `guess-${i}-password` }, { from: '/login' });
  }
  assert.equal(last.location, '/login?e=locked');
  // An over-long password is a wrong password too, not a 5xx.
  const longPassword = await v.post('/auth/login', { login_id: `nobody-${unique()}`, password: 'p'.repeat(500_000) }, { from: '/login' });
  assert.equal(longPassword.location, '/login?e=invalid');
});

test('a multibyte login id is cut on a character boundary in the audit log', async () => {
  const prefix = `m${unique()}-`; // 8 bytes, then 3-byte characters: byte 64 falls inside one
  assert.equal(Buffer.byteLength(prefix), 8);
  const id = prefix + 'あ'.repeat(30);
  const v = new Visitor(stack.url);
  const r = await v.post('/auth/login', { login_id: id, password: 'some-password-1' }, { from: '/login' });
  assert.equal(r.location, '/login?e=invalid');
  const [row] = auditOf(prefix);
  assert.equal(row.login_id, prefix + 'あ'.repeat(18), 'whole characters, at most 64 bytes');
});

test('a locked login id or address is written in the audit log once per lock, not per attempt', async () => {
  const v = new Visitor(stack.url);
  const id = `locked-${unique()}`;
  for (let i = 0; i < 5; i += 1) {
    await v.post('/auth/login', { login_id: id, password: `guess-${i}-password` }, { from: '/login' });
  }
  for (let i = 0; i < 8; i += 1) {
    const r = await v.post('/auth/login', { login_id: id, password: `more-${i}-password` }, { from: '/login' });
    assert.equal(r.location, '/login?e=locked');
  }
  const locked = auditOf(id).filter((e) => e.detail === 'ユーザIDがロック中');
  assert.equal(locked.length, 1, 'one entry for the lock');

  const ip = `203.0.113.${100 + Math.floor(Math.random() * 100)}`;
  const from = { from: '/login', headers: { 'cf-connecting-ip': ip } };
  for (let i = 0; i < 30; i += 1) {
    await v.post('/auth/login', { login_id: `stuffed-${unique()}`, password: 'leaked-password-1' }, from);
  }
  for (let i = 0; i < 8; i += 1) {
    const r = await v.post('/auth/login', { login_id: `stuffed-${unique()}`, password: 'leaked-password-1' }, from);
    assert.equal(r.location, '/login?e=locked');
  }
  const byAddress = stack.sql(`SELECT count(*) AS n FROM audit_log
    WHERE ip = ${quote(ip)} AND detail = '送信元アドレスがロック中'`)[0].n;
  assert.equal(byAddress, 1, 'one entry for the locked address');
});

test('the audit log is read a page at a time: limit and cursor give every entry once', async () => {
  const customer = `cus_paging_${unique()}`;
  const now = Date.now();
  const values = Array.from({ length: 250 }, (_, i) =>
    `(${now - 60_000 + (i % 50)}, 'signin.failure', ${quote(customer)}, 'page-${i}')`).join(', ');
  stack.sql(`INSERT INTO audit_log (at, event, customer_id, login_id) VALUES ${values}`);
  const seen = [];
  let cursor = null;
  let pages = 0;
  do {
    const q = `customer_id=${customer}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await api(stack, 'GET', `/api/v1/admin/audit?${q}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.body.entries.length <= 100);
    assert.ok('next_cursor' in res.body);
    seen.push(...res.body.entries.map((e) => e.login_id));
    cursor = res.body.next_cursor;
    pages += 1;
  } while (cursor && pages < 10);
  assert.equal(pages, 3);
  assert.equal(seen.length, 250);
  assert.equal(new Set(seen).size, 250, 'no entry twice');
  const max = await api(stack, 'GET', `/api/v1/admin/audit?customer_id=${customer}&limit=100000`);
  assert.equal(max.body.entries.length, 250, 'a limit over the most is clamped, not refused');
  const bad = await api(stack, 'GET', '/api/v1/admin/audit?cursor=not-a-cursor');
  assert.equal(bad.status, 400);
  assert.deepEqual([bad.body.error.code, bad.body.error.path], ['invalid_field', 'cursor']);

  // The operator's page shows a page and a 次へ link to the older entries.
  const op = await readyUser(stack, '/api/v1/admin/operator/accounts');
  const first = await op.visitor.get('/admin/audit');
  assert.equal(first.status, 200);
  const rows = (html) => (html.match(/<tr data-event=/g) ?? []).length;
  assert.equal(rows(first.html), 100);
  const next = first.html.match(/<a href="([^"]+)" rel="next"[^>]*>次へ/);
  assert.ok(next, 'a 次へ link');
  const second = await op.visitor.get(next[1].replaceAll('&amp;', '&'));
  assert.equal(second.status, 200);
  assert.ok(rows(second.html) > 0);
  const times = (html) => [...html.matchAll(/data-label="日時">([^<]+)</g)].map((m) => m[1]);
  assert.ok(times(second.html)[0] <= times(first.html).at(-1), 'older entries on the next page');
});

test('audit entries older than 400 days are deleted by the cron sweep', async () => {
  const tag = `retention-${unique()}`;
  const now = Date.now();
  stack.sql(`INSERT INTO audit_log (at, event, login_id) VALUES
    (${now - 401 * DAY}, 'signin.failure', '${tag}-old'), (${now - 399 * DAY}, 'signin.failure', '${tag}-kept')`);
  await stack.cron(new Date(now));
  const left = auditOf(tag).map((e) => e.login_id);
  assert.deepEqual(left, [`${tag}-kept`]);
});

/** Moves every time of the live sessions of `accountId` `ms` into the past. */
function age(accountId, ms) {
  stack.sql(`UPDATE sessions SET created_at = created_at - ${ms}, reauth_at = reauth_at - ${ms}
    WHERE account_id = ${quote(accountId)} AND revoked_at IS NULL`);
}

test('a new session id from choosing the second factor keeps the 12-hour limit of the sign-in', async () => {
  const customer = await newCustomer(stack, '株式会社じゅうにじかん');
  const user = await readyUser(stack, accountsOf(customer));
  // The sign-in began 12 hours and a minute ago; this session was kept alive meanwhile.
  age(user.accountId, 12 * HOUR + 60_000);
  assert.equal((await user.visitor.get('/')).status, 200);
  // Choosing the second factor again (with the password, as the session is not fresh)
  // starts a new session id, which must not start a new 12 hours.
  const r = await user.visitor.post('/auth/2fa', { method: 'none', password: user.password }, { from: '/setup/2fa' });
  assert.match(r.location, /^\/\?done=2fa_none/);
  const page = await user.visitor.get('/');
  assert.equal(page.location, '/login', 'past 12 hours since signing in: signed out');
});

test('a new session id from choosing the second factor keeps the password freshness', async () => {
  const customer = await newCustomer(stack, '株式会社しんせん');
  const user = await readyUser(stack, accountsOf(customer));
  const [{ created_at: signedIn }] = stack.sql(`SELECT created_at FROM sessions
    WHERE account_id = ${quote(user.accountId)} AND revoked_at IS NULL`);
  age(user.accountId, 8 * 60_000);
  let r = await user.visitor.post('/auth/2fa', { method: 'none' }, { from: '/setup/2fa' });
  assert.match(r.location, /^\/\?done=2fa_none/, 'eight minutes: still fresh');
  const [{ created_at: kept }] = stack.sql(`SELECT created_at FROM sessions
    WHERE account_id = ${quote(user.accountId)} AND revoked_at IS NULL`);
  assert.equal(kept, signedIn - 8 * 60_000, 'the new id keeps the sign-in time');
  age(user.accountId, 3 * 60_000);
  r = await user.visitor.post('/auth/2fa', { method: 'none' }, { from: '/setup/2fa' });
  assert.equal(r.location, '/setup/2fa?e=reauth', 'eleven minutes after the password: not fresh');
});

test('recovery codes are keyed digests at rest and wait sealed for their one page view', async () => {
  const customer = await newCustomer(stack, '株式会社かぎつき');
  const user = await readyUser(stack, accountsOf(customer), { factor: 'totp' });
  const account = quote(user.accountId);
  const [waiting, ...others] = stack.sql(`SELECT recovery_reveal FROM sessions
    WHERE account_id = ${account} AND recovery_reveal IS NOT NULL`);
  assert.equal(others.length, 0);
  assert.match(waiting.recovery_reveal, /^v1\./, 'sealed, not the codes in the clear');

  const page = await user.visitor.get('/setup/recovery');
  const codes = [...page.html.matchAll(/data-recovery-code[^>]*>([a-z0-9-]+)</g)].map((m) => m[1]);
  assert.equal(codes.length, 10);
  assert.ok(!codes.some((c) => waiting.recovery_reveal.includes(c)));
  const left = stack.sql(`SELECT count(*) AS n FROM sessions WHERE account_id = ${account} AND recovery_reveal IS NOT NULL`);
  assert.equal(left[0].n, 0, 'cleared once shown');
  const again = await user.visitor.get('/setup/recovery');
  assert.equal([...again.html.matchAll(/data-recovery-code/g)].length, 0, 'shown once');

  const sha = (s) => createHash('sha256').update(s).digest('hex');
  const stored = stack.sql(`SELECT code_hash FROM recovery_codes WHERE account_id = ${account}`).map((r) => r.code_hash);
  assert.equal(stored.length, 10);
  for (const code of codes) {
    for (const plain of [sha(code), sha(code.replaceAll('-', ''))]) {
      assert.ok(!stored.some((h) => h.includes(plain)), 'not the plain SHA-256 of a code');
    }
  }
  assert.ok(stored.every((h) => /^k1\.[0-9a-f]{64}$/.test(h)), stored[0]);

  // The keyed digest still lets the code sign in, once.
  const v = new Visitor(stack.url);
  let r = await v.post('/auth/login', { login_id: user.loginId, password: user.password }, { from: '/login' });
  assert.equal(r.location, '/login/verify');
  r = await v.post('/auth/verify', { code: codes[3].toUpperCase() }, { from: '/login/verify' });
  assert.equal(r.location, '/account?done=recovery_used');
});

/** A signed-in user whose password is fresh, and the SMS set-up form's poster. */
async function smsUser(name) {
  const customer = await newCustomer(stack, name);
  const user = await readyUser(stack, accountsOf(customer));
  const send = async (phone) => user.visitor.post('/auth/sms/send', { phone }, { from: '/setup/sms' });
  return { user, send };
}

test('SMS codes go only to Japanese mobile numbers, and the form says so', async () => {
  const { user, send } = await smsUser('株式会社こくない');
  for (const [phone, e164] of [['+1 415 555 2671', '+14155552671'], ['+44 7700 900123', '+447700900123']]) {
    const r = await send(phone);
    assert.equal(r.location, '/setup/sms?e=phone_region', phone);
    assert.equal((await stack.sink.sms(e164)).length, 0, `nothing sent to ${phone}`);
  }
  for (const landline of ['03-1234-5678', '+81 3 1234 5678']) {
    assert.equal((await send(landline)).location, '/setup/sms?e=phone', landline);
  }
  assert.equal((await send('+81 90 ' + '1'.repeat(400))).location, '/setup/sms?e=phone', 'over-long');
  const shown = await user.visitor.get('/setup/sms?e=phone_region');
  assert.match(shown.html, /この電話番号にはSMSを送れません。国内の携帯電話番号/);
});

test('the sixth SMS code to one number within an hour is refused, and nothing is sent', async () => {
  const { user, send } = await smsUser('株式会社ごかいまで');
  const national = `080${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const e164 = `+81${national.slice(1)}`;
  try {
    for (let i = 0; i < 5; i += 1) {
      // A minute apart, past the once-a-minute rule, on the Worker's development clock.
      await stack.clock(i * 61_000);
      const r = await send(national);
      assert.equal(r.location, '/setup/sms?sent=1', `code ${i + 1}`);
    }
    await stack.clock(5 * 61_000);
    const sixth = await send(national);
    assert.equal(sixth.location, '/setup/sms?e=sms_limit');
    // Read while the clock stands where the session was last renewed (it never runs back).
    const shown = await user.visitor.get('/setup/sms?e=sms_limit');
    assert.match(shown.html, /送れるSMSの上限に達しました/);
  } finally {
    await stack.clock(0);
  }
  assert.equal((await stack.sink.sms(e164)).length, 5, 'five texts, not six');
});
