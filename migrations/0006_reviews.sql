-- Investigation results recorded by operator staff (seed §4.3 ※調査中※, §4.5): what was
-- found, the tier before and after (a change to ★★★ is a severity change with who, when
-- and why), and the report mail that told the customer. Times are integer ms UTC.
CREATE TABLE incident_reviews (
  id          INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  finding     TEXT NOT NULL,
  old_rank    INTEGER NOT NULL,
  new_rank    INTEGER NOT NULL,
  reviewer    TEXT NOT NULL,
  mail_id     TEXT NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX incident_reviews_by_incident ON incident_reviews (incident_id);
