-- Demo data for local development and the e2e tests: one reseller, the demo customer
-- with three appliances, and a second customer whose appliance must never show up in
-- the demo customer's portal. Times are relative to now, so a fresh seed always has
-- two appliances online and one that went silent three hours ago. Re-running replaces
-- the demo rows and leaves everything else alone: the reseller and the companies are
-- updated in place, not deleted, so that their portal accounts (and the password and
-- second factor their users chose) survive a restart of scripts/dev.

DELETE FROM device_report_hours WHERE device_id IN
  ('c025a28b0a41', 'c025a28b0a42', 'c025a28b0a43', '0090fe7700aa');
DELETE FROM devices WHERE customer_id IN ('cus_demo', 'cus_other');
DELETE FROM alert_recipients WHERE customer_id IN ('cus_demo', 'cus_other');

INSERT INTO resellers (id, name, created_at)
VALUES ('rsl_demo', 'デモ販売店', CAST(strftime('%s', 'now', '-30 days') AS INTEGER) * 1000)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, created_at = excluded.created_at;

INSERT INTO customers (id, reseller_id, name, service_start, paid_from, created_at) VALUES
  ('cus_demo', 'rsl_demo', '株式会社さくら製作所', date('now', '+9 hours', '-30 days'),
   date('now', '+9 hours', '-30 days', 'start of month', '+1 month'),
   CAST(strftime('%s', 'now', '-30 days') AS INTEGER) * 1000),
  ('cus_other', 'rsl_demo', '有限会社つばき商店', date('now', '+9 hours', '-10 days'), NULL,
   CAST(strftime('%s', 'now', '-10 days') AS INTEGER) * 1000)
ON CONFLICT (id) DO UPDATE SET
  reseller_id = excluded.reseller_id, name = excluded.name,
  service_start = excluded.service_start, paid_from = excluded.paid_from,
  contract_ended_at = NULL, created_at = excluded.created_at;

-- The demo company's contact person (お客様情報, §7.6).
UPDATE customers SET contact_name = '桜井 春子', contact_department = '総務部',
  contact_title = '課長', contact_email = 'admin@sakura-seisakusho.example',
  phone = '03-1234-5678', address = '東京都大田区下丸子1-2-3'
WHERE id = 'cus_demo';

-- Alert mail goes to these (the dev mail sink shows them): three for the demo company.
INSERT INTO alert_recipients (customer_id, position, email) VALUES
  ('cus_demo', 1, 'joho@sakura-seisakusho.example.jp'),
  ('cus_demo', 2, 'shacho@sakura-seisakusho.example.jp'),
  ('cus_demo', 3, 'hoshu@it-partner.example.jp'),
  ('cus_other', 1, 'tenshu@tsubaki-shoten.example.jp');

INSERT INTO devices (id, customer_id, name, model, firmware, definitions, clients, last_seen_at, created_at)
VALUES
  ('c025a28b0a41', 'cus_demo', 'utm1', 'UTM-S100', '1.4.2', '2026.11.25.01', 37,
   CAST(strftime('%s', 'now', '-20 seconds') AS INTEGER) * 1000,
   CAST(strftime('%s', 'now', '-30 days') AS INTEGER) * 1000),
  ('c025a28b0a42', 'cus_demo', 'utm2', 'UTM-S100', '1.4.2', '2026.11.25.01', 12,
   CAST(strftime('%s', 'now', '-45 seconds') AS INTEGER) * 1000,
   CAST(strftime('%s', 'now', '-30 days') AS INTEGER) * 1000),
  ('c025a28b0a43', 'cus_demo', 'utm3', 'UTM-S100', '1.4.1', '2026.11.24.03', 5,
   CAST(strftime('%s', 'now', '-3 hours') AS INTEGER) * 1000,
   CAST(strftime('%s', 'now', '-30 days') AS INTEGER) * 1000),
  ('0090fe7700aa', 'cus_other', 'honten', 'UTM-S100', '1.4.2', '2026.11.25.01', 8,
   CAST(strftime('%s', 'now', '-10 seconds') AS INTEGER) * 1000,
   CAST(strftime('%s', 'now', '-10 days') AS INTEGER) * 1000);

-- Three days of hourly heartbeat counts (60 an hour); utm3 stops three hours ago.
WITH RECURSIVE hours(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM hours WHERE n < 71)
INSERT INTO device_report_hours (device_id, hour, reports)
SELECT d.id,
       (CAST(strftime('%s', 'now', 'start of day', '+' || strftime('%H', 'now') || ' hours') AS INTEGER)
        - h.n * 3600) * 1000,
       CASE WHEN d.id = 'c025a28b0a43' AND h.n < 3 THEN 0 ELSE 60 END
FROM devices d CROSS JOIN hours h
WHERE d.customer_id IN ('cus_demo', 'cus_other');
