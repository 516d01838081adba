//! The per-device report rate: a token bucket. An appliance may send `burst` reports at
//! once and `per_second` reports every second after that, which leaves room for one that
//! empties its spool after an outage (api-v1 asks for at least 10 reports/s sustained)
//! and stops a runaway one from filling the database.
//!
//! The bucket's state lives with the device row; this module only decides.

use chrono::{DateTime, Utc};

/// How fast one device may send reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Reports per second, sustained.
    pub per_second: f64,
    /// Reports that may arrive at once after a quiet spell.
    pub burst: f64,
}

impl Limit {
    /// 20 reports/s sustained, 100 at once: twice what a spool drain needs.
    pub const DEFAULT: Limit = Limit {
        per_second: 20.0,
        burst: 100.0,
    };

    /// A limit from configuration; `None` when either number is not a positive finite
    /// number (a typo must not switch the limit off).
    pub fn new(per_second: f64, burst: f64) -> Option<Limit> {
        let ok = |x: f64| x.is_finite() && x > 0.0;
        (ok(per_second) && ok(burst) && burst >= 1.0).then_some(Limit { per_second, burst })
    }
}

/// The bucket as stored: tokens left at a time. A device never seen has a full bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub tokens: f64,
    pub at: DateTime<Utc>,
}

/// Takes one token for a report arriving at `now`: the new bucket to store, or the whole
/// seconds to wait (`Retry-After`, at least 1) when the bucket is empty.
pub fn take(limit: Limit, stored: Option<Bucket>, now: DateTime<Utc>) -> Result<Bucket, u32> {
    let tokens = match stored {
        None => limit.burst,
        Some(b) => {
            // A clock that went backwards refills nothing rather than draining the bucket.
            let elapsed = (now - b.at).num_milliseconds().max(0) as f64 / 1000.0;
            (b.tokens + elapsed * limit.per_second).min(limit.burst)
        }
    };
    if tokens >= 1.0 {
        Ok(Bucket {
            tokens: tokens - 1.0,
            at: now,
        })
    } else {
        let wait = (1.0 - tokens) / limit.per_second;
        Err((wait.ceil() as u32).max(1))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use proptest::prelude::*;

    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn limit(per_second: f64, burst: f64) -> Limit {
        Limit::new(per_second, burst).unwrap()
    }

    #[test]
    fn a_device_never_seen_starts_with_a_full_bucket() {
        let b = take(limit(1.0, 5.0), None, t0()).unwrap();
        assert_eq!(b.tokens, 4.0);
    }

    #[test]
    fn the_burst_is_allowed_at_once_and_the_next_report_waits() {
        let l = limit(2.0, 3.0);
        let mut state = None;
        for _ in 0..3 {
            state = Some(take(l, state, t0()).unwrap());
        }
        assert_eq!(take(l, state, t0()), Err(1));
    }

    #[test]
    fn a_slow_rate_asks_to_wait_long_enough_for_one_token() {
        let l = limit(0.1, 1.0);
        let state = take(l, None, t0()).ok();
        assert_eq!(take(l, state, t0()), Err(10));
    }

    #[test]
    fn tokens_refill_with_time_up_to_the_burst() {
        let l = limit(10.0, 5.0);
        let empty = Bucket {
            tokens: 0.0,
            at: t0(),
        };
        let later = take(l, Some(empty), t0() + TimeDelta::milliseconds(250)).unwrap();
        assert!((later.tokens - 1.5).abs() < 1e-9);
        let much_later = take(l, Some(empty), t0() + TimeDelta::hours(1)).unwrap();
        assert_eq!(much_later.tokens, 4.0);
    }

    #[test]
    fn a_clock_going_backwards_refills_nothing() {
        let l = limit(10.0, 5.0);
        let b = Bucket {
            tokens: 0.5,
            at: t0(),
        };
        assert_eq!(take(l, Some(b), t0() - TimeDelta::seconds(30)), Err(1));
    }

    #[test]
    fn the_default_sustains_a_spool_drain_of_ten_reports_a_second() {
        let l = Limit::DEFAULT;
        let mut state = None;
        // One minute of 10 reports/s, evenly spaced, after the burst is used up.
        for _ in 0..l.burst as usize {
            state = Some(take(l, state, t0()).unwrap());
        }
        for i in 1..=600 {
            let at = t0() + TimeDelta::milliseconds(100 * i);
            state = Some(take(l, state, at).expect("10/s is within the default"));
        }
    }

    #[test]
    fn nonsense_limits_are_refused() {
        assert_eq!(Limit::new(0.0, 10.0), None);
        assert_eq!(Limit::new(10.0, f64::NAN), None);
        assert_eq!(Limit::new(-1.0, 10.0), None);
        assert_eq!(Limit::new(10.0, 0.5), None);
    }

    proptest! {
        #[test]
        fn over_any_span_no_more_than_burst_plus_rate_times_span_get_through(
            gaps in proptest::collection::vec(0u32..500, 1..300),
        ) {
            let l = limit(5.0, 10.0);
            let (mut state, mut at, mut passed) = (None, t0(), 0u32);
            for g in &gaps {
                at += TimeDelta::milliseconds(i64::from(*g));
                if let Ok(b) = take(l, state, at) {
                    state = Some(b);
                    passed += 1;
                }
            }
            let span = (at - t0()).num_milliseconds() as f64 / 1000.0;
            prop_assert!(f64::from(passed) <= l.burst + span * l.per_second + 1e-6);
        }
    }
}
