-- When a signed-in user last proved their password again (to change the second factor
-- from a session that is not fresh). A session counts as freshly authenticated for
-- domain::session::REAUTH_WINDOW after its creation or this time.
ALTER TABLE sessions ADD COLUMN reauth_at INTEGER;
