-- What the operator API and enrollment write: a customer's alert mail addresses (at most
-- three, seed §4.3), the enrollment codes handed out for its appliances, and the device
-- tokens those codes are exchanged for.

CREATE TABLE alert_recipients (
  customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  position    INTEGER NOT NULL CHECK (position BETWEEN 1 AND 3),
  email       TEXT NOT NULL,
  PRIMARY KEY (customer_id, position)
) STRICT, WITHOUT ROWID;

-- Only the SHA-256 of a normalised code is kept; a code is single-use and expires.
-- used_by is the hash of the token the code was exchanged for.
CREATE TABLE enrollment_codes (
  code_hash  TEXT PRIMARY KEY,
  device_id  TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER,
  used_by    TEXT,
  created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX enrollment_codes_by_device ON enrollment_codes (device_id);

-- Only the SHA-256 of a device token is kept. Enrolling again revokes every earlier token
-- of the device.
CREATE TABLE device_tokens (
  token_hash TEXT PRIMARY KEY,
  device_id  TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  issued_at  INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;

CREATE INDEX device_tokens_by_device ON device_tokens (device_id);
