// Times `hash` and `verify` from the wasm-bindgen output in node, whose V8 is the engine
// workerd runs Workers on (same wasm compiler tiers), and prints one line:
//   node bench.mjs <pkg dir> <runs> <label>
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const [pkg, runs, label] = process.argv.slice(2);
const { hash, verify } = createRequire(import.meta.url)(resolve(pkg, 'hash_wasm.js'));
const password = 'correct horse battery staple';

// One untimed round first: V8 compiles wasm lazily (Liftoff, then TurboFan for hot
// functions), and an isolate that has served a sign-in is past that too.
const phc = hash(password, new Uint8Array(16));
const hashMs = [];
const verifyMs = [];
for (let i = 0; i < Number(runs); i++) {
  const salt = new Uint8Array(16).fill(i % 256);
  let start = performance.now();
  const stored = hash(password, salt);
  hashMs.push(performance.now() - start);
  start = performance.now();
  const ok = verify(password, stored);
  verifyMs.push(performance.now() - start);
  if (!ok) throw new Error(`bench-hash: ${stored} does not verify`);
}

const p50 = (ms) => [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)].toFixed(1);
const mean = (ms) => (ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(1);
const [, m, t, p] = phc.match(/\$m=(\d+),t=(\d+),p=(\d+)\$/);
console.log(
  `argon2id m=${m} KiB t=${t} p=${p}: hash ${p50(hashMs)} ms, verify ${p50(verifyMs)} ms ` +
    `(p50; mean ${mean(hashMs)}/${mean(verifyMs)}; ${label} in node ${process.version}, ` +
    `V8 as in workerd; ${runs} runs)`,
);
