-- 参加企業平均 (issue 14, domain::peers): the cron keeps, per Asia/Tokyo day, which
-- companies took part (one of their appliances reported that day, device_report_hours)
-- with their detections, and the day's figures over all of them, so that the comparison
-- page reads O(days) and never another company's rows.

-- A participating company's detections of one day, in all functions (function '') and
-- per function that saw any. Written by the cron from threat_tier_days; a customer's
-- data: kept RETENTION_DAYS and erased with the customer. The viewer's own row is what
-- is taken out of the day's sum, so that the average excludes it exactly.
CREATE TABLE peer_members (
  customer_id TEXT NOT NULL,
  day         TEXT NOT NULL,
  function    TEXT NOT NULL,
  detections  INTEGER NOT NULL CHECK (detections >= 0),
  PRIMARY KEY (customer_id, day, function)
) STRICT, WITHOUT ROWID;
-- The cron's refresh of one day walks its members.
CREATE INDEX peer_members_by_day ON peer_members (day, function, customer_id);

-- A day over every participating company: how many, the sum of their detections and,
-- for all functions (function ''), the nearest-rank cut points of their daily totals
-- (domain::peers::Cuts). Holds no customer's data.
CREATE TABLE peer_days (
  day          TEXT NOT NULL,
  function     TEXT NOT NULL,
  companies    INTEGER NOT NULL CHECK (companies >= 0),
  detections   INTEGER NOT NULL CHECK (detections >= 0),
  p25          INTEGER NOT NULL DEFAULT 0,
  p50          INTEGER NOT NULL DEFAULT 0,
  p75          INTEGER NOT NULL DEFAULT 0,
  p90          INTEGER NOT NULL DEFAULT 0,
  refreshed_at INTEGER NOT NULL,
  PRIMARY KEY (day, function)
) STRICT, WITHOUT ROWID;
