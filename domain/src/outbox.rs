//! When alert notifications are mailed, and which go together (seed §4.3: several alerts
//! are sent in one mail whose subject carries the highest ★).
//!
//! A notification is due at once for ★★★ and after the batch window for the other tiers.
//! When any notification of a customer is due, one mail takes every notification of that
//! customer still pending — due or not — so a ★★★ mail also carries the lower alerts that
//! were waiting, and no customer gets two mails where one would do. The Worker claims the
//! notifications for the mail in one atomic statement, so each is mailed exactly once.
//!
//! A customer's mails stay few: after [`MAILS_PER_DAY`] alert mails in one mail day
//! (08:00 to 08:00 Asia/Tokyo), alerts below ★★★ wait for the next mail day's morning and
//! go out together then. ★★★ is never held.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};

use crate::jst;
use crate::severity::Severity;

/// Alert mails per customer and mail day after which only ★★★ goes out at once.
pub const MAILS_PER_DAY: u32 = 4;

/// When a mail day begins, Asia/Tokyo: held alerts arrive with the morning, not at night.
pub const MAIL_DAY_STARTS: NaiveTime = match NaiveTime::from_hms_opt(8, 0, 0) {
    Some(t) => t,
    None => panic!("08:00 is a time"),
};

/// The start of the mail day holding `now`: the latest 08:00 Asia/Tokyo at or before it.
pub fn mail_day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    jst::latest(now, MAIL_DAY_STARTS)
}

/// The default batch window for ★★☆, ★☆☆ and 調査中.
pub const DEFAULT_BATCH_WINDOW: TimeDelta = TimeDelta::minutes(5);

/// When a notification raised at `now` is due.
pub fn due_at(severity: Severity, now: DateTime<Utc>, window: TimeDelta) -> DateTime<Utc> {
    match severity {
        Severity::High => now,
        _ => now + window,
    }
}

/// A customer's notifications waiting for a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub customer: String,
    /// The earliest due time among them.
    pub due_at: DateTime<Utc>,
    /// The most urgent tier among them.
    pub most_urgent: Severity,
    /// Alert mails the customer was sent since [`mail_day_start`].
    pub mailed_today: u32,
}

impl Pending {
    /// When these notifications may go out: their due time, or the next mail day's
    /// morning once the day's mails are used up (never later for ★★★).
    pub fn may_go_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        if self.most_urgent == Severity::High || self.mailed_today < MAILS_PER_DAY {
            self.due_at
        } else {
            self.due_at.max(mail_day_start(now) + TimeDelta::days(1))
        }
    }
}

