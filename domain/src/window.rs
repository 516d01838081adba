//! A fixed-window rate: at most `max` uses of one key in each `per` (windows start at
//! multiples of `per` since the epoch, so every isolate agrees on them). Every use is
//! counted before it is judged, so a right and a wrong enrollment code get the same 429
//! once the window is full, and parallel requests cannot slip past the count.
//!
//! Used for enrollment attempts per device id and per address, the operator API's
//! requests per token, and the tighter limit on issuing accounts (which mails any address).
//! The counts live in the store (`store::rates`); this module only decides.

use chrono::{DateTime, TimeDelta, Utc};

/// `max` uses per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub max: u32,
    pub per: TimeDelta,
}

impl Window {
    /// A window from configuration: at least one use, at least one second long.
    pub fn new(max: i64, per: TimeDelta) -> Window {
        Window {
            max: max.clamp(1, i64::from(u32::MAX)) as u32,
            per: per.max(TimeDelta::seconds(1)),
        }
    }

    /// When the window holding `now` started.
    pub fn start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let per = self.per.num_milliseconds();
        let at = now.timestamp_millis();
        DateTime::from_timestamp_millis(at - at.rem_euclid(per)).unwrap_or(now)
    }

    /// Whether the use that made the window's count `hits` is allowed; `Err` carries the
    /// seconds until the window ends (for `Retry-After`, at least 1).
    pub fn admit(&self, hits: u32, now: DateTime<Utc>) -> Result<(), u32> {
        if hits <= self.max {
            return Ok(());
        }
        let left = self.start(now) + self.per - now;
        let seconds = (left.num_milliseconds() + 999) / 1000;
        Err(seconds.clamp(1, i64::from(u32::MAX)) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn windows_start_on_multiples_of_their_length() {
        let hour = Window::new(10, TimeDelta::hours(1));
        assert_eq!(
            hour.start(at("2026-12-02T05:42:10Z")),
            at("2026-12-02T05:00:00Z")
        );
        let minute = Window::new(10, TimeDelta::minutes(1));
        assert_eq!(
            minute.start(at("2026-12-02T05:42:10.500Z")),
            at("2026-12-02T05:42:00Z")
        );
    }

    #[test]
    fn the_use_past_max_waits_for_the_next_window() {
        let w = Window::new(3, TimeDelta::minutes(1));
        let now = at("2026-12-02T05:42:10.200Z");
        assert_eq!(w.admit(1, now), Ok(()));
        assert_eq!(w.admit(3, now), Ok(()));
        // 49.8 s left in the minute: Retry-After rounds up.
        assert_eq!(w.admit(4, now), Err(50));
        assert_eq!(w.admit(400, at("2026-12-02T05:42:59.999Z")), Err(1));
    }

    #[test]
    fn a_configured_window_never_turns_the_limit_off() {
        let w = Window::new(0, TimeDelta::zero());
        assert_eq!(w.max, 1);
        assert_eq!(w.per, TimeDelta::seconds(1));
        assert!(w.admit(2, at("2026-12-02T05:42:10Z")).is_err());
    }
}
