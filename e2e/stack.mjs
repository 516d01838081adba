// Starts the whole local stack for a test file: a fresh D1/KV state in a temp dir,
// migrations and the demo seed applied, and `wrangler dev` (workerd) on a free port with
// its own settings file, so a developer's .dev.vars and running dev server are untouched.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');

// Opens the one D1 database file under the state dir and prints the rows as JSON.
const SQL_SCRIPT = `
import glob, json, sqlite3, sys
[path] = [p for p in glob.glob(sys.argv[1] + '/v3/d1/*/*.sqlite') if 'metadata' not in p]
db = sqlite3.connect(path, timeout=10)
db.row_factory = sqlite3.Row
rows = [dict(r) for r in db.execute(sys.argv[2])]
db.commit()
print(json.dumps(rows))
`;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function run(args, state) {
  execFileSync(wrangler, [...args, '--local', '--persist-to', state], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
  });
}

/**
 * @param {{migrate?: boolean, seed?: boolean, vars?: Record<string, string>, mail?: boolean, state?: string}} options
 *   migrate: apply migrations/ (default true); seed: load scripts/seed-demo.sql (default true);
 *   state: an existing --persist-to dir to run on instead of a fresh one (kept on stop;
 *   e.g. one filled by scripts/seed-scale);
 *   vars: settings for this stack on top of .dev.vars.example's defaults;
 *   mail: start a dev mail and SMS sink of its own and point MAIL_API_URL and SMS_API_URL
 *   at it (default true)
 */
export async function startStack({ migrate = true, seed = true, vars: extra = {}, mail = true, state: given } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-e2e-'));
  const sink = mail ? await startMailSink() : null;
  if (sink) extra = { MAIL_API_URL: sink.url, MAIL_API_KEY: sink.key, SMS_API_URL: sink.url, ...extra };
  const state = given ?? join(dir, 'state');
  const vars = join(dir, 'test.vars');
  writeFileSync(vars, Object.entries(extra).map(([k, v]) => `${k}=${v}\n`).join(''));
  execFileSync(join(root, 'scripts', 'dev-vars'), [vars], { stdio: 'ignore' });
  if (migrate) run(['d1', 'migrations', 'apply', 'DB'], state);
  if (migrate && seed) run(['d1', 'execute', 'DB', '--file', join(root, 'scripts', 'seed-demo.sql')], state);

  let port = await freePort();
  let url = `http://127.0.0.1:${port}`;
  let child;
  let log = '';

  // Starts wrangler dev on this stack's port and state, and waits until it answers.
  async function launch() {
    const inspector = await freePort();
    child = spawn(
      wrangler,
      ['dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector),
        '--persist-to', state, '--env-file', vars, '--test-scheduled',
        '--show-interactive-dev-session=false', '--log-level', 'warn'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
        env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' } },
    );
    child.stdout.on('data', (d) => { log += d; });
    child.stderr.on('data', (d) => { log += d; });
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${log}`);
      try {
        await fetch(`${url}/api/v1/health`);
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`wrangler dev did not answer within 90 s:\n${log}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  // Stops wrangler dev, keeping the state.
  async function halt() {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }

  // A free port may be taken by another stack between asking and listening: try a new one.
  for (let attempt = 1; ; attempt += 1) {
    try {
      await launch();
      break;
    } catch (e) {
      if (attempt >= 3 || !/EADDRINUSE|[Aa]ddress already in use/.test(log)) throw e;
      await halt();
      port = await freePort();
      url = `http://127.0.0.1:${port}`;
      log = '';
    }
  }

  // The settings this stack runs with (OPERATOR_TOKEN and the rest), as a plain object.
  const settings = Object.fromEntries(readFileSync(vars, 'utf8').split('\n')
    .filter((l) => l.includes('=') && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  // The development clock's routes want the operator's token (and a loopback host).
  const asOperator = () => ({ authorization: `Bearer ${settings.OPERATOR_TOKEN}` });

  return {
    url,
    settings,
    /**
     * Runs SQL on this stack's local D1 file directly (for arranging and checking state).
     * `wrangler d1 execute` would start a second workerd on the same state, which upsets
     * the running one, so this goes through python3's sqlite3 instead.
     */
    sql(query) {
      const out = execFileSync('python3', ['-c', SQL_SCRIPT, state, query], { stdio: ['ignore', 'pipe', 'pipe'] });
      return JSON.parse(out.toString());
    },
    log: () => log,
    /**
     * Runs the cron sweep as if at `time` (a Date; default now) through the Worker's
     * DEV_CRON_CLOCK route, and returns its summary.
     */
    async cron(time = new Date()) {
      const res = await fetch(`${url}/__cron?time=${time.getTime()}`, { headers: asOperator() });
      if (!res.ok) throw new Error(`cron: HTTP ${res.status}: ${await res.text()}`);
      return res.json();
    },
    /**
     * Moves the sign-in clock `offsetMs` ahead of the wall clock (0 puts it back) through
     * the Worker's DEV_CRON_CLOCK route, and returns the clock's time (a Date).
     */
    async clock(offsetMs) {
      const res = await fetch(`${url}/__clock?offset=${offsetMs}`, { headers: asOperator() });
      if (!res.ok) throw new Error(`clock: HTTP ${res.status}: ${await res.text()}`);
      return new Date((await res.json()).now);
    },
    /** An outage: wrangler dev stops, the URL refuses connections, the data stays. */
    halt,
    /** The end of the outage: the same URL and data again. */
    resume: launch,
    /** The stack's mail and SMS sink: `url`, `mails()`, `sms()`, `control(body)`, `stats()`. */
    sink,
    async stop() {
      await halt();
      sink?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const mailsinkBin = join(process.env.MIMAMORI_TARGET_DIR || join(root, 'target'), 'agent', 'release', 'mimamori-mailsink');

/** Starts `mimamori-mailsink` on a free port with a random API key. */
export async function startMailSink() {
  const key = `sink-${Math.random().toString(36).slice(2)}`;
  const child = spawn(mailsinkBin, ['--listen', '127.0.0.1:0', '--api-key', key], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mail sink did not start: ${out}`)), 10_000);
    const look = (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[0-9.:]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.once('exit', (code) => reject(new Error(`mail sink exited (${code}): ${out}`)));
  });
  const json = async (path, init) => (await fetch(`${url}${path}`, init)).json();
  return {
    url,
    key,
    mails: (to) => json(`/api/emails${to ? `?to=${encodeURIComponent(to)}` : ''}`),
    /** Text messages received through the Twilio-shaped API, oldest first. */
    sms: (to) => json(`/api/sms${to ? `?to=${encodeURIComponent(to)}` : ''}`),
    control: (body) => json('/_control', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    stats: () => json('/_control'),
    stop: () => child.kill('SIGTERM'),
  };
}
