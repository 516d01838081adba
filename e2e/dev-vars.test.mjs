// scripts/dev-vars fills in local settings: a newcomer who copies .dev.vars.example gets
// empty secrets (`SESSION_SECRET=`), which must count as missing and be filled, while a
// key someone set is never changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './stack.mjs';

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
