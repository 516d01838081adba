-- Whether an incident is news (domain::severity::Notice, domain::noise): 'mail' is mailed;
-- 'mail_unless_mass' is mailed unless, when its mail is due, the same signature came from
-- many sources or went to many of the customer's hosts, after which it is 'mass'; 'record'
-- (protocol anomalies, policy, informational) is recorded and shown, never mailed. Only
-- incidents that may be mailed get a notification.
ALTER TABLE incidents ADD COLUMN notice TEXT NOT NULL DEFAULT 'mail'
  CHECK (notice IN ('mail', 'mail_unless_mass', 'record', 'mass'));
