// scripts/dev-vars fills in local settings: a newcomer who copies .dev.vars.example gets
// empty secrets (`SESSION_SECRET=`), which must count as missing and be filled, while a
// key someone set is never changed. A required setting that is still unusable is named in
// /api/v1/health and on the portal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, startStack } from './stack.mjs';

function settings(file) {
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

test('a copied example gets its empty secrets filled, and set keys stay as they are', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-devvars-'));
  try {
    const file = join(dir, '.dev.vars');
    copyFileSync(join(root, '.dev.vars.example'), file);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^REPORT_BURST=.*$/m, 'REPORT_BURST=7'));
    execFileSync(join(root, 'scripts', 'dev-vars'), [file], { cwd: root });
    const got = settings(file);
    for (const key of ['SESSION_SECRET', 'TOTP_SEAL_KEY', 'OPERATOR_TOKEN']) {
      assert.ok(got[key] && got[key].length >= 32, `${key} is filled in: ${JSON.stringify(got[key])}`);
    }
    assert.equal(got.REPORT_BURST, '7', 'a key set by hand is kept');
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('SESSION_SECRET='));
    assert.equal(lines.length, 1, 'one line per key');
    const again = readFileSync(file, 'utf8');
    execFileSync(join(root, 'scripts', 'dev-vars'), [file], { cwd: root });
    assert.equal(readFileSync(file, 'utf8'), again, 'a second run changes nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad required setting is named in health and on the portal, not answered with "try again later"', async () => {
  const stack = await startStack({ vars: { SESSION_SECRET: 'too-short' } });
  try {
    const res = await fetch(`${stack.url}/api/v1/health`);
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.status, 'misconfigured');
    assert.equal(body.db, 'ok');
    assert.deepEqual(body.config.map((p) => p.key), ['SESSION_SECRET']);
    assert.match(body.config[0].problem, /32 bytes/);
    assert.ok(!JSON.stringify(body).includes('too-short'), 'the value itself is never shown');
    assert.equal(body.error.code, 'unavailable');

    const page = await fetch(`${stack.url}/login`);
    assert.equal(page.status, 503);
    const html = await page.text();
    assert.match(html, /設定に不備/);
    assert.match(html, /SESSION_SECRET/);
    assert.doesNotMatch(html, /しばらくしてから/);
    // The Worker's log reaches wrangler's output a moment later.
    const logged = /config: SESSION_SECRET is missing or shorter than 32 bytes/;
    for (let i = 0; i < 50 && !logged.test(stack.log()); i += 1) await new Promise((r) => setTimeout(r, 100));
    assert.match(stack.log(), logged);
  } finally {
    await stack.stop();
  }
});
