-- A locked login id or address is written in the audit log once per lock, not once per
-- refused attempt (store::throttle::first_refusal): the end of the lock whose refusal is
-- already written.
ALTER TABLE signin_throttle ADD COLUMN noted_until INTEGER;
