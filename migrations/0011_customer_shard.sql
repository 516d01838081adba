-- The directory of where each customer's data lives (store::directory): the index of the
-- D1 database that holds its devices, events, incidents and mails. 0 is the main database,
-- which also holds identity (accounts, sessions, tokens) and the directory itself.
ALTER TABLE customers ADD COLUMN shard INTEGER NOT NULL DEFAULT 0 CHECK (shard >= 0);
