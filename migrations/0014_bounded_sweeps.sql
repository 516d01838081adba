-- A flush reads a customer's most urgent pending notifications first and only a bounded
-- number of them (issue 12, item 4): walk them in that order instead of sorting them all.
CREATE INDEX notifications_pending_by_rank ON notifications (customer_id, rank, due_at, id)
  WHERE mail_id IS NULL;
