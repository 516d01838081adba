-- The customer portal's reads (issue 13): a daily rollup by mimamori's ★ tier, the
-- internal host of every threat row, and the indexes the alert list and detail walk.

-- Threat events per customer, Asia/Tokyo day, appliance, function and tier
-- (domain::severity: 'high' ★★★, 'medium' ★★☆, 'low' ★☆☆, 'investigating' 調査中).
-- Kept up to date by the ingest batch next to threat_days, from the same new events, so
-- a re-sent report counts nothing twice; kept RETENTION_DAYS like threat_days.
CREATE TABLE threat_tier_days (
  customer_id TEXT NOT NULL,
  day         TEXT NOT NULL,
  device_id   TEXT NOT NULL,
  function    TEXT NOT NULL,
  severity    TEXT NOT NULL CHECK (severity IN ('high', 'medium', 'low', 'investigating')),
  events      INTEGER NOT NULL,
  PRIMARY KEY (customer_id, day, device_id, function, severity)
) STRICT, WITHOUT ROWID;

-- The customer's own machine involved (domain::ingest::internal_host: the source of
-- outbound and internal traffic, the destination of inbound; IP, else MAC, else '').
ALTER TABLE threats ADD COLUMN host TEXT NOT NULL DEFAULT '';

-- Backfill from the rows already stored: a compacted row's events share its tier.
UPDATE threats SET host = CASE direction
  WHEN 'inbound' THEN coalesce(dst_ip, '')
  ELSE coalesce(src_ip, src_mac, '') END;

INSERT INTO threat_tier_days (customer_id, day, device_id, function, severity, events)
  SELECT customer_id, day, device_id, function, severity, sum(count)
  FROM threats GROUP BY customer_id, day, device_id, function, severity;

-- The alert list, newest first, per filter: each walks (customer, filter, last_at) and
-- the implicit rowid keeps (last_at, id) in order for the keyset cursor.
CREATE INDEX threats_by_severity ON threats (customer_id, severity, last_at);
CREATE INDEX threats_by_function ON threats (customer_id, function, last_at);
CREATE INDEX threats_by_device ON threats (customer_id, device_id, last_at);
CREATE INDEX threats_by_host ON threats (customer_id, host, last_at);
CREATE INDEX threats_by_action ON threats (customer_id, action, last_at);

-- An alert's incident: the incident of its threat and host whose time overlaps it.
CREATE INDEX incidents_by_threat ON incidents (device_id, sig_key, host, first_at);
