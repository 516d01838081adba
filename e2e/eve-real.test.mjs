// Triage on real detections, from the outside: every Suricata log in shared/data/eve/
// (written by Suricata in public repositories) is forwarded with `forward-eve --replay` by
// an appliance of its own customer. Nearly every threat the forwarder makes is stored,
// almost none is left 調査中, FormBook and IcedID from an internal host are ★★★, inbound
// ET SCAN is ★☆☆, nothing is rejected or left in the spool, and no mail carries an anomaly
// or anything else that is only recorded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, root } from './stack.mjs';
import { admin, newCustomer } from './devices.mjs';

const agent = join(process.env.MIMAMORI_TARGET_DIR || join(root, 'target'), 'agent', 'release', 'mimamori-agent');
const EVE = join(root, '..', 'shared', 'data', 'eve');
const files = readdirSync(EVE).filter((f) => f.endsWith('.json') || f.endsWith('.log')).sort();
let stack;
let dir;
/** file → {customer, device, summary (the forwarder's output)} */
const forwarded = new Map();

before(async () => {
  stack = await startStack({ seed: false, vars: { OFFLINE_AFTER_MIN: '100000' } });
  dir = mkdtempSync(join(tmpdir(), 'mimamori-eve-'));
  assert.equal(files.length, 13, `the shared logs are at ${EVE}`);
  for (const [i, file] of files.entries()) {
    const device = `0f00000000${String(i).padStart(2, '0')}`;
    const customer = await newCustomer(stack, company(i), [`log${i}@example.jp`]);
    const res = await admin(stack, `/api/v1/admin/customers/${customer}/devices`, { device_id: device, name: 'utm1' });
    const { enrollment_code } = await res.json();
    const state = join(dir, device);
    execFileSync(agent, ['enroll', '--url', stack.url, '--device-id', device, '--code', enrollment_code, '--state', state]);
    const summary = execFileSync(agent, ['forward-eve', join(EVE, file), '--state', state, '--replay', '--quiet'], { encoding: 'utf8' });
    forwarded.set(file, { customer, device, summary });
  }
});
after(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const company = (i) => `株式会社ログ${String(i).padStart(2, '0')}`;
const figure = (summary, label) => Number(summary.match(new RegExp(`^${label}\\s+(\\d+)$`, 'm'))[1]);
const one = (sql) => stack.sql(sql)[0];

test('every real log is forwarded whole: nothing rejected, nothing left in the spool, no alert left out', () => {
  for (const [file, { summary }] of forwarded) {
    assert.equal(figure(summary, 'reports rejected'), 0, `${file}\n${summary}`);
    assert.equal(figure(summary, 'left in spool'), 0, `${file}\n${summary}`);
    assert.doesNotMatch(summary, /older than 7 days|threats left out/, `${file}\n${summary}`);
    assert.match(summary, /^replay: newest event .* moved to now/m, file);
  }
  // The replay anchors on events, not on the stats record's wall clock years later.
  const ice = forwarded.get(files.find((f) => f.startsWith('IceFice1337')));
  assert.ok(figure(ice.summary, 'threats') > 100, ice.summary);
  assert.match(ice.summary, /how each family was mapped/);
  assert.match(ice.summary, /ET CHAT\s+\d+\n\s+ips \d+ · policy-violation \d+/);
});

test('at least 95% of the threats the forwarder made are stored, at most 5% of them 調査中', () => {
  let made = 0;
  let stored = 0;
  let investigating = 0;
  for (const [file, { device, summary }] of forwarded) {
    const n = figure(summary, 'threats');
    const row = one(`SELECT coalesce(sum(count), 0) AS stored,
        coalesce(sum(CASE WHEN severity = 'investigating' THEN count END), 0) AS investigating
      FROM threats WHERE device_id = '${device}'`);
    assert.ok(row.stored >= 0.95 * n, `${file}: ${row.stored} of ${n} stored`);
    made += n;
    stored += row.stored;
    investigating += row.investigating;
  }
  assert.ok(made > 500, `${made} threats`);
  console.log(`real logs: ${made} threats made, ${stored} stored, ${investigating} 調査中`);
  assert.ok(stored >= 0.95 * made, `${stored} of ${made}`);
  assert.ok(investigating <= 0.05 * stored, `${investigating} of ${stored} 調査中`);
});

test('FormBook and IcedID traffic from an internal host is ★★★; inbound ET SCAN is ★☆☆', () => {
  const tiers = (where) => stack.sql(`SELECT severity, direction, sum(count) AS n FROM threats WHERE ${where} GROUP BY severity, direction`);
  const formbook = tiers("name LIKE 'ET MALWARE FormBook%'");
  assert.deepEqual(formbook, [{ severity: 'high', direction: 'outbound', n: 29 }]);
  const icedid = tiers("name LIKE 'ET MALWARE%IcedID%'");
  assert.ok(icedid.length >= 1 && icedid.every((r) => r.severity === 'high' && r.direction !== 'inbound'), JSON.stringify(icedid));
  assert.equal(icedid.reduce((s, r) => s + r.n, 0), 23);
  const scans = tiers("name LIKE 'ET SCAN%' AND direction = 'inbound'");
  assert.ok(scans.length >= 1, 'the Nmap scan from the internet (mauz88)');
  assert.ok(scans.every((r) => r.severity === 'low'), JSON.stringify(scans));
  // Each rating says which rule of which table fired.
  const [incident] = stack.sql("SELECT rule, rules_version, notice FROM incidents WHERE name LIKE 'ET MALWARE FormBook%'");
  assert.deepEqual(incident, { rule: 'c2-from-inside', rules_version: 2, notice: 'mail' });
});

test('anomalies and what is only recorded are stored but never mailed; the ★★★ mail goes out', async () => {
  await stack.cron(new Date(Date.now() + 6 * 60_000));
  const recorded = one(`SELECT count(*) AS n FROM incidents WHERE notice = 'record'`).n;
  assert.ok(recorded > 10, `${recorded} recorded-only incidents`);
  assert.equal(one(`SELECT count(*) AS n FROM notifications n JOIN incidents i ON i.id = n.incident_id
    WHERE i.notice = 'record'`).n, 0, 'no recorded-only incident in the outbox');
  const anomalies = one("SELECT count(*) AS n FROM incidents WHERE name LIKE 'SURICATA%' AND notice = 'record'").n;
  assert.ok(anomalies >= 5, `${anomalies} anomaly incidents recorded`);

  const mails = await stack.sink.mails();
  assert.ok(mails.length >= 1);
  for (const m of mails) {
    assert.doesNotMatch(m.text, /SURICATA|anomaly|ET CHAT|ET POLICY|ET INFO|Executable download/, m.subject);
  }
  const mailsOf = (file) => mails.filter((m) => m.subject.includes(company(files.indexOf(file))));
  // Logs whose threats are all anomalies, policy or informational: no mail at all.
  for (const prefix of ['OISF__suricata-verify__output-eve', 'OISF__suricata-verify__tests_detect-ldap',
    'OISF__suricata-verify__tls-fingerprint', 'elastic__beats']) {
    const file = files.find((f) => f.startsWith(prefix));
    assert.equal(mailsOf(file).length, 0, file);
  }
  // The FormBook log: one mail, ★★★, carrying the C2 check-ins and not the anomalies.
  const nico = mailsOf(files.find((f) => f.startsWith('nicoaller')));
  assert.ok(nico.length >= 1);
  assert.match(nico[0].subject, /★★★/);
  assert.match(nico[0].text, /FormBook/);
  // No customer got more than a handful of mails.
  for (const file of files) assert.ok(mailsOf(file).length <= 4, file);
});
