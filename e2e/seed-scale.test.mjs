// scripts/seed-scale at a tiny size, without wrangler: migrations/ applied to a temp
// sqlite file by python3's sqlite3, the data set written, counted, and checked by
// scripts/bench-seed-check (which must also catch a rollup that no longer sums up).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './stack.mjs';

const MIGRATE = `
import glob, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for f in sorted(glob.glob(sys.argv[2] + '/migrations/*.sql')):
    db.executescript(open(f, encoding='utf-8').read())
`;
const QUERY = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.row_factory = sqlite3.Row
print(json.dumps([dict(r) for r in db.execute(sys.argv[2])]))
db.commit()
`;
// domain's own severity cases (check(json!({...}), Severity::X, "rule") in its tests.rs),
// rated by seed-scale's reading of the rule table.
const DOMAIN_CASES = String.raw`
import json, re, sys
from importlib.machinery import SourceFileLoader
m = SourceFileLoader("seed_scale", sys.argv[1] + "/scripts/seed-scale").load_module()
rules = m.load_rules()
src = open(sys.argv[1] + "/domain/src/severity/tests.rs", encoding="utf-8").read()
cases = re.findall(r'check\(\s*json!\((.*?)\),\s*Severity::(\w+),\s*"([^"]+)",?\s*\)', src, re.S)
wrong, checked = [], 0
for body, severity, rule in cases:
    try:
        changes = json.loads(body)
    except json.JSONDecodeError:
        continue  # a case built from a loop's variable
    checked += 1
    k = {"function": "ips", "action": "blocked", "direction": "inbound", "name": "Something",
         "vendor_severity": "medium", "category": None}
    for key, value in changes.items():
        if key == "threat":
            k.update(value)
        else:
            k[key] = value
    got = m.rate(rules, k)
    if (got[0], got[2]) != (severity.lower(), rule):
        wrong.append((changes, severity, rule, got))
