-- Who may use the portal and the operator API (seed §3.5): accounts with their role,
-- password and second factor; portal sessions; one-time codes; API tokens; sign-in
-- throttling; and the audit log the operator reads. No secret is stored in the clear:
-- passwords and codes as hashes, TOTP seeds (which the server must read back) sealed
-- under TOTP_SEAL_KEY (domain::sealed).

-- One person. The role decides the scope: an operator sees every customer, a reseller's
-- staff their reseller's customers, a customer admin their company only.
CREATE TABLE accounts (
  id                TEXT PRIMARY KEY,
  role              TEXT NOT NULL CHECK (role IN ('operator', 'reseller', 'customer')),
  reseller_id       TEXT REFERENCES resellers (id),
  customer_id       TEXT REFERENCES customers (id) ON DELETE CASCADE,
  email             TEXT NOT NULL,
  -- The temporary id until the first sign-in, then the one the user chose.
  login_id          TEXT NOT NULL COLLATE NOCASE UNIQUE,
  password_hash     TEXT NOT NULL,
  -- Set while the password is a temporary one: the next sign-in must replace both.
  temp_expires_at   INTEGER,
  -- NULL until the user has chosen; then 'totp', 'sms' or 'none'.
  second_factor     TEXT CHECK (second_factor IN ('totp', 'sms', 'none')),
  totp_secret       TEXT,
  totp_last_step    INTEGER,
  -- A seed shown as a QR code and not yet confirmed with a code.
  totp_pending      TEXT,
  totp_pending_at   INTEGER,
  sms_phone         TEXT,
  sms_pending_phone TEXT,
  disabled          INTEGER NOT NULL DEFAULT 0,
  created_at        INTEGER NOT NULL,
  password_changed_at INTEGER,
  CHECK ((role = 'operator' AND reseller_id IS NULL AND customer_id IS NULL)
      OR (role = 'reseller' AND reseller_id IS NOT NULL AND customer_id IS NULL)
      OR (role = 'customer' AND customer_id IS NOT NULL AND reseller_id IS NULL))
) STRICT;

CREATE INDEX accounts_by_customer ON accounts (customer_id);
CREATE INDEX accounts_by_reseller ON accounts (reseller_id);

-- A portal session. The cookie carries a signed token naming the session; only the
-- SHA-256 of its id is kept. Revoking the row ends the session whatever the cookie says.
-- stage: 'setup' (temporary password accepted), 'choose' (second factor not chosen yet),
-- 'verify' (password accepted, second factor pending), 'full'.
CREATE TABLE sessions (
  id_hash         TEXT PRIMARY KEY,
  account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  stage           TEXT NOT NULL CHECK (stage IN ('setup', 'choose', 'verify', 'full')),
  created_at      INTEGER NOT NULL,
  last_seen_at    INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  revoked_at      INTEGER,
  failed_codes    INTEGER NOT NULL DEFAULT 0,
  ip              TEXT,
  user_agent      TEXT,
  -- Recovery codes just made, shown once on the next page view and then cleared.
  recovery_reveal TEXT
) STRICT;

CREATE INDEX sessions_by_account ON sessions (account_id, revoked_at);

-- Codes sent by SMS, one live code per account (a new one replaces it).
CREATE TABLE sms_challenges (
  account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  phone      TEXT NOT NULL,
  code_hash  TEXT NOT NULL,
  sent_at    INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Single-use recovery codes (SHA-256 of the normalised code).
CREATE TABLE recovery_codes (
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  code_hash  TEXT NOT NULL,
  used_at    INTEGER,
  PRIMARY KEY (account_id, code_hash)
) STRICT, WITHOUT ROWID;

-- Bearer tokens of the operator API beyond OPERATOR_TOKEN, scoped to the operator or to
-- one reseller. Only the SHA-256 is kept; revoked tokens stay for the audit trail.
CREATE TABLE api_tokens (
  id           TEXT PRIMARY KEY,
  token_hash   TEXT NOT NULL UNIQUE,
  scope        TEXT NOT NULL CHECK (scope IN ('operator', 'reseller')),
  reseller_id  TEXT REFERENCES resellers (id),
  name         TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at   INTEGER,
  CHECK ((scope = 'operator') = (reseller_id IS NULL))
) STRICT;

-- Failed sign-ins per key (SHA-256 of 'id:<login id>' or 'ip:<address>'), whether or not
-- the login id exists, so a lockout reveals nothing (domain::account::Throttle).
CREATE TABLE signin_throttle (
  key           TEXT PRIMARY KEY,
  failures      INTEGER NOT NULL,
  first_failure INTEGER,
  locked_until  INTEGER
) STRICT, WITHOUT ROWID;

-- What happened, by whom, from where. Read by the operator (portal /admin/audit and
-- GET /api/v1/admin/audit). customer_id scopes an entry to a company when there is one.
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  event       TEXT NOT NULL,
  account_id  TEXT,
  customer_id TEXT,
  reseller_id TEXT,
  token_id    TEXT,
  login_id    TEXT,
  ip          TEXT,
  user_agent  TEXT,
  detail      TEXT
) STRICT;

CREATE INDEX audit_log_by_time ON audit_log (at);
CREATE INDEX audit_log_by_account ON audit_log (account_id, at);
