-- What the operator API writes: a customer's alert mail addresses (at most three, seed
-- §4.3) and the enrollment codes handed out for its appliances.

CREATE TABLE alert_recipients (
  customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  position    INTEGER NOT NULL CHECK (position BETWEEN 1 AND 3),
  email       TEXT NOT NULL,
  PRIMARY KEY (customer_id, position)
) STRICT, WITHOUT ROWID;

-- Only the SHA-256 of a normalised code is kept; a code is single-use and expires.
CREATE TABLE enrollment_codes (
  code_hash  TEXT PRIMARY KEY,
  device_id  TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER,
  created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX enrollment_codes_by_device ON enrollment_codes (device_id);