print(json.dumps({"cases": checked, "wrong": wrong}, ensure_ascii=False))
`;
const TINY = ['--companies', '5', '--days', '3', '--end', '2026-12-01T15'];

let dir;
const fresh = (name) => {
  const db = join(dir, name);
  execFileSync('python3', ['-c', MIGRATE, db, root]);
  return db;
};
const seed = (db, args = TINY) => execFileSync(join(root, 'scripts', 'seed-scale'), ['--db', db, ...args],
  { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const sql = (db, q) => JSON.parse(execFileSync('python3', ['-c', QUERY, db, q]).toString());
const check = (db) => spawnSync(join(root, 'scripts', 'bench-seed-check'), ['--db', db], { encoding: 'utf8' });

let db;
let printed;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mimamori-seed-'));
  db = fresh('a.sqlite');
  printed = seed(db);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the tiny data set has its companies, appliances, hours and the detections it prints', () => {
  const [counts] = sql(db, `SELECT
    (SELECT count(*) FROM customers) AS customers,
    (SELECT count(*) FROM devices) AS devices,
    (SELECT count(*) FROM devices WHERE last_seen_at IS NOT NULL) AS seen,
    (SELECT count(*) FROM device_report_hours) AS hours,
    (SELECT max(reports) FROM device_report_hours) AS per_hour,
    (SELECT sum(count) FROM threats) AS detections,
    (SELECT sum(count) FROM incidents) AS in_incidents,
    (SELECT count(*) FROM usage_records) AS usage,
    (SELECT count(*) FROM usage_days) AS usage_days,
    (SELECT sum(hits) FROM usage_days) AS usage_hits,
    (SELECT count(*) FROM usage_host_days) AS usage_host_days,
    (SELECT sum(hits) FROM usage_host_days) AS usage_host_hits`);
  assert.equal(counts.customers, 5);
  assert.equal(counts.devices, 10);
  assert.equal(counts.seen, 10);
  assert.ok(counts.hours > 0 && counts.hours <= 10 * 72, `hours: ${counts.hours}`);
  assert.equal(counts.per_hour, 60, 'one report a minute');
  assert.ok(counts.usage > 0 && counts.usage_days > 0);
  assert.ok(counts.usage_host_days >= counts.usage_days, 'a day of a name is used by one host or more');
  assert.equal(counts.usage_host_hits, counts.usage_hits, 'per host sums up to per appliance');
  assert.equal(counts.in_incidents, counts.detections, 'every detection is in one incident');
  const shown = Number(printed.match(/detections before compaction: ([\d,]+)/)[1].replaceAll(',', ''));
  assert.equal(shown, counts.detections);
  assert.match(printed, /threats\s+[\d,]+ rows/);
  assert.match(printed, /database file: [\d,]+ bytes/);
  assert.match(printed, /seconds: [\d.]+/);
});

test('the seed rates a threat as domain::severity does, case for case of its tests', () => {
  const { cases, wrong } = JSON.parse(execFileSync('python3', ['-c', DOMAIN_CASES, root]).toString());
  assert.ok(cases >= 10, `only ${cases} cases read from domain/src/severity/tests.rs`);
  assert.deepEqual(wrong, []);
});

test('threats carry the rating of the rule table and are compacted with counts', () => {
  const rated = sql(db, `SELECT DISTINCT name, severity, rule FROM threats
    WHERE name IN ('ET MALWARE Cobalt Strike Beacon Observed', 'URL Filter: ギャンブル',
                   'ET SCAN Potential SSH Scan', 'VENDOR Suspicious Outbound Traffic') ORDER BY name`);
  assert.deepEqual(rated, [
    { name: 'ET MALWARE Cobalt Strike Beacon Observed', severity: 'high', rule: 'c2-from-inside' },
    { name: 'ET SCAN Potential SSH Scan', severity: 'low', rule: 'scan-seen' },
    { name: 'URL Filter: ギャンブル', severity: 'low', rule: 'policy' },
    { name: 'VENDOR Suspicious Outbound Traffic', severity: 'investigating', rule: 'undecided' },
  ]);
  const [{ compacted }] = sql(db, 'SELECT count(*) AS compacted FROM threats WHERE count > 1');
  assert.ok(compacted > 0, 'repeats in one bucket are one row');
  const [{ recorded }] = sql(db, "SELECT count(*) AS recorded FROM incidents WHERE notice = 'record'");
  assert.ok(recorded > 0, 'recorded-only traffic makes recorded incidents');
});

test('the noisy company detects about --noisy-factor times what its busy twin does', () => {
  const by = Object.fromEntries(sql(db, `SELECT customer_id, sum(count) AS n FROM threats
    WHERE customer_id IN ('cus_scale_busy', 'cus_scale_noisy') GROUP BY 1`).map((r) => [r.customer_id, r.n]));
  const ratio = by.cus_scale_noisy / by.cus_scale_busy;
  assert.ok(ratio > 6 && ratio < 15, `ratio ${ratio}`);
});

test('the same arguments write the same rows', () => {
  const other = fresh('b.sqlite');
  seed(other);
  // Fingerprints of every table's rows (the full rows are megabytes).
  const dump = (f) => sql(f, `SELECT count(*) AS n, sum(count) AS c, sum(first_at % 1000003) AS f,
    sum(unicode(substr(first_event_id, -1)) * (bucket / 600000 % 7919)) AS e,
    (SELECT sum(batch % 1000003) FROM incidents) AS b, (SELECT sum(closed_at % 1000003) FROM incidents) AS z,
    (SELECT sum(bytes) FROM usage_records) AS u, (SELECT sum(hour / 3600000) FROM device_report_hours) AS h
    FROM threats`);
  assert.deepEqual(dump(other), dump(db));
});

test('the check passes on the data set and fails when a rollup no longer sums up', () => {
  const good = check(db);
  assert.equal(good.status, 0, good.stdout + good.stderr);
  assert.match(good.stdout, /ok {2}PRAGMA integrity_check/);
  sql(db, 'UPDATE threat_days SET events = events + 1 WHERE (customer_id, day, device_id, function, vendor_severity) = (SELECT customer_id, day, device_id, function, vendor_severity FROM threat_days LIMIT 1)');
  const bad = check(db);
  assert.equal(bad.status, 1, bad.stdout);
  assert.match(bad.stdout, /FAILED: 2 rows {2}threat_days are the sums/);
  assert.match(bad.stdout, /ok {2}usage_host_days are the sums/);
  sql(db, 'UPDATE usage_host_days SET bytes = bytes + 1 WHERE (customer_id, day, device_id, host, kind, name) = (SELECT customer_id, day, device_id, host, kind, name FROM usage_host_days LIMIT 1)');
  assert.match(check(db).stdout, /FAILED: 2 rows {2}usage_host_days are the sums/);
});

test('a database that already holds the data set is refused', () => {
  const again = spawnSync(join(root, 'scripts', 'seed-scale'), ['--db', db, ...TINY], { encoding: 'utf8' });
  assert.notEqual(again.status, 0);
  assert.match(again.stderr, /already holds the reference data set/);
});
