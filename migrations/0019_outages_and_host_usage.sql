-- The customer portal's appliance and usage pages (issue 13): the history of each
-- appliance's outages (device_down holds only the current one and forgets it on
-- recovery), and usage rolled up per internal host, so /usage reads O(days).

-- An appliance's outages, one row each: opened by the cron's first down notice and closed
-- by its recovery notice (store::downtime::save, in the same batch as device_down and the
-- notice), so the history and the mails never disagree. `down_since` is the appliance's
-- last report before the silence (NULL: never heard of), `noticed_at` the first notice,
-- `back_at` the check that found it reporting again (within a cron tick of its first
-- report back; NULL while it is down). Kept RETENTION_DAYS after `back_at`; an open one
-- while it is open (docs/retention.md). No CHECK on the times: a row this history cannot
-- take would fail the batch, and with it the notice (a clock set back, say).
CREATE TABLE device_outages (
  id          INTEGER PRIMARY KEY,
  customer_id TEXT NOT NULL,
  device_id   TEXT NOT NULL,
  down_since  INTEGER,
  noticed_at  INTEGER NOT NULL,
  back_at     INTEGER
) STRICT;

-- At most one open outage per appliance: the one a recovery closes.
CREATE UNIQUE INDEX device_outages_open ON device_outages (device_id) WHERE back_at IS NULL;
-- An appliance's page: its latest outages first.
CREATE INDEX device_outages_by_device ON device_outages (customer_id, device_id, noticed_at);
-- The retention sweep: closed outages per customer by when they ended.
CREATE INDEX device_outages_by_end ON device_outages (customer_id, back_at);

-- The appliances down now were noticed before this table: their outages are open.
INSERT INTO device_outages (customer_id, device_id, down_since, noticed_at)
  SELECT d.customer_id, s.device_id, s.last_seen, s.first_notice_at
  FROM device_down s JOIN devices d ON d.id = s.device_id;

-- Usage per customer, Asia/Tokyo day (of the period's start, as usage_days), appliance,
-- internal host (the record's client IP, else its MAC, else ''), kind and name. Kept up
-- to date by the ingest batch next to usage_days, from the same new records, so a re-sent
-- report counts nothing twice; kept RETENTION_DAYS like usage_days.
CREATE TABLE usage_host_days (
  customer_id TEXT NOT NULL,
  day         TEXT NOT NULL,
  device_id   TEXT NOT NULL,
  host        TEXT NOT NULL,
  kind        TEXT NOT NULL,
  name        TEXT NOT NULL,
  hits        INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  PRIMARY KEY (customer_id, day, device_id, host, kind, name)
) STRICT, WITHOUT ROWID;

-- Backfill from the records already stored (kept as long as usage_days).
INSERT INTO usage_host_days (customer_id, day, device_id, host, kind, name, hits, bytes)
  SELECT customer_id, date((period_start + 32400000) / 1000, 'unixepoch'), device_id,
    coalesce(client_ip, client_mac, ''), kind, name, sum(hits), sum(bytes)
  FROM usage_records GROUP BY 1, 2, 3, 4, 5, 6;
