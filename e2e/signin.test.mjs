// Sign-in as a new customer admin lives it (seed §3.5): the operator issues an account,
// the temporary credentials arrive by mail, the first sign-in sets an own login id and
// password and a second factor, and later sign-ins ask for it. In Chromium with and
// without JavaScript; codes come from Debian's oathtool and from the SMS sink.
import { test, before, after } from 'node:test';
import { createHmac } from 'node:crypto';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';
import { launch, watchedPage } from './browser.mjs';
import { newCustomer } from './devices.mjs';
import { Visitor, address, api, issueAccount, readyUser, totp } from './identity.mjs';

let stack;
let browser;
before(async () => {
  [stack, browser] = await Promise.all([startStack(), launch()]);
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

const accountsOf = (customer) => `/api/v1/admin/customers/${customer}/accounts`;

/** Submits the form that `button` belongs to and waits for the page it leads to. */
async function submit(page, button, url) {
  await Promise.all([page.waitForURL(url), page.getByRole('button', { name: button }).click()]);
}

test('a new admin signs in for the first time with the mailed credentials and an authenticator app', async () => {
  const customer = await newCustomer(stack, '株式会社はじめて');
  const email = address('admin');
  const issued = await api(stack, 'POST', accountsOf(customer), { email });
  assert.equal(issued.status, 201);
  assert.deepEqual(Object.keys(issued.body), ['account_id'], 'no credentials in the API answer');

  const { page, context, problems } = await watchedPage(browser);
  try {
    // The credentials as a newcomer reads them: on the mail sink's page.
    await page.goto(stack.sink.url);
    await page.getByRole('link', { name: /仮ユーザIDと仮パスワードのお知らせ/ }).first().click();
    await page.getByText(email).first().waitFor();
    const mailText = await page.locator('body').innerText();
    const loginId = mailText.match(/仮ユーザID[：:\s]+(tmp-[a-z0-9]+)/)[1];
    const password = mailText.match(/仮パスワード[：:\s]+([a-z0-9-]{19})/)[1];
    // The dev sink is not the product (its page has no favicon): watch the portal only.
    problems.length = 0;

    await page.goto(`${stack.url}/`);
    await page.waitForURL(/\/login$/);
    await page.locator('input[name=login_id]').fill(loginId);
    await page.locator('input[name=password]').fill(password);
    await submit(page, 'ログイン', /\/setup$/);

    const mine = `sato.${Math.random().toString(36).slice(2, 7)}`;
    const newPassword = 'sakura-kaigishitsu-2026';
    await page.locator('input[name=login_id]').fill(mine);
    await page.locator('input[name=password]').fill(newPassword);
    await page.locator('input[name=password_confirm]').fill(newPassword);
    await submit(page, '設定する', /\/setup\/2fa$/);

    await page.getByLabel('認証アプリ（おすすめ）').check();
    await submit(page, '次へ', /\/setup\/totp$/);
    assert.ok(await page.locator('.qr svg').isVisible(), 'the QR code is shown');
    const secret = (await page.locator('[data-totp-key]').innerText()).replaceAll(' ', '');
    assert.match(secret, /^[A-Z2-7]{32}$/);

    await page.locator('input[name=code]').fill('000000');
    await submit(page, '設定する', /\/setup\/totp\?e=code/);
    assert.match(await page.getByRole('alert').innerText(), /確認コードが正しくない/);
    await page.locator('input[name=code]').fill(totp(secret));
    await submit(page, '設定する', /\/setup\/recovery$/);
    const codes = await page.locator('[data-recovery-code]').allInnerTexts();
    assert.equal(codes.length, 10);
    await Promise.all([page.waitForURL(`${stack.url}/`), page.getByRole('link', { name: 'ポータルへ進む' }).click()]);
    await page.getByText('UTM装置がまだ登録されていません').waitFor();
    assert.match(await page.locator('header').innerText(), new RegExp(mine));

    // The recovery codes are shown once.
    const again = await page.goto(`${stack.url}/setup/recovery`);
    assert.equal(again.status(), 200);
    await page.getByText('リカバリーコードは表示済みです。').waitFor();

    // Sign out, then in again: the password is not enough any more.
    await page.goto(`${stack.url}/`);
    await submit(page, 'ログアウト', /\/login\?bye=1$/);
    await page.locator('input[name=login_id]').fill(mine);
    await page.locator('input[name=password]').fill(newPassword);
    await submit(page, 'ログイン', /\/login\/verify$/);
    // The code used at setup may not be used again; the next step's code is accepted.
    await page.locator('input[name=code]').fill(totp(secret, new Date(Date.now() + 30_000)));
    await submit(page, 'ログイン', `${stack.url}/`);
    await page.getByText('UTM装置がまだ登録されていません').waitFor();

    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === '__Host-mm_session');
    assert.ok(session.httpOnly && session.secure && session.sameSite === 'Lax', JSON.stringify(session));
    await page.screenshot({ path: new URL('./artifacts/signed-in.png', import.meta.url).pathname, fullPage: true });
    assert.deepEqual(problems, [], 'no console errors, CSP violations or failed requests');
  } finally {
    await context.close();
  }
});

test('with JavaScript off the first sign-in works with SMS codes, and later sign-ins ask for one', async () => {
  const customer = await newCustomer(stack, '有限会社エスエムエス');
  const issued = await issueAccount(stack, accountsOf(customer));
  const { page, context } = await watchedPage(browser, { javaScriptEnabled: false });
  try {
    await page.goto(`${stack.url}/login`);
    await page.locator('input[name=login_id]').fill(issued.loginId);
    await page.locator('input[name=password]').fill(issued.password);
    await submit(page, 'ログイン', /\/setup$/);
    const mine = `suzuki.${Math.random().toString(36).slice(2, 7)}`;
    await page.locator('input[name=login_id]').fill(mine);
    // Long enough for the browser's own check, refused by the server's rules.
    await page.locator('input[name=password]').fill('password1234');
    await page.locator('input[name=password_confirm]').fill('password1234');
    await submit(page, '設定する', /\/setup\?e=password/);
    assert.match(await page.getByRole('alert').innerText(), /よく使われているパスワード/);

    await page.locator('input[name=login_id]').fill(mine);
    await page.locator('input[name=password]').fill('hinode-no-kaisha-2026');
    await page.locator('input[name=password_confirm]').fill('hinode-no-kaisha-2026');
    await submit(page, '設定する', /\/setup\/2fa$/);
    await page.getByLabel('SMS').check();
    await submit(page, '次へ', /\/setup\/sms$/);
    await page.locator('input[name=phone]').fill('090-1234-5678');
    await submit(page, '確認コードを送る', /\/setup\/sms\?sent=1$/);
    const [sms] = await stack.sink.sms('+819012345678');
    assert.ok(sms, 'an SMS reached the sink');
    assert.equal(sms.from, stack.settings.SMS_FROM);
    const code = sms.body.match(/(\d{6})/)[1];
    await page.locator('input[name=code]').fill(code);
    await submit(page, '設定する', /\/setup\/recovery$/);
    assert.equal((await page.locator('[data-recovery-code]').allInnerTexts()).length, 10);

    await page.goto(`${stack.url}/`);
    await submit(page, 'ログアウト', /\/login\?bye=1$/);
    await page.locator('input[name=login_id]').fill(mine);
    await page.locator('input[name=password]').fill('hinode-no-kaisha-2026');
    await submit(page, 'ログイン', /\/login\/verify$/);
    assert.match(await page.locator('main').innerText(), /090-\*\*\*\*-5678 にSMSで届いた/);
    const messages = await stack.sink.sms('+819012345678');
    assert.equal(messages.length, 2, 'signing in sent a second code');
    await page.locator('input[name=code]').fill(messages[1].body.match(/(\d{6})/)[1]);
    await submit(page, 'ログイン', `${stack.url}/`);
    assert.match(await page.locator('header').innerText(), new RegExp(mine));
  } finally {
    await context.close();
  }
});

test('an SMS code goes out at most once a minute, even when asked for four times at once', async () => {
  const customer = await newCustomer(stack, '株式会社ヘイレツ');
  const issued = await issueAccount(stack, accountsOf(customer));
  const v = new Visitor(stack.url);
  let r = await v.post('/auth/login', { login_id: issued.loginId, password: issued.password }, { from: '/login' });
  assert.equal(r.location, '/setup');
  const password = `heiretsu-${Math.random().toString(36).slice(2, 10)}`;
  r = await v.post('/auth/setup', { login_id: `para${Math.random().toString(36).slice(2, 8)}`, password, password_confirm: password }, { from: '/setup' });
  assert.equal(r.location, '/setup/2fa');
  const phone = `090${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const csrf = await v.csrf('/setup/sms');
  const answers = await Promise.all([1, 2, 3, 4].map(() => v.post('/auth/sms/send', { phone }, { csrf })));
  const places = answers.map((a) => a.location).sort();
  assert.deepEqual(places, ['/setup/sms?e=sms_wait', '/setup/sms?e=sms_wait', '/setup/sms?e=sms_wait', '/setup/sms?sent=1']);
  assert.equal((await stack.sink.sms(`+81${phone.slice(1)}`)).length, 1, 'one text message');
});

test('wrong passwords and unknown ids get the same answer, and five failures lock the id', async () => {
  const customer = await newCustomer(stack, '株式会社ロック');
  const user = await readyUser(stack, accountsOf(customer));
  const v = new Visitor(stack.url);
  const unknown = await v.post('/auth/login', { login_id: 'no-such-user', password: 'whatever-it-is' }, { from: '/login' });
  const wrong = await v.post('/auth/login', { login_id: user.loginId, password: 'not-the-password' }, { from: '/login' });
  assert.equal(unknown.location, '/login?e=invalid');
  assert.equal(wrong.location, unknown.location);
  for (let i = 0; i < 3; i += 1) {
    await v.post('/auth/login', { login_id: user.loginId, password: `wrong-${i}-password` }, { from: '/login' });
  }
  const fifth = await v.post('/auth/login', { login_id: user.loginId, password: 'wrong-again-password' }, { from: '/login' });
  assert.equal(fifth.location, '/login?e=locked');
  // Locked: even the right password is refused for now, and no session is made.
  const right = await v.post('/auth/login', { login_id: user.loginId, password: user.password }, { from: '/login' });
  assert.equal(right.location, '/login?e=locked');
  assert.equal(v.cookies.has('__Host-mm_session'), false);
  // Unknown ids lock the same way, so a lockout tells nothing about who exists.
  for (let i = 0; i < 5; i += 1) {
    await v.post('/auth/login', { login_id: 'ghost.user', password: `guess-${i}-password` }, { from: '/login' });
  }
  const ghost = await v.post('/auth/login', { login_id: 'ghost.user', password: 'guess-again' }, { from: '/login' });
  assert.equal(ghost.location, '/login?e=locked');
  // Another user is not affected.
  const other = await readyUser(stack, accountsOf(customer));
  assert.equal((await other.visitor.get('/')).status, 200);
  // After the lockout (15 min, passed on the Worker's development clock) the right
  // password works again.
  let after;
  await stack.clock(16 * 60 * 1000);
  try {
    after = await v.post('/auth/login', { login_id: user.loginId, password: user.password }, { from: '/login' });
  } finally {
    await stack.clock(0);
  }
  assert.equal(after.location, '/');
});

test('a password hashed under earlier parameters is rehashed at the next sign-in', async () => {
  const customer = await newCustomer(stack, '株式会社リハッシュ');
  const user = await readyUser(stack, accountsOf(customer), { password: 'an-old-Passw0rd-from-2025' });
  // Made by the reference argon2 CLI with OWASP's m=4096,t=3 setting:
  // echo -n an-old-Passw0rd-from-2025 | argon2 somesaltsomesalt -id -t 3 -m 12 -p 1 -e
  const old = '$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$6VrOMsgoZf2as8VLFiKOmYWd9OOVF9eXm/AZUoAeR18';
  stack.sql(`UPDATE accounts SET password_hash = '${old}' WHERE id = '${user.accountId}'`);
  const wrong = await new Visitor(stack.url).post('/auth/login', { login_id: user.loginId, password: 'not-the-password' }, { from: '/login' });
  assert.equal(wrong.location, '/login?e=invalid');
  assert.equal(stack.sql(`SELECT password_hash FROM accounts WHERE id = '${user.accountId}'`)[0].password_hash, old);
  const v = new Visitor(stack.url);
  const r = await v.post('/auth/login', { login_id: user.loginId, password: user.password }, { from: '/login' });
  assert.equal(r.location, '/');
  const [{ password_hash: fresh }] = stack.sql(`SELECT password_hash FROM accounts WHERE id = '${user.accountId}'`);
  assert.match(fresh, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(fresh.includes('c29tZXNhbHRzb21lc2FsdA'), false, 'a fresh salt');
  const again = await new Visitor(stack.url).post('/auth/login', { login_id: user.loginId, password: user.password }, { from: '/login' });
  assert.equal(again.location, '/');
});

test('logout, a password change and an operator reset end sessions on the server', async () => {
  const customer = await newCustomer(stack, '株式会社セッション');
  const user = await readyUser(stack, accountsOf(customer));
  const stolen = new Map(user.visitor.cookies);

  // Logout: the old cookie, replayed, is a stranger's.
  let r = await user.visitor.post('/auth/logout', {}, { from: '/account' });
  assert.equal(r.location, '/login?bye=1');
  const replay = new Visitor(stack.url);
  replay.cookies = stolen;
  assert.equal((await replay.get('/')).location, '/login');

  // Two devices; a password change on one ends the other.
  const phone = new Visitor(stack.url);
  const pc = new Visitor(stack.url);
  for (const v of [phone, pc]) {
    r = await v.post('/auth/login', { login_id: user.loginId, password: user.password }, { from: '/login' });
    assert.equal(r.location, '/');
  }
  const newPassword = 'atarashii-pasuwaado-99';
  r = await pc.post('/auth/password', { current: user.password, password: newPassword, password_confirm: newPassword }, { from: '/account' });
  assert.equal(r.location, '/account?done=password');
  assert.equal((await pc.get('/')).status, 200, 'the device that changed it stays signed in');
  assert.equal((await phone.get('/')).location, '/login', 'the other device is signed out');
  r = await phone.post('/auth/login', { login_id: user.loginId, password: user.password }, { from: '/login' });
  assert.equal(r.location, '/login?e=invalid', 'the old password no longer works');

  // The operator resets the second factor: every session ends; the next sign-in asks
  // for a choice again.
  const reset = await api(stack, 'POST', `/api/v1/admin/accounts/${user.accountId}/reset-second-factor`);
  assert.equal(reset.status, 200);
  assert.equal((await pc.get('/')).location, '/login');
  r = await pc.post('/auth/login', { login_id: user.loginId, password: newPassword }, { from: '/login' });
  assert.equal(r.location, '/setup/2fa');

  // The operator resets the password: new temporary credentials by mail, same login id.
  const before = (await stack.sink.mails(user.email)).length;
  const pw = await api(stack, 'POST', `/api/v1/admin/accounts/${user.accountId}/reset-password`);
  assert.equal(pw.status, 200);
  const mails = await stack.sink.mails(user.email);
  assert.equal(mails.length, before + 1);
  const temp = mails.at(-1).text.match(/仮パスワード：(\S+)/)[1];
  assert.match(mails.at(-1).text, new RegExp(`仮ユーザID：${user.loginId}`));
  r = await pc.post('/auth/login', { login_id: user.loginId, password: temp }, { from: '/login' });
  assert.equal(r.location, '/setup');
});

test('a recovery code signs in once in place of the authenticator', async () => {
  const customer = await newCustomer(stack, '株式会社リカバリー');
  const user = await readyUser(stack, accountsOf(customer), { factor: 'totp' });
  const [stored] = stack.sql(`SELECT totp_secret FROM accounts WHERE id = '${user.accountId}'`);
  assert.match(stored.totp_secret, /^v1\./, 'the seed is stored sealed');
  assert.ok(!stored.totp_secret.includes(user.secret.slice(0, 8)), 'and does not show');
  const page = await user.visitor.get('/setup/recovery');
  const codes = [...page.html.matchAll(/data-recovery-code[^>]*>([a-z0-9-]+)</g)].map((m) => m[1]);
  assert.equal(codes.length, 10, page.html);
  const v = new Visitor(stack.url);
  let r = await v.post('/auth/login', { login_id: user.loginId, password: user.password }, { from: '/login' });
  assert.equal(r.location, '/login/verify');
  r = await v.post('/auth/verify', { code: codes[3].toUpperCase() }, { from: '/login/verify' });
  assert.equal(r.location, '/account?done=recovery_used');
  const w = new Visitor(stack.url);
  await w.post('/auth/login', { login_id: user.loginId, password: user.password }, { from: '/login' });
  r = await w.post('/auth/verify', { code: codes[3] }, { from: '/login/verify' });
  assert.equal(r.location, '/login/verify?e=code', 'a used recovery code is refused');
  // Five wrong codes end this sign-in.
  for (let i = 0; i < 4; i += 1) await w.post('/auth/verify', { code: '123456' }, { from: '/login/verify' });
  assert.equal((await w.get('/login/verify')).location, '/login');
});

test('forms refuse forged posts, and every page carries the security headers', async () => {
  const v = new Visitor(stack.url);
  const page = await v.get('/login');
  const csp = page.res.headers.get('content-security-policy');
  const nonce = csp.match(/'nonce-([0-9a-f]+)'/)[1];
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  for (const [, attrs] of page.html.matchAll(/<script([^>]*)>/g)) {
    assert.ok(attrs.includes('src=') || attrs.includes(`nonce="${nonce}"`), `inline script without the nonce: ${attrs}`);
  }
  assert.match(page.res.headers.get('strict-transport-security'), /max-age=\d+/);
  assert.equal(page.res.headers.get('x-frame-options'), 'DENY');
  assert.equal(page.res.headers.get('referrer-policy'), 'same-origin');
  assert.equal(page.res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(page.res.headers.get('cache-control'), 'no-store');
  const health = await fetch(`${stack.url}/api/v1/health`);
  assert.match(health.headers.get('content-security-policy'), /default-src 'none'/);
  assert.equal(health.headers.get('x-frame-options'), 'DENY');

  const customer = await newCustomer(stack, '株式会社フォージ');
  const user = await readyUser(stack, accountsOf(customer));
  // No token, a wrong token, or another site's origin: nothing happens.
  let r = await user.visitor.post('/auth/logout', {}, { csrf: '' });
  assert.equal(r.location, '/');
  r = await user.visitor.post('/auth/logout', {}, { csrf: 'ab'.repeat(32) });
  assert.equal(r.location, '/');
  r = await user.visitor.post('/auth/logout', {}, { from: '/account', headers: { origin: 'https://evil.example' } });
  assert.equal(r.status, 403);
  r = await user.visitor.post('/auth/logout', {}, { from: '/account', headers: { 'sec-fetch-site': 'cross-site' } });
  assert.equal(r.status, 403);
  assert.equal((await user.visitor.get('/')).status, 200, 'still signed in');
  const fn = await user.visitor.serverFn('customers', {}, { origin: 'https://evil.example' });
  assert.equal(fn.status, 403, 'server functions refuse other sites too');
  // A tampered session token is no session.
  const forged = new Visitor(stack.url);
  forged.cookies = new Map(user.visitor.cookies);
  const jwt = forged.cookies.get('__Host-mm_session');
  // One character of the signature changed (always to a different one).
  forged.cookies.set('__Host-mm_session', `${jwt.slice(0, -3)}${jwt.at(-3) === 'A' ? 'B' : 'A'}${jwt.slice(-2)}`);
  assert.notEqual(forged.cookies.get('__Host-mm_session'), jwt);
  assert.equal((await forged.get('/')).location, '/login');
});

test('the audit log records sign-ins, changes and token use, for the operator only', async () => {
  const customer = await newCustomer(stack, '株式会社監査');
  const user = await readyUser(stack, accountsOf(customer), { factor: 'totp' });
  const v = new Visitor(stack.url);
  await v.post('/auth/login', { login_id: user.loginId, password: 'wrong-password-here' }, { from: '/login' });
  const log = await api(stack, 'GET', `/api/v1/admin/audit?customer_id=${customer}&limit=50`);
  assert.equal(log.status, 200);
  const events = log.body.entries.map((e) => e.event);
  for (const e of ['account.issued', 'signin.password_ok', 'password.changed', 'second_factor.totp_enabled']) {
    assert.ok(events.includes(e), `${e} in ${events}`);
  }
  const failure = (await api(stack, 'GET', '/api/v1/admin/audit?limit=200')).body.entries
    .find((e) => e.event === 'signin.failure' && e.login_id === user.loginId);
  assert.ok(failure, 'the failed sign-in is logged with the id tried');
  assert.equal(failure.user_agent, 'mimamori-e2e');
  assert.match(failure.at, /\+09:00$/);
  const issued = log.body.entries.find((e) => e.event === 'account.issued');
  assert.equal(issued.token_id, 'bootstrap');
  assert.ok(!JSON.stringify(log.body).includes(user.password), 'no password in the log');
  const bad = await api(stack, 'GET', '/api/v1/admin/audit?limit=abc');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.path, 'limit');
  assert.equal((await api(stack, 'GET', '/api/v1/admin/audit?limit=abc', undefined, 'wrong')).status, 401);

  // The portal page: the operator's staff see it, a customer admin gets a 404.
  const op = await readyUser(stack, '/api/v1/admin/operator/accounts');
  const audit = await op.visitor.get('/admin/audit');
  assert.equal(audit.status, 200);
  assert.match(audit.html, /監査ログ/);
  assert.match(audit.html, /アカウント発行/);
  assert.equal((await user.visitor.get('/admin/audit')).status, 404);
});

/** A session token signed with the stack's SESSION_SECRET, as jwt-simple would. */
function signSession(stack, claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  const mac = createHmac('sha256', stack.settings.SESSION_SECRET).update(body).digest('base64url');
  return `${body}.${mac}`;
}

test('a session slides while it is used, and ends when idle or expired', async () => {
  const customer = await newCustomer(stack, '株式会社スライド');
  const user = await readyUser(stack, accountsOf(customer));
  const claims = JSON.parse(Buffer.from(user.visitor.cookies.get('__Host-mm_session').split('.')[1], 'base64url'));
  assert.equal(claims.stg, 'full');
  const now = Math.floor(Date.now() / 1000);

  // A token issued six minutes ago is renewed on the next request.
  const v = new Visitor(stack.url);
  v.cookies = new Map(user.visitor.cookies);
  v.cookies.set('__Host-mm_session', signSession(stack, { ...claims, iat: now - 360, nbf: now - 360, exp: now + 1440 }));
  const page = await v.get('/');
  assert.equal(page.status, 200);
  const renewed = page.res.headers.getSetCookie().find((c) => c.startsWith('__Host-mm_session='));
  assert.ok(renewed, 'a fresh cookie');
  assert.match(renewed, /HttpOnly; Secure; SameSite=Lax/);
  const fresh = JSON.parse(Buffer.from(renewed.split(';')[0].split('=')[1].split('.')[1], 'base64url'));
  assert.ok(fresh.iat >= now && fresh.exp - fresh.iat <= 30 * 60, JSON.stringify(fresh));

  // A well-signed token past its expiry is no session.
  const late = new Visitor(stack.url);
  late.cookies = new Map(user.visitor.cookies);
  late.cookies.set('__Host-mm_session', signSession(stack, { ...claims, iat: now - 3600, nbf: now - 3600, exp: now - 60 }));
  assert.equal((await late.get('/')).location, '/login');

  // The server's idle limit holds whatever the cookie says.
  stack.sql(`UPDATE sessions SET expires_at = 0 WHERE account_id = '${user.accountId}'`);
  assert.equal((await user.visitor.get('/')).location, '/login');
});

test('changing the second factor later needs the password again', async () => {
  const customer = await newCustomer(stack, '株式会社さいにんしょう');
  const user = await readyUser(stack, accountsOf(customer));
  // Just signed in: the password is fresh.
  let r = await user.visitor.post('/auth/2fa', { method: 'totp' }, { from: '/setup/2fa' });
  assert.equal(r.location, '/setup/totp');
  // Twenty minutes later (moved back here), a borrowed session cannot switch it.
  stack.sql(`UPDATE sessions SET created_at = created_at - 1200000 WHERE account_id = '${user.accountId}' AND revoked_at IS NULL`);
  r = await user.visitor.post('/auth/2fa', { method: 'none' }, { from: '/setup/2fa' });
  assert.equal(r.location, '/setup/2fa?e=reauth');
  for (const [action, fields] of [['/auth/totp', { code: '123456' }], ['/auth/sms/send', { phone: '09012345678' }], ['/auth/sms', { code: '123456' }]]) {
    r = await user.visitor.post(action, fields, { from: '/setup/2fa' });
    assert.equal(r.location, '/setup/2fa?e=reauth', `${action} is not a way around it`);
  }
  r = await user.visitor.post('/auth/2fa', { method: 'none', password: 'not-my-password' }, { from: '/setup/2fa' });
  assert.equal(r.location, '/setup/2fa?e=reauth');
  r = await user.visitor.post('/auth/2fa', { method: 'totp', password: user.password }, { from: '/setup/2fa' });
  assert.equal(r.location, '/setup/totp');
  const log = await api(stack, 'GET', `/api/v1/admin/audit?account_id=${user.accountId}`);
  assert.ok(log.body.entries.some((e) => e.event === 'password.reauth_failed'));
});

test('many ids tried from one address lock that address, not others', async () => {
  const customer = await newCustomer(stack, '株式会社アドレス');
  const user = await readyUser(stack, accountsOf(customer));
  const from = (ip) => ({ from: '/login', headers: { 'cf-connecting-ip': ip } });
  const v = new Visitor(stack.url);
  for (let i = 0; i < 30; i += 1) {
    const r = await v.post('/auth/login', { login_id: `stuffed-${i}`, password: 'leaked-password-1' }, from('203.0.113.7'));
    assert.equal(r.location, '/login?e=invalid', `attempt ${i}`);
  }
  let r = await v.post('/auth/login', { login_id: user.loginId, password: user.password }, from('203.0.113.7'));
  assert.equal(r.location, '/login?e=locked', 'the address is locked, even for a right password');
  r = await v.post('/auth/login', { login_id: user.loginId, password: user.password }, from('198.51.100.20'));
  assert.equal(r.location, '/', 'another address signs in');
});

test('signing in again brings no fresh guesses at the second factor', async () => {
  const customer = await newCustomer(stack, '株式会社ブルートフォース');
  const user = await readyUser(stack, accountsOf(customer), { factor: 'totp' });
  const v = new Visitor(stack.url);
  const headers = { 'cf-connecting-ip': '192.0.2.41' };
  let wrong = 0;
  while (wrong < 5) {
    const r = await v.post('/auth/login', { login_id: user.loginId, password: user.password }, { from: '/login', headers });
    assert.equal(r.location, '/login/verify', `after ${wrong} wrong codes`);
    for (let i = 0; i < 2 && wrong < 5; i += 1, wrong += 1) {
      await v.post('/auth/verify', { code: '000000' }, { from: '/login/verify', headers });
    }
  }
  // Five wrong codes over three sign-ins lock the id: even the password stops here.
  const r = await v.post('/auth/login', { login_id: user.loginId, password: user.password }, { from: '/login', headers });
  assert.equal(r.location, '/login?e=locked');
});

test('guesses sent all at once meet the limit after the fifth', async () => {
  const customer = await newCustomer(stack, '株式会社へいれつ');
  const user = await readyUser(stack, accountsOf(customer));
  const v = new Visitor(stack.url);
  const csrf = await v.csrf('/login');
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    v.post('/auth/login', { login_id: user.loginId, password: `guess-number-${i}` }, { csrf, headers: { 'cf-connecting-ip': `192.0.2.${100 + i}` } })));
  const invalid = answers.filter((a) => a.location === '/login?e=invalid').length;
  assert.ok(invalid <= 5, `${invalid} guesses were checked; at most 5 may be`);
  const right = await v.post('/auth/login', { login_id: user.loginId, password: user.password }, { csrf });
  assert.equal(right.location, '/login?e=locked');
});

test('when the contract ends, sessions end and sign-in stops', async () => {
  const customer = await newCustomer(stack, '株式会社けいやくしゅうりょう');
  const user = await readyUser(stack, accountsOf(customer));
  assert.equal((await user.visitor.get('/')).status, 200);
  stack.sql(`UPDATE customers SET contract_ended_at = ${Date.now()} WHERE id = '${customer}'`);
  assert.equal((await user.visitor.get('/')).location, '/login');
  const r = await new Visitor(stack.url).post('/auth/login', { login_id: user.loginId, password: user.password }, { from: '/login' });
  assert.equal(r.location, '/login?e=invalid', 'the same answer as a wrong password');
  const more = await api(stack, 'POST', accountsOf(customer), { email: address() });
  assert.equal(more.status, 403);
  assert.equal(more.body.error.code, 'contract_ended');
});

test('a password reset whose mail fails leaves the earlier temporary password as it was', async () => {
  const customer = await newCustomer(stack, '株式会社メールしっぱい');
  const issued = await issueAccount(stack, accountsOf(customer));
  await stack.sink.control({ fail_next: 3, status: 503 });
  const reset = await api(stack, 'POST', `/api/v1/admin/accounts/${issued.accountId}/reset-password`);
  assert.equal(reset.status, 503);
  await stack.sink.control({ reset: true });
  const [row] = stack.sql(`SELECT temp_expires_at FROM accounts WHERE id = '${issued.accountId}'`);
  assert.ok(row.temp_expires_at > Date.now(), 'still a temporary password, still expiring');
  const r = await new Visitor(stack.url).post('/auth/login', { login_id: issued.loginId, password: issued.password }, { from: '/login' });
  assert.equal(r.location, '/setup', 'the first sign-in still asks for an own id and password');
});

test('the account page lists the signed-in devices and can sign the others out', async () => {
  const customer = await newCustomer(stack, '株式会社たんまつ');
  const user = await readyUser(stack, accountsOf(customer));
  const phone = new Visitor(stack.url);
  const r = await phone.post('/auth/login', { login_id: user.loginId, password: user.password }, { from: '/login', headers: { 'user-agent': 'Mozilla/5.0 (iPhone)' } });
  assert.equal(r.location, '/');
  const page = await user.visitor.get('/account');
  assert.match(page.html, /ログイン中の端末/);
  assert.equal((page.html.match(/data-current="true"/g) || []).length, 1);
  assert.equal((page.html.match(/data-current="false"/g) || []).length, 1);
  assert.match(page.html, /Mozilla\/5\.0 \(iPhone\)/);
  const end = await user.visitor.post('/auth/sessions/end-others', {}, { from: '/account' });
  assert.equal(end.location, '/account?done=others');
  assert.equal((await phone.get('/')).location, '/login', 'the phone is signed out');
  assert.equal((await user.visitor.get('/')).status, 200, 'this device stays');
});
