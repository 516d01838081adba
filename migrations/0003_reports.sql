-- What device reports write (api-v1 POST /api/v1/device/reports). Times are integer ms
-- UTC; `day` is an Asia/Tokyo calendar date 'YYYY-MM-DD'. Raw rows and rollups are kept
-- 90 days (RETENTION_DAYS), report and event ids 8 days (the 7-day window plus one):
-- the cron sweep deletes older rows in bounded chunks.

-- The per-device report rate (token bucket), kept with the device.
ALTER TABLE devices ADD COLUMN rate_tokens REAL;
ALTER TABLE devices ADD COLUMN rate_at INTEGER;

-- Every report stored, so a re-sent one stores nothing new. `batch` is a random number
-- drawn by the request that stored it: later statements of the same D1 batch act only
-- when this request's row is the one that exists.
CREATE TABLE device_reports (
  device_id   TEXT NOT NULL,
  report_id   TEXT NOT NULL,
  batch       INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  events      INTEGER NOT NULL,
  PRIMARY KEY (device_id, report_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX device_reports_by_time ON device_reports (received_at);

-- Every event id stored, for idempotency per event_id.
CREATE TABLE device_events (
  device_id   TEXT NOT NULL,
  event_id    TEXT NOT NULL,
  batch       INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (device_id, event_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX device_events_by_time ON device_events (received_at);

-- Threat events, compacted: repeats of one signature from one source, handled the same
-- way within a 10-minute bucket, are one row with a count (domain::ingest::CompactKey).
-- The details (ports, url, file) are those of the first event of the row.
CREATE TABLE threats (
  id              INTEGER PRIMARY KEY,
  customer_id     TEXT NOT NULL,
  device_id       TEXT NOT NULL,
  bucket          INTEGER NOT NULL,
  sig_key         TEXT NOT NULL,
  src_key         TEXT NOT NULL,
  action          TEXT NOT NULL,
  direction       TEXT NOT NULL,
  function        TEXT NOT NULL,
  day             TEXT NOT NULL,
  first_event_id  TEXT NOT NULL,
  first_at        INTEGER NOT NULL,
  last_at         INTEGER NOT NULL,
  count           INTEGER NOT NULL CHECK (count >= 1),
  name            TEXT NOT NULL,
  signature_id    TEXT,
  category        TEXT,
  vendor_severity TEXT NOT NULL,
  src_ip          TEXT,
  src_port        INTEGER,
  src_mac         TEXT,
  dst_ip          TEXT,
  dst_port        INTEGER,
  protocol        TEXT,
  url             TEXT,
  file_name       TEXT,
  file_sha256     TEXT
) STRICT;

CREATE UNIQUE INDEX threats_compact ON threats (device_id, bucket, sig_key, src_key, action, direction);
-- The portal's alert list and the retention sweep (per customer, by time).
CREATE INDEX threats_by_customer ON threats (customer_id, last_at);

-- Usage records (web categories and applications per period), one row per record.
CREATE TABLE usage_records (
  device_id    TEXT NOT NULL,
  event_id     TEXT NOT NULL,
  customer_id  TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  period_end   INTEGER NOT NULL,
  kind         TEXT NOT NULL,
  name         TEXT NOT NULL,
  hits         INTEGER NOT NULL,
  bytes        INTEGER NOT NULL,
  client_ip    TEXT,
  client_mac   TEXT,
  PRIMARY KEY (device_id, event_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX usage_records_by_customer ON usage_records (customer_id, period_end);

-- Daily rollups: the dashboard and the all-companies average read O(days) rows.
-- `vendor_severity` is the appliance's rating; mimamori's own rating comes with triage.
CREATE TABLE threat_days (
  customer_id     TEXT NOT NULL,
  day             TEXT NOT NULL,
  device_id       TEXT NOT NULL,
  function        TEXT NOT NULL,
  vendor_severity TEXT NOT NULL,
  events          INTEGER NOT NULL,
  PRIMARY KEY (customer_id, day, device_id, function, vendor_severity)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage_days (
  customer_id TEXT NOT NULL,
  day         TEXT NOT NULL,
  device_id   TEXT NOT NULL,
  kind        TEXT NOT NULL,
  name        TEXT NOT NULL,
  hits        INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  PRIMARY KEY (customer_id, day, device_id, kind, name)
) STRICT, WITHOUT ROWID;
