// The hash cost inside workerd itself: sign-in attempts against a fresh `wrangler dev`
// stack, timed from outside. An unknown login id costs one full argon2id verify (the
// dummy one that keeps unknown ids as slow as wrong passwords); a locked id is answered
// before any hash. Both read and write D1 alike, so the difference of their medians is
// the hash.
//   node bench/hash-wasm/workerd.mjs <runs>
import { startStack } from '../../e2e/stack.mjs';
import { Visitor } from '../../e2e/identity.mjs';

const runs = Number(process.argv[2] || 20);
const stack = await startStack({ seed: false, mail: false });
try {
  const v = new Visitor(stack.url);
  const csrf = await v.csrf('/login');
  let n = 0;
  const attempt = async (loginId) => {
    // A new address each time: the per-address lockout must not end the run.
    n += 1;
    const headers = { 'cf-connecting-ip': `198.18.${Math.floor(n / 250)}.${n % 250}` };
    const start = performance.now();
    const r = await v.post('/auth/login', { login_id: loginId, password: 'not-the-password' }, { csrf, headers });
    const ms = performance.now() - start;
    if (r.status !== 303) throw new Error(`bench-hash: sign-in answered ${r.status}`);
    return { ms, location: r.location };
  };
  // Lock one id: its attempts stop before the hash.
  for (let i = 0; i < 5; i += 1) await attempt('locked.user');
  const hashed = [];
  const locked = [];
  await attempt('warm-up.user');
  for (let i = 0; i < runs; i += 1) {
    const h = await attempt(`ghost-${i}.user`);
    if (h.location !== '/login?e=invalid') throw new Error(`bench-hash: ${h.location}`);
    hashed.push(h.ms);
    const l = await attempt('locked.user');
    if (l.location !== '/login?e=locked') throw new Error(`bench-hash: ${l.location}`);
    locked.push(l.ms);
  }
  const p50 = (ms) => [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)];
  console.log(
    `sign-in in workerd (wrangler dev): with argon2id verify ${p50(hashed).toFixed(1)} ms, ` +
      `locked (no hash) ${p50(locked).toFixed(1)} ms -> hash ≈ ${(p50(hashed) - p50(locked)).toFixed(1)} ms ` +
      `(p50 of ${runs} each)`,
  );
} finally {
  await stack.stop();
}
