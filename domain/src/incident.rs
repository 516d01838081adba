//! An incident is one threat (signature) at one host of one appliance while its events
//! keep coming: an open incident whose last event is older than the incident window is
//! closed, and the next such event opens a new one. A report's new incidents enter the
//! outbox with the due time of their tier (`outbox::due_at`).

use chrono::{DateTime, Utc};

use crate::config::Alerts;
use crate::outbox::due_at;
use crate::severity::Severity;

/// The moments a report stored at `now` is grouped and queued by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Open incidents whose last event is before this are closed.
    pub quiet_before: DateTime<Utc>,
    /// When a new ★★★ notification is due.
    pub due_urgent: DateTime<Utc>,
    /// When a new notification of any other tier is due.
    pub due_later: DateTime<Utc>,
}

/// The timing of a report stored at `now` under `alerts`.
pub fn timing(alerts: &Alerts, now: DateTime<Utc>) -> Timing {
    Timing {
        quiet_before: now - alerts.incident_window,
        due_urgent: due_at(Severity::High, now, alerts.batch_window),
        due_later: due_at(Severity::Medium, now, alerts.batch_window),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("a time")
    }

    #[track_caller]
    fn check(window_min: i64, batch_s: i64, now: &str, expected: (&str, &str, &str)) {
        let alerts = Alerts {
            batch_window: TimeDelta::seconds(batch_s),
            incident_window: TimeDelta::minutes(window_min),
        };
        let t = timing(&alerts, at(now));
        assert_eq!(
            (t.quiet_before, t.due_urgent, t.due_later),
            (at(expected.0), at(expected.1), at(expected.2))
        );
    }

    #[test]
    fn incidents_quiet_for_the_window_close_and_three_stars_are_due_at_once() {
        check(
            60,
            300,
            "2026-12-01T10:00:00Z",
            (
                "2026-12-01T09:00:00Z",
                "2026-12-01T10:00:00Z",
                "2026-12-01T10:05:00Z",
            ),
        );
    }

    #[test]
    fn a_zero_batch_window_makes_every_tier_due_at_once() {
        check(
            30,
            0,
            "2026-12-01T10:00:00Z",
            (
                "2026-12-01T09:30:00Z",
                "2026-12-01T10:00:00Z",
                "2026-12-01T10:00:00Z",
            ),
        );
    }
}
