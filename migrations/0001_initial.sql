-- The tenants and their appliances. Times are integer milliseconds since the Unix epoch
-- (UTC); dates of contracts are Asia/Tokyo calendar dates as 'YYYY-MM-DD'.

-- A reseller sells the service to its customers and sees only them.
CREATE TABLE resellers (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

-- A customer company: the unit of tenancy. Every portal query is scoped by its id.
CREATE TABLE customers (
  id                TEXT PRIMARY KEY,
  reseller_id       TEXT REFERENCES resellers (id),
  name              TEXT NOT NULL,
  service_start     TEXT NOT NULL,
  paid_from         TEXT,
  contract_ended_at INTEGER,
  created_at        INTEGER NOT NULL
) STRICT;

CREATE INDEX customers_by_reseller ON customers (reseller_id);

-- An appliance at a customer's internet edge, known by its WAN MAC (api-v1 device id).
CREATE TABLE devices (
  id           TEXT PRIMARY KEY CHECK (length(id) = 12 AND id NOT GLOB '*[^0-9a-f]*'),
  customer_id  TEXT NOT NULL REFERENCES customers (id),
  name         TEXT NOT NULL,
  model        TEXT,
  firmware     TEXT,
  definitions  TEXT,
  clients      INTEGER,
  disabled     INTEGER NOT NULL DEFAULT 0,
  last_seen_at INTEGER,
  created_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX devices_by_customer ON devices (customer_id, name);

-- Heartbeats rolled up per appliance and hour: enough for availability charts and
-- offline history without a row per 60-second report.
CREATE TABLE device_report_hours (
  device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  hour      INTEGER NOT NULL,
  reports   INTEGER NOT NULL CHECK (reports >= 0),
  PRIMARY KEY (device_id, hour)
) STRICT, WITHOUT ROWID;
