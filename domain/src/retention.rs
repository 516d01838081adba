//! How long stored data is kept. Raw threat rows, usage records, the daily rollups,
//! incidents (by their last activity, with their notifications and reviews), mails and
//! stale down states are kept for `days` (default 90, seed: at least three months of
//! history in the portal); the ids that make re-sent reports idempotent only as long as
//! the parser would accept the event again, plus a day. docs/retention.md has every table.

use chrono::{DateTime, TimeDelta, Utc};

use crate::ingest::day;
use crate::report::MAX_AGE;

pub const DEFAULT_DAYS: u32 = 90;

/// The moments before which each kind of row is deleted, as of `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cutoffs {
    /// Threat rows whose last event, and usage records whose period ended, before this.
    pub raw_before: DateTime<Utc>,
    /// Rollup rows of Asia/Tokyo days before this one (`YYYY-MM-DD`).
    pub day_before: String,
    /// Report and event ids received before this.
    pub ids_before: DateTime<Utc>,
}

/// `None` for `days == 0`: keeping nothing would delete what was just stored.
pub fn cutoffs(days: u32, now: DateTime<Utc>) -> Option<Cutoffs> {
    if days == 0 {
        return None;
    }
    let raw_before = now - TimeDelta::days(i64::from(days));
    Some(Cutoffs {
        day_before: day(raw_before),
        raw_before,
        ids_before: now - MAX_AGE - TimeDelta::days(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn ninety_days_back_from_now_in_tokyo_days() {
        let c = cutoffs(90, at("2026-11-25T10:00:00+09:00")).unwrap();
        assert_eq!(c.raw_before, at("2026-08-27T10:00:00+09:00"));
        assert_eq!(c.day_before, "2026-08-27");
    }

    #[test]
    fn ids_outlive_the_seven_day_window_by_a_day() {
        let c = cutoffs(90, at("2026-11-25T10:00:00+09:00")).unwrap();
        assert_eq!(c.ids_before, at("2026-11-17T10:00:00+09:00"));
    }

    #[test]
    fn zero_days_keeps_everything_rather_than_nothing() {
        assert_eq!(cutoffs(0, at("2026-11-25T10:00:00+09:00")), None);
    }
}
