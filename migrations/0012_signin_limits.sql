-- Limits of signing in that need a memory.
--
-- A locked login id or address is written in the audit log once per lock, not once per
-- refused attempt (store::throttle::first_refusal): the end of the lock whose refusal is
-- already written.
ALTER TABLE signin_throttle ADD COLUMN noted_until INTEGER;

-- Every SMS code handed to the SMS API, counted against the hourly caps per number and
-- overall (SMS_PER_NUMBER_PER_HOUR, SMS_PER_HOUR; store::sms::count_send). Rows older than
-- the window are deleted by the cron's identity cleanup.
CREATE TABLE sms_sends (
  id      INTEGER PRIMARY KEY,
  phone   TEXT NOT NULL,
  sent_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sms_sends_by_phone ON sms_sends (phone, sent_at);
CREATE INDEX sms_sends_by_time ON sms_sends (sent_at);
