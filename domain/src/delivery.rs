//! When a mail that failed is tried again: 30 s after the first failure, doubling, at most
//! an hour apart, for as long as it takes. A mail is never dropped: it stays queued (and
//! visible in the customer's delivery log) until the mail API accepts it.

use chrono::TimeDelta;

/// The wait before the next attempt after `failures` failed attempts (1 = the first).
pub fn retry_delay(failures: u32) -> TimeDelta {
    let first = TimeDelta::seconds(30);
    let cap = TimeDelta::hours(1);
    let doublings = failures.saturating_sub(1).min(16);
    (first * 2i32.pow(doublings)).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_start_at_thirty_seconds_and_double() {
        let waits: Vec<i64> = (1..=5).map(|n| retry_delay(n).num_seconds()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480]);
    }

    #[test]
    fn retries_never_wait_more_than_an_hour_however_long_it_fails() {
        assert_eq!(retry_delay(8), TimeDelta::hours(1));
        assert_eq!(retry_delay(u32::MAX), TimeDelta::hours(1));
    }
}
