-- What a customer may change about its contract (seed §7.6): the contact person, the
-- address and the phone number beside the name, and the history of every change (who,
-- when, the field, old and new value), shown in the console. Empty text: not given.
ALTER TABLE customers ADD COLUMN contact_name TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN contact_department TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN contact_title TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN contact_email TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN address TEXT NOT NULL DEFAULT '';

CREATE TABLE customer_changes (
  id          INTEGER PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  at          INTEGER NOT NULL,
  field       TEXT NOT NULL,
  old_value   TEXT NOT NULL,
  new_value   TEXT NOT NULL,
  -- Who: a console user's login id, or an API token's id.
  by_login    TEXT,
  by_token    TEXT
) STRICT;

CREATE INDEX customer_changes_by_customer ON customer_changes (customer_id, at);
