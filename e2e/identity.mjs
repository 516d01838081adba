// Accounts and signed-in sessions for tests, through the same doors people use: the
// operator API issues an account, the temporary credentials are read from the stack's
// mail sink, and the sign-in forms are posted like a browser without JavaScript would.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

/** A cookie jar and form poster for one visitor. */
export class Visitor {
  constructor(url) {
    this.url = url;
    this.cookies = new Map();
    // Each visitor comes from its own address (as people do), so one test's failed
    // sign-ins never lock another's address; `headers` may still name one.
    this.ip = `198.51.100.${1 + Math.floor(Math.random() * 254)}`;
  }

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  keep(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (gone || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** GET without following redirects; returns {status, location, html, res}. */
  async get(path, headers = {}) {
    const res = await fetch(`${this.url}${path}`, {
      redirect: 'manual',
      headers: { cookie: this.cookieHeader(), 'user-agent': 'mimamori-e2e', 'cf-connecting-ip': this.ip, ...headers },
    });
    this.keep(res);
    const html = await res.text();
    return { status: res.status, location: res.headers.get('location'), html, res };
  }

  /** The headers of a form post from this site by this visitor, with `extra` on top. */
  formHeaders(extra) {
    return {
      cookie: this.cookieHeader(),
      'user-agent': 'mimamori-e2e',
      'cf-connecting-ip': this.ip,
      'content-type': 'application/x-www-form-urlencoded',
      origin: this.url,
      ...extra,
    };
  }

  /** The anti-forgery token of the form on `path`. */
  async csrf(path) {
    const { html, status } = await this.get(path);
    assert.equal(status, 200, `GET ${path}`);
    const m = html.match(/name="csrf" value="([0-9a-f]+)"/);
    assert.ok(m, `no csrf field on ${path}`);
    return m[1];
  }

  /** Posts a form (with the token of `from`, or `csrf` given) and returns the redirect. */
  async post(action, fields, { from, csrf, headers = {} } = {}) {
    const token = csrf ?? (from ? await this.csrf(from) : '');
    const res = await fetch(`${this.url}${action}`, {
      method: 'POST',
      redirect: 'manual',
      headers: this.formHeaders(headers),
      body: new URLSearchParams({ csrf: token, ...fields }).toString(),
    });
    this.keep(res);
    await res.text();
    return { status: res.status, location: res.headers.get('location'), res };
  }

  /** Calls the server function `name` as the hydrated page does; returns the response. */
  serverFn(name, fields = {}, headers = {}) {
    return fetch(`${this.url}/_app/${name}`, {
      method: 'POST',
      headers: this.formHeaders(headers),
      body: new URLSearchParams(fields).toString(),
    });
  }
}

/** The temporary credentials in the newest credentials mail to `email`. */
export async function credentialsFromMail(stack, email) {
  const mails = await stack.sink.mails(email);
  const mail = mails.filter((m) => m.subject.includes('仮ユーザID')).at(-1);
  assert.ok(mail, `no credentials mail for ${email}`);
  const loginId = mail.text.match(/仮ユーザID：(\S+)/)[1];
  const password = mail.text.match(/仮パスワード：(\S+)/)[1];
  return { loginId, password };
}

let seq = 0;
/** A fresh address. */
export function address(who = 'user') {
  seq += 1;
  return `${who}${seq}-${Math.random().toString(36).slice(2, 7)}@example.jp`;
}

/** Issues an account at `path` (an api-v1 …/accounts route) and reads its credentials. */
export async function issueAccount(stack, path, email = address()) {
  const res = await api(stack, 'POST', path, { email });
  assert.equal(res.status, 201, `issue account at ${path}: ${JSON.stringify(res.body)}`);
  assert.deepEqual(Object.keys(res.body), ['account_id'], 'the answer holds the id only');
  return { accountId: res.body.account_id, email, ...(await credentialsFromMail(stack, email)) };
}

/** An API call with a bearer token; returns {status, body}. */
export async function api(stack, method, path, body, token = stack.settings.OPERATOR_TOKEN) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
  return { status: res.status, body: parsed };
}

/**
 * A user signed all the way in: issued, first sign-in done with a chosen id and password,
 * and the second factor set to `factor` (`none` or `totp`; for `totp` the secret is
 * returned so that later sign-ins can compute codes).
 */
export async function readyUser(stack, path, { factor = 'none', password } = {}) {
  const issued = await issueAccount(stack, path);
  const v = new Visitor(stack.url);
  let r = await v.post('/auth/login', { login_id: issued.loginId, password: issued.password }, { from: '/login' });
  assert.equal(r.location, '/setup');
  const loginId = `user${Math.random().toString(36).slice(2, 9)}`;
  password ??= `kaisha-no-${Math.random().toString(36).slice(2, 10)}-pass`;
  r = await v.post('/auth/setup', { login_id: loginId, password, password_confirm: password }, { from: '/setup' });
  assert.equal(r.location, '/setup/2fa', `setup: ${r.location}`);
  let secret;
  if (factor === 'totp') {
    const page = await v.get('/setup/totp');
    secret = page.html.match(/data-totp-key[^>]*>([A-Z2-7 ]+)</)[1].replaceAll(' ', '');
    r = await v.post('/auth/totp', { code: totp(secret) }, { from: '/setup/totp' });
    assert.equal(r.location, '/setup/recovery');
  } else {
    r = await v.post('/auth/2fa', { method: 'none' }, { from: '/setup/2fa' });
    assert.match(r.location, /^\/\?done=2fa_none/);
  }
  return { ...issued, visitor: v, loginId, password, secret };
}

/** The current TOTP code of a base32 `secret`, computed by Debian's oathtool. */
export function totp(secret, at = new Date()) {
  const now = at.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return execFileSync('oathtool', ['--totp', '--base32', `--now=${now}`, secret]).toString().trim();
}
