-- 月次レポート (issue 14, domain::monthly): a closed month's report of one customer as it
-- was made (JSON of domain::monthly::Report), and the mail of its highlights. The row is
-- written once, in the batch that queues the mail, so a month is mailed once however
-- often the cron's tick repeats. A customer's data (the month's top threats and hosts):
-- kept RETENTION_DAYS from when it was made, and erased with the customer.
CREATE TABLE monthly_reports (
  customer_id TEXT NOT NULL,
  month       TEXT NOT NULL CHECK (length(month) = 7),
  body        TEXT NOT NULL,
  mail_id     TEXT,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (customer_id, month)
) STRICT, WITHOUT ROWID;
CREATE INDEX monthly_reports_by_age ON monthly_reports (customer_id, created_at);
