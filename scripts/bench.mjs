// The ingest benchmark (run through scripts/bench): N appliances × M reports of 100
// threat events against a fresh local stack (`wrangler dev`, local D1), then the same rows
// straight into SQLite with python3 (scripts/bench-sqlite.py), and the ratio. Also the
// bytes stored per alert. The per-device rate limit is lifted for the run: this measures
// storage, not the limit (an appliance never sends 100-event reports back to back).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStack, root } from '../e2e/stack.mjs';

const { values: opt } = parseArgs({
  options: {
    appliances: { type: 'string', default: '8' },
    reports: { type: 'string', default: '50' },
    events: { type: 'string', default: '100' },
  },
});
const agent = join(process.env.MIMAMORI_TARGET_DIR || join(root, 'target'), 'agent', 'release', 'mimamori-agent');
const dir = mkdtempSync(join(tmpdir(), 'mimamori-bench-'));
const dump = join(dir, 'reports.jsonl');

const stack = await startStack({
  seed: false,
  vars: { REPORT_RATE_PER_S: '1000000', REPORT_BURST: '1000000' },
});
let cloud;
try {
  const out = execFileSync(agent, ['bench', '--url', stack.url, '--appliances', opt.appliances,
    '--reports', opt.reports, '--events', opt.events, '--dump', dump, '--json', '--quiet', '--seed', '1'],
  { encoding: 'utf8', env: { ...process.env, OPERATOR_TOKEN: stack.settings.OPERATOR_TOKEN }, stdio: ['ignore', 'pipe', 'inherit'] });
  cloud = JSON.parse(out.trim().split('\n').at(-1));

  // What the stored alerts cost: pages of each table and its indexes, per stored row and per event.
  const pages = Object.fromEntries(stack.sql('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name')
    .map((r) => [r.name, r.bytes]));
  const [t] = stack.sql('SELECT count(*) AS rows, sum(count) AS events FROM threats');
  const [ids] = stack.sql('SELECT count(*) AS n FROM device_events');
  const threatBytes = ['threats', 'threats_compact', 'threats_by_customer'].reduce((n, k) => n + (pages[k] || 0), 0);
  const idBytes = ['device_events', 'device_events_by_time'].reduce((n, k) => n + (pages[k] || 0), 0);
  cloud.storage = {
    threat_rows: t.rows,
    threat_events: t.events,
    bytes_per_threat_row: Math.round(threatBytes / t.rows),
    bytes_per_alert_event: Math.round(threatBytes / t.events),
    id_bytes_per_event: Math.round(idBytes / ids.n),
  };
} finally {
  await stack.stop();
}

const reference = JSON.parse(execFileSync('python3', [join(root, 'scripts', 'bench-sqlite.py'), dump], { encoding: 'utf8' }));
rmSync(dir, { recursive: true, force: true });

const ratio = cloud.events_per_s / reference.events_per_s;
console.log(`
ingest benchmark: ${cloud.appliances} appliances × ${cloud.reports / cloud.appliances} reports × ${opt.events} threat events (${cloud.events} events)
  worker (wrangler dev, local D1):  ${Math.round(cloud.events_per_s)} events/s, ${cloud.reports_per_s.toFixed(1)} reports/s
  latency per report:               p50 ${cloud.p50_ms.toFixed(1)} ms, p99 ${cloud.p99_ms.toFixed(1)} ms, max ${cloud.max_ms.toFixed(1)} ms
  python3 sqlite3 ${reference.sqlite} reference: ${reference.events_per_s} events/s (executemany, one transaction per report)
  ratio worker / reference:         ${ratio.toFixed(2)}
  stored: ${cloud.storage.threat_events} alert events in ${cloud.storage.threat_rows} threat rows (compaction ${(cloud.storage.threat_events / cloud.storage.threat_rows).toFixed(2)}×)
  bytes per threat row ${cloud.storage.bytes_per_threat_row} (table + indexes), per alert event ${cloud.storage.bytes_per_alert_event}, event-id index ${cloud.storage.id_bytes_per_event} per event (kept 8 days)
  non-202 answers: ${cloud.non_202}`);
console.log(JSON.stringify({ cloud, reference, ratio: Number(ratio.toFixed(3)) }));
if (cloud.non_202 > 0) process.exit(1);
