-- Retention of everything (issue 12, item 7; docs/retention.md).
--
-- A customer deleted from `customers` leaves a tombstone here until the cron's retention
-- sweep has deleted the rest of its rows, in bounded chunks, walking each table's
-- per-customer index (a query for rows whose customer is missing would read them all).
CREATE TABLE erased_customers (
  id        TEXT PRIMARY KEY,
  erased_at INTEGER NOT NULL
) STRICT;

CREATE TRIGGER customers_erased AFTER DELETE ON customers
BEGIN
  INSERT OR IGNORE INTO erased_customers (id, erased_at)
    VALUES (old.id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;

-- Customers deleted before this migration whose rows were left behind (one statement a
-- table: D1 allows only a few terms in a compound SELECT).
INSERT OR IGNORE INTO erased_customers (id, erased_at)
  SELECT DISTINCT customer_id, 0 FROM threats WHERE customer_id NOT IN (SELECT id FROM customers);
INSERT OR IGNORE INTO erased_customers (id, erased_at)
  SELECT DISTINCT customer_id, 0 FROM usage_records WHERE customer_id NOT IN (SELECT id FROM customers);
INSERT OR IGNORE INTO erased_customers (id, erased_at)
  SELECT DISTINCT customer_id, 0 FROM threat_days WHERE customer_id NOT IN (SELECT id FROM customers);
INSERT OR IGNORE INTO erased_customers (id, erased_at)
  SELECT DISTINCT customer_id, 0 FROM usage_days WHERE customer_id NOT IN (SELECT id FROM customers);
INSERT OR IGNORE INTO erased_customers (id, erased_at)
  SELECT DISTINCT customer_id, 0 FROM incidents WHERE customer_id NOT IN (SELECT id FROM customers);
INSERT OR IGNORE INTO erased_customers (id, erased_at)
  SELECT DISTINCT customer_id, 0 FROM notifications WHERE customer_id NOT IN (SELECT id FROM customers);
INSERT OR IGNORE INTO erased_customers (id, erased_at)
  SELECT DISTINCT customer_id, 0 FROM mails WHERE customer_id NOT IN (SELECT id FROM customers);

-- The down state of an appliance no longer watched goes by the time of its last notice.
CREATE INDEX device_down_by_notice ON device_down (last_notice_at);
