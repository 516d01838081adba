-- Appliances that are down and have been mailed about (domain::downtime::Down). A row
-- exists from the first notice until the recovery notice. Times are integer ms UTC.
CREATE TABLE device_down (
  device_id       TEXT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
  last_seen       INTEGER,
  first_notice_at INTEGER NOT NULL,
  last_notice_at  INTEGER NOT NULL,
  daily_done      INTEGER
) STRICT;
