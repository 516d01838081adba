//! How much of a period an appliance was online, as 自社UTM同士を比べる shows it: the share
//! of the period's whole hours in which it sent at least one report (its heartbeat comes
//! every minute, so an hour without one means it was off or cut off). Only the hours it
//! could have reported count: from the hour it was registered, up to and including the
//! hour under way. A period with no such hour has no share.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// The hours of `[start, end)` (cut to `[registered, now)`) in which an appliance could
/// have reported.
pub fn expected_hours(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    registered: DateTime<Utc>,
    now: DateTime<Utc>,
) -> u64 {
    let hour = TimeDelta::hours(1);
    let floor = |t: DateTime<Utc>| t.duration_trunc(hour).unwrap_or(t);
    let from = floor(start.max(registered));
    let to = end.min(floor(now) + hour);
    if to <= from {
        return 0;
    }
    u64::try_from((to - from).num_hours()).unwrap_or(0)
}

/// The online share in whole percent (rounded, at most 100); `None` when no hour was
/// expected.
pub fn percent(reported_hours: u64, expected_hours: u64) -> Option<u8> {
    if expected_hours == 0 {
        return None;
    }
    let share = (reported_hours.min(expected_hours) * 100 + expected_hours / 2) / expected_hours;
    Some(u8::try_from(share).unwrap_or(100))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("a time")
    }

    #[track_caller]
    fn check(start: &str, end: &str, registered: &str, now: &str, expected: u64) {
        assert_eq!(
            expected_hours(at(start), at(end), at(registered), at(now)),
            expected
        );
    }

    #[test]
    fn a_past_day_has_twenty_four_hours() {
        check(
            "2026-11-30T15:00:00Z",
            "2026-12-01T15:00:00Z",
            "2026-01-01T00:00:00Z",
            "2026-12-03T00:00:00Z",
            24,
        );
    }

    #[test]
    fn today_counts_the_hours_gone_by_and_the_one_under_way() {
        check(
            "2026-12-01T15:00:00Z",
            "2026-12-02T15:00:00Z",
            "2026-01-01T00:00:00Z",
            "2026-12-02T01:30:00Z",
            11,
        );
    }

    #[test]
    fn an_appliance_registered_in_the_period_counts_from_that_hour() {
        check(
            "2026-11-30T15:00:00Z",
            "2026-12-01T15:00:00Z",
            "2026-12-01T09:20:00Z",
            "2026-12-03T00:00:00Z",
            6,
        );
    }

    #[test]
    fn nothing_is_expected_before_registration() {
        check(
            "2026-11-30T15:00:00Z",
            "2026-12-01T15:00:00Z",
            "2026-12-05T00:00:00Z",
            "2026-12-06T00:00:00Z",
            0,
        );
        assert_eq!(percent(0, 0), None);
    }

    #[test]
    fn the_share_is_rounded_and_at_most_all() {
        assert_eq!(percent(24, 24), Some(100));
        assert_eq!(percent(23, 24), Some(96));
        assert_eq!(percent(0, 24), Some(0));
        assert_eq!(
            percent(30, 24),
            Some(100),
            "the hour under way has a report"
        );
    }
}
