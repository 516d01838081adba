//! Times are UTC inside and shown to people in Japan Standard Time. Japan has no daylight
//! saving time, so Asia/Tokyo is always UTC+09:00 and a fixed offset is exact (no tz
//! database needed in the bundle).

use chrono::{DateTime, FixedOffset, NaiveTime, SecondsFormat, TimeDelta, Utc};

/// Asia/Tokyo as an offset: +09:00, all year.
pub fn tokyo() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset")
}

/// 00:00 in Tokyo of `day`.
pub fn midnight(day: chrono::NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN)
        .and_local_timezone(tokyo())
        .single()
        .expect("a fixed offset has exactly one local time")
        .to_utc()
}

/// The most recent `at` o'clock in Asia/Tokyo at or before `now` (today's, or yesterday's
/// when today's is still ahead).
pub fn latest(now: DateTime<Utc>, at: NaiveTime) -> DateTime<Utc> {
    let today = now
        .with_timezone(&tokyo())
        .date_naive()
        .and_time(at)
        .and_local_timezone(tokyo())
        .single()
        .expect("a fixed offset has exactly one local time")
        .to_utc();
    if today <= now {
        today
    } else {
        today - TimeDelta::days(1)
    }
}

/// `2026/11/25 19:00` — how a report time is shown in tables.
pub fn format_minute(t: DateTime<Utc>) -> String {
    t.with_timezone(&tokyo())
        .format("%Y/%m/%d %H:%M")
        .to_string()
}

/// `2026/11/25 19:00:05` — for logs people read, such as the audit log.
pub fn format_second(t: DateTime<Utc>) -> String {
    t.with_timezone(&tokyo())
        .format("%Y/%m/%d %H:%M:%S")
        .to_string()
}

/// `2026-11-25T19:00:00+09:00` — for `<time datetime=…>` and machine-readable output;
/// whole seconds, which is all any reader of these times needs.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.with_timezone(&tokyo())
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(utc: &str, shown: &str) {
        let t = DateTime::parse_from_rfc3339(utc)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(format_minute(t), shown);
    }

    #[test]
    fn audit_times_show_seconds_in_tokyo() {
        let t = DateTime::parse_from_rfc3339("2026-11-25T23:59:58Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(format_second(t), "2026/11/26 08:59:58");
    }

    #[test]
    fn a_utc_time_is_shown_nine_hours_later() {
        check("2026-11-25T10:00:00Z", "2026/11/25 19:00");
    }

    #[test]
    fn a_late_utc_evening_is_the_next_day_in_tokyo() {
        check("2026-12-31T15:30:59Z", "2027/01/01 00:30");
    }

    #[test]
    fn summer_uses_the_same_offset_because_japan_has_no_dst() {
        check("2026-07-01T00:00:00Z", "2026/07/01 09:00");
    }

    #[test]
    fn the_machine_readable_form_drops_fractions_of_a_second() {
        let t = DateTime::parse_from_rfc3339("2026-11-25T10:00:00.393Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rfc3339(t), "2026-11-25T19:00:00+09:00");
    }

    #[test]
    fn the_machine_readable_form_carries_the_offset() {
        let t = DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rfc3339(t), "2026-11-25T19:00:00+09:00");
    }
}