/// The customers to mail at `now`: those with at least one notification that may go out,
/// each once, the longest waiting first (a tick that cannot flush them all leaves the
/// newest).
pub fn due_customers(pending: &[Pending], now: DateTime<Utc>) -> Vec<String> {
    let mut oldest: BTreeMap<&str, DateTime<Utc>> = BTreeMap::new();
    for p in pending.iter().filter(|p| p.may_go_at(now) <= now) {
        let due = oldest.entry(p.customer.as_str()).or_insert(p.due_at);
        *due = (*due).min(p.due_at);
    }
    let mut customers: Vec<(DateTime<Utc>, &str)> =
        oldest.into_iter().map(|(c, d)| (d, c)).collect();
    customers.sort();
    customers.into_iter().map(|(_, c)| c.to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn three_stars_are_due_at_once_and_the_rest_after_the_window() {
        let w = DEFAULT_BATCH_WINDOW;
        assert_eq!(due_at(Severity::High, t0(), w), t0());
        for s in [Severity::Medium, Severity::Low, Severity::Investigating] {
            assert_eq!(due_at(s, t0(), w), t0() + w);
        }
    }

    fn pending(c: &str, secs: i64) -> Pending {
        Pending {
            customer: c.into(),
            due_at: t0() + TimeDelta::seconds(secs),
            most_urgent: Severity::Low,
            mailed_today: 0,
        }
    }

    fn jst(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn a_mail_day_runs_from_eight_to_eight_in_tokyo() {
        let start = jst("2026-11-25T08:00:00+09:00");
        assert_eq!(mail_day_start(start), start);
        assert_eq!(mail_day_start(jst("2026-11-25T23:59:00+09:00")), start);
        assert_eq!(mail_day_start(jst("2026-11-26T07:59:59+09:00")), start);
        assert_eq!(
            mail_day_start(jst("2026-11-25T07:59:59+09:00")),
            start - TimeDelta::days(1)
        );
    }

    #[test]
    fn after_a_handful_of_mails_lower_tiers_wait_for_the_next_morning() {
        let now = jst("2026-11-25T15:00:00+09:00");
        let p = |mailed_today, most_urgent| Pending {
            customer: "a".into(),
            due_at: now - TimeDelta::minutes(1),
            most_urgent,
            mailed_today,
        };
        assert_eq!(
            p(3, Severity::Low).may_go_at(now),
            now - TimeDelta::minutes(1)
        );
        let morning = jst("2026-11-26T08:00:00+09:00");
        for s in [Severity::Medium, Severity::Low, Severity::Investigating] {
            assert_eq!(p(MAILS_PER_DAY, s).may_go_at(now), morning);
        }
        assert_eq!(
            p(40, Severity::High).may_go_at(now),
            now - TimeDelta::minutes(1),
            "★★★ is never held"
        );
        assert!(due_customers(&[p(MAILS_PER_DAY, Severity::Low)], now).is_empty());
        // In the morning a new mail day has begun: nothing mailed yet in it.
        assert_eq!(due_customers(&[p(0, Severity::Low)], morning), ["a"]);
    }

    #[test]
    fn a_customer_with_anything_due_is_mailed_once() {
        let p = pending;
        let pending = [p("a", 0), p("a", -5), p("b", 60), p("c", -1)];
        assert_eq!(due_customers(&pending, t0()), ["a", "c"]);
        let waiting_longer = [p("a", -1), p("c", -9)];
        assert_eq!(due_customers(&waiting_longer, t0()), ["c", "a"]);
    }

    /// One simulated notification: customer, tier, minute it is raised.
    fn arrivals() -> impl Strategy<Value = Vec<(u8, Severity, i64)>> {
        let severity = prop_oneof![
            Just(Severity::High),
            Just(Severity::Medium),
            Just(Severity::Low),
            Just(Severity::Investigating)
        ];
        proptest::collection::vec((0u8..5, severity, 0i64..60), 0..60)
    }

    proptest! {
        /// Raised notifications and a cron tick every minute, with the flush taking all of
        /// a due customer's pending notifications: every notification ends up in exactly
        /// one mail, ★★★ in the tick it was raised, the others within the window. (That the
        /// subject shows the most urgent tier is `mail`'s property.)
        #[test]
        fn batching_never_loses_or_duplicates_and_keeps_its_promises(events in arrivals()) {
            let window = DEFAULT_BATCH_WINDOW;
            let mut pending: Vec<(usize, Pending, Severity)> = Vec::new();
            let mut mailed: Vec<(usize, i64)> = Vec::new();
            for minute in 0..80i64 {
                let now = t0() + TimeDelta::minutes(minute);
                for (i, (c, s, at)) in events.iter().enumerate() {
                    if *at == minute {
                        let p = Pending { due_at: due_at(*s, now, window), most_urgent: *s, ..self::pending(&format!("c{c}"), 0) };
                        pending.push((i, p, *s));
                    }
                }
                let only: Vec<Pending> = pending.iter().map(|(_, p, _)| p.clone()).collect();
                for customer in due_customers(&only, now) {
                    let (batch, rest): (Vec<_>, Vec<_>) =
                        pending.into_iter().partition(|(_, p, _)| p.customer == customer);
                    pending = rest;
                    prop_assert!(!batch.is_empty());
                    mailed.extend(batch.iter().map(|(i, _, _)| (*i, minute)));
                }
            }
            prop_assert!(pending.is_empty(), "nothing left behind");
            let mut ids: Vec<usize> = mailed.iter().map(|(i, _)| *i).collect();
            ids.sort_unstable();
            prop_assert_eq!(ids, (0..events.len()).collect::<Vec<_>>(), "each exactly once");
            for (i, minute) in mailed {
                let (_, s, at) = events[i];
                let delay = minute - at;
                match s {
                    Severity::High => prop_assert_eq!(delay, 0),
                    _ => prop_assert!((0..=5).contains(&delay)),
                }
            }
        }
    }
}
