-- Demo history for local development (scripts/dev, after seed-demo.sql): sixty days of
-- what the demo company's utm1 and utm2 detected, and twelve other participating
-- companies with one appliance each, so that 参加企業平均と比べる, 自社UTM同士を比べる and
-- last month's 月次レポート show something real on a first run. Every detection is a
-- stored (compacted) threat row of a ★☆☆ kind — blocked scans, policy hits, adware —
-- with the daily rollups summed from those rows, so that the dashboard, 検知履歴 and the
-- comparisons agree. Counts vary by company and day from a fixed formula (most companies
-- quiet, two busy). The other companies' appliances reported every hour up to now but
-- are disabled, so that the demo's cron does not mail anyone that they went silent.
-- Re-running replaces all of it; today's detections come from the simulated appliance.

DELETE FROM threat_tier_days WHERE customer_id LIKE 'cus_peer%'
  OR (customer_id = 'cus_demo' AND day < date('now', '+9 hours'));
DELETE FROM threat_days WHERE customer_id LIKE 'cus_peer%'
  OR (customer_id = 'cus_demo' AND day < date('now', '+9 hours'));
DELETE FROM threats WHERE first_event_id LIKE 'hist-%';
DELETE FROM device_report_hours WHERE device_id LIKE 'd1a00000%';
DELETE FROM devices WHERE customer_id LIKE 'cus_peer%';

-- The demo company has been a customer for seventy days, its appliances as long.
UPDATE customers SET service_start = date('now', '+9 hours', '-70 days') WHERE id = 'cus_demo';
UPDATE devices SET created_at = CAST(strftime('%s', 'now', '-70 days') AS INTEGER) * 1000
WHERE customer_id = 'cus_demo';

WITH peers(k, name) AS (VALUES (1, '株式会社あおば工業'), (2, '有限会社みなと設計'),
    (3, '株式会社ひかり会計事務所'), (4, '合同会社かえで歯科'), (5, '株式会社すずらん運送'),
    (6, '有限会社いちょう印刷'), (7, '株式会社もみじ不動産'), (8, '株式会社なでしこ食品'),
    (9, '有限会社ひまわり薬局'), (10, '株式会社くすのき建設'), (11, '株式会社たちばな商事'),
    (12, '合同会社ゆり保育園'))
INSERT INTO customers (id, reseller_id, name, service_start, paid_from, created_at)
SELECT 'cus_peer' || printf('%02d', k), 'rsl_demo', name, date('now', '+9 hours', '-70 days'), NULL,
       CAST(strftime('%s', 'now', '-70 days') AS INTEGER) * 1000
FROM peers WHERE true
ON CONFLICT (id) DO UPDATE SET name = excluded.name, service_start = excluded.service_start,
  contract_ended_at = NULL;

WITH RECURSIVE ks(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM ks WHERE k < 12)
INSERT INTO devices (id, customer_id, name, model, firmware, definitions, clients, disabled, last_seen_at, created_at)
SELECT 'd1a00000' || printf('%04x', k), 'cus_peer' || printf('%02d', k), 'utm1', 'UTM-S100', '1.4.2',
       '2026.11.25.01', 5 + k * 3, 1, CAST(strftime('%s', 'now') AS INTEGER) * 1000,
       CAST(strftime('%s', 'now', '-70 days') AS INTEGER) * 1000
FROM ks;

-- Every hour of the last sixty days, up to the current one: the demo company's three
-- appliances (seed-demo.sql already has the last three days) and the others'.
WITH RECURSIVE hours(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM hours WHERE n < 60 * 24)
INSERT OR IGNORE INTO device_report_hours (device_id, hour, reports)
SELECT d.id,
       (CAST(strftime('%s', 'now', 'start of day', '+' || strftime('%H', 'now') || ' hours') AS INTEGER)
        - h.n * 3600) * 1000,
       60
