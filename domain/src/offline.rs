//! An appliance reports at least once a report interval (60 s by default). One that has
//! been silent for longer than the offline threshold (default 5 minutes, five missed
//! reports) is オフライン; one that never reported is オフライン too. The portal's list
//! and its "オンラインのみ" filter both follow this rule.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// The default silence after which an appliance counts as offline.
pub const DEFAULT_THRESHOLD: TimeDelta = TimeDelta::minutes(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Online,
    Offline,
}

impl Status {
    /// The word the portal shows.
    pub fn label(self) -> &'static str {
        match self {
            Status::Online => "オンライン",
            Status::Offline => "オフライン",
        }
    }
}

/// Whether an appliance last seen at `last_seen` is online at `now`.
///
/// A report stamped slightly in the future (clock skew between edge nodes) counts as
/// online; silence of exactly the threshold still counts as online.
pub fn status(
    last_seen: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    threshold: TimeDelta,
) -> Status {
    match last_seen {
        Some(seen) if now - seen <= threshold => Status::Online,
        _ => Status::Offline,
    }
}

/// Appliances last seen before this moment (or never) are offline at `now`: the same rule
/// as [`status`], as a bound a query can compare with.
pub fn offline_before(now: DateTime<Utc>, threshold: TimeDelta) -> DateTime<Utc> {
    now - threshold
}

/// Which appliances a list shows: all of them, or only those that are online.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ListFilter {
    #[default]
    All,
    OnlineOnly,
}

impl ListFilter {
    pub fn shows(self, status: Status) -> bool {
        match self {
            ListFilter::All => true,
            ListFilter::OnlineOnly => status == Status::Online,
        }
    }
}

/// Since when an appliance has been in `status`: offline since its last report (`None`:
/// it never reported); online since it last came back from an outage, else since it was
/// enrolled.
pub fn since(
    status: Status,
    last_seen: Option<DateTime<Utc>>,
    last_back: Option<DateTime<Utc>>,
    enrolled: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    match status {
        Status::Offline => last_seen,
        Status::Online => last_back.or(enrolled),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[track_caller]
    fn check(last_seen: Option<&str>, now: &str, expected: Status) {
        assert_eq!(
            status(last_seen.map(at), at(now), DEFAULT_THRESHOLD),
            expected
        );
    }

    #[test]
    fn an_appliance_that_reported_a_minute_ago_is_online() {
        check(
            Some("2026-11-25T10:00:00Z"),
            "2026-11-25T10:01:00Z",
            Status::Online,
        );
    }

    #[test]
    fn silence_of_exactly_the_threshold_is_still_online() {
        check(
            Some("2026-11-25T10:00:00Z"),
            "2026-11-25T10:05:00Z",
            Status::Online,
        );
    }

    #[test]
    fn one_second_past_the_threshold_is_offline() {
        check(
            Some("2026-11-25T10:00:00Z"),
            "2026-11-25T10:05:01Z",
            Status::Offline,
        );
    }

    #[test]
    fn an_appliance_that_never_reported_is_offline() {
        check(None, "2026-11-25T10:00:00Z", Status::Offline);
    }

    #[test]
    fn a_report_from_slightly_in_the_future_counts_as_online() {
        check(
            Some("2026-11-25T10:00:30Z"),
            "2026-11-25T10:00:00Z",
            Status::Online,
        );
    }

    #[test]
    fn the_online_only_filter_hides_offline_appliances_and_all_shows_both() {
        assert!(ListFilter::OnlineOnly.shows(Status::Online));
        assert!(!ListFilter::OnlineOnly.shows(Status::Offline));
        assert!(ListFilter::All.shows(Status::Online));
        assert!(ListFilter::All.shows(Status::Offline));
    }

    #[test]
    fn the_bound_a_query_compares_with_agrees_with_the_status() {
        let now = at("2026-11-25T10:05:00Z");
        let bound = offline_before(now, DEFAULT_THRESHOLD);
        let just_before = bound - TimeDelta::milliseconds(1);
        assert_eq!(status(Some(bound), now, DEFAULT_THRESHOLD), Status::Online);
        assert_eq!(
            status(Some(just_before), now, DEFAULT_THRESHOLD),
            Status::Offline
        );
    }

    #[test]
    fn labels_are_japanese() {
        assert_eq!(Status::Online.label(), "オンライン");
        assert_eq!(Status::Offline.label(), "オフライン");
    }

    #[test]
    fn online_counts_from_the_last_recovery_else_the_enrollment_offline_from_the_last_report() {
        let at = |m: i64| Some(DateTime::from_timestamp(m * 60, 0).expect("a time"));
        assert_eq!(since(Status::Offline, at(50), at(40), at(1)), at(50));
        assert_eq!(since(Status::Offline, None, None, at(1)), None);
        assert_eq!(since(Status::Online, at(50), at(40), at(1)), at(40));
        assert_eq!(since(Status::Online, at(50), None, at(1)), at(1));
    }
}
