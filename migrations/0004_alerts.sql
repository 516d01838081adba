-- Alerts: every threat row carries mimamori's rating (domain::severity); repeats of one
-- threat from one internal host are one incident; new incidents are written to the
-- notification outbox in the same transaction as the events; mails carry them out and
-- are the delivery log. Times are integer ms UTC.

ALTER TABLE threats ADD COLUMN severity TEXT NOT NULL DEFAULT 'investigating';
ALTER TABLE threats ADD COLUMN rule TEXT NOT NULL DEFAULT '';

-- Repeats of one signature from (or to) one internal host on one appliance, while they
-- keep coming: one incident with a count. An incident quiet for INCIDENT_WINDOW is
-- closed; a later repeat opens a new one. severity_rank: 0 ★★★, 1 ★★☆, 2 ★☆☆, 3 調査中
-- (the most urgent of its events). `batch` is the report request that opened it.
CREATE TABLE incidents (
  id             INTEGER PRIMARY KEY,
  customer_id    TEXT NOT NULL,
  device_id      TEXT NOT NULL,
  sig_key        TEXT NOT NULL,
  host           TEXT NOT NULL,
  name           TEXT NOT NULL,
  function       TEXT NOT NULL,
  action         TEXT NOT NULL,
  direction      TEXT NOT NULL,
  url            TEXT,
  file_name      TEXT,
  severity_rank  INTEGER NOT NULL CHECK (severity_rank BETWEEN 0 AND 3),
  rule           TEXT NOT NULL,
  rules_version  INTEGER NOT NULL,
  first_at       INTEGER NOT NULL,
  last_at        INTEGER NOT NULL,
  count          INTEGER NOT NULL CHECK (count >= 1),
  batch          INTEGER NOT NULL,
  closed_at      INTEGER,
  created_at     INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX incidents_open ON incidents (device_id, sig_key, host) WHERE closed_at IS NULL;
CREATE INDEX incidents_by_customer ON incidents (customer_id, last_at);

-- The outbox: an incident to be mailed. Claimed by exactly one mail (mail_id), so a
-- notification is never lost (it waits until claimed) nor mailed twice.
CREATE TABLE notifications (
  id          INTEGER PRIMARY KEY,
  customer_id TEXT NOT NULL,
  incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  rank        INTEGER NOT NULL,
  due_at      INTEGER NOT NULL,
  mail_id     TEXT,
  created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX notifications_pending ON notifications (customer_id, due_at) WHERE mail_id IS NULL;
CREATE INDEX notifications_by_mail ON notifications (mail_id) WHERE mail_id IS NOT NULL;

-- Every mail, from queued to sent: the delivery log per customer. `id` is also the
-- Idempotency-Key sent to the mail API, so a retry after a lost answer is not a second
-- mail.
CREATE TABLE mails (
  id              TEXT PRIMARY KEY,
  customer_id     TEXT NOT NULL,
  kind            TEXT NOT NULL,
  recipients      TEXT NOT NULL,
  subject         TEXT,
  text            TEXT,
  html            TEXT,
  status          TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  sent_at         INTEGER
) STRICT;

CREATE INDEX mails_due ON mails (next_attempt_at) WHERE status = 'queued';
CREATE INDEX mails_by_customer ON mails (customer_id, created_at);