FROM devices d CROSS JOIN hours h
WHERE d.id LIKE 'd1a00000%' OR d.id IN ('c025a28b0a41', 'c025a28b0a42')
   OR (d.id = 'c025a28b0a43' AND h.n >= 72);

-- The detections: per company, device, past day (1..60) and kind, a count from the
-- formula (0 is no row). `weight` makes most companies quiet and two of them busy.
WITH RECURSIVE days(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM days WHERE n < 60),
  fleet(customer_id, device_id, weight, seed) AS (
    SELECT 'cus_demo', 'c025a28b0a41', 4, 3 UNION ALL
    SELECT 'cus_demo', 'c025a28b0a42', 2, 5 UNION ALL
    SELECT customer_id, id, CASE CAST(substr(customer_id, 9) AS INTEGER)
                              WHEN 3 THEN 12 WHEN 8 THEN 9 ELSE 1 + CAST(substr(customer_id, 9) AS INTEGER) % 4 END,
           CAST(substr(customer_id, 9) AS INTEGER) * 7
    FROM devices WHERE id LIKE 'd1a00000%'),
  kinds(kind, name, sig, function, direction, action, category, rule, src, dst, port) AS (VALUES
    (0, 'ET SCAN Suspicious inbound to mySQL port 3306', '2010937', 'ips', 'inbound', 'blocked',
        'attempted-recon', 'scan-seen', '198.51.100.23', '192.168.1.10', 3306),
    (1, 'ET POLICY Dropbox.com Offsite File Backup in Use', '2012647', 'ips', 'outbound', 'detected',
        'policy-violation', 'policy', '192.168.1.24', '203.0.113.40', 443),
    (2, 'Adware.Toolbar.Generic', NULL, 'web_guard', 'outbound', 'blocked',
        'adware', 'unwanted-software', '192.168.1.31', '203.0.113.77', 80)),
  counted AS (
    SELECT f.customer_id, f.device_id, d.n, k.*,
           (f.weight * ((d.n * 7 + f.seed * 3 + k.kind * 5) % 6)) / (1 + k.kind) AS events,
           (CAST(strftime('%s', 'now', '+9 hours', 'start of day', '-' || d.n || ' days', '+10 hours',
                          '-9 hours') AS INTEGER) + k.kind * 1800) * 1000 AS at
    FROM fleet f CROSS JOIN days d CROSS JOIN kinds k)
INSERT INTO threats (customer_id, device_id, bucket, sig_key, src_key, action, direction, function,
  day, first_event_id, first_at, last_at, count, name, signature_id, category, vendor_severity,
  src_ip, src_port, src_mac, dst_ip, dst_port, protocol, url, file_name, file_sha256, severity, rule, host)
SELECT customer_id, device_id, at / 600000 * 600000, 'hist:' || kind, src, action, direction, function,
       date(at / 1000, 'unixepoch', '+9 hours'), 'hist-' || device_id || '-' || n || '-' || kind,
       at, at + 540000, events, name, sig, category, 'low', src, 50000 + kind, NULL, dst, port, 'tcp',
       NULL, NULL, NULL, 'low', rule, CASE direction WHEN 'inbound' THEN dst ELSE src END
FROM counted WHERE events > 0;

-- The rollups of the past days, summed again from every stored row (the simulated
-- appliance's of earlier runs too).
INSERT INTO threat_days (customer_id, day, device_id, function, vendor_severity, events)
SELECT customer_id, day, device_id, function, vendor_severity, sum(count) FROM threats
WHERE customer_id LIKE 'cus_peer%' OR (customer_id = 'cus_demo' AND day < date('now', '+9 hours'))
GROUP BY customer_id, day, device_id, function, vendor_severity;

INSERT INTO threat_tier_days (customer_id, day, device_id, function, severity, events)
SELECT customer_id, day, device_id, function, severity, sum(count) FROM threats
WHERE customer_id LIKE 'cus_peer%' OR (customer_id = 'cus_demo' AND day < date('now', '+9 hours'))
GROUP BY customer_id, day, device_id, function, severity;
