-- A notification is found by its incident: the foreign key's cascade (and its check on
-- every change of an incident) probes this index instead of scanning the outbox.
CREATE INDEX notifications_by_incident ON notifications (incident_id);
