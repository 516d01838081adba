-- 「対応しました」(issue 13): a customer's administrator marks an incident handled, with
-- who (account id), when and a short note (domain::handling: at most 500 characters, no
-- control or bidi characters). The operator reads it with the incident; it goes with the
-- incident (docs/retention.md).
ALTER TABLE incidents ADD COLUMN handled_at INTEGER;
ALTER TABLE incidents ADD COLUMN handled_by TEXT;
ALTER TABLE incidents ADD COLUMN handled_note TEXT CHECK (length(handled_note) <= 500);

-- The open problems of a customer, by tier (the dashboard's banner and /problems).
CREATE INDEX incidents_unhandled ON incidents (customer_id, severity_rank, last_at DESC)
  WHERE handled_at IS NULL;
-- The handled list, latest first.
CREATE INDEX incidents_handled ON incidents (customer_id, handled_at)
  WHERE handled_at IS NOT NULL;
