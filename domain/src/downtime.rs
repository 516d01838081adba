//! When to mail about an appliance that went silent (seed §4.3 (2)): a first notice when
//! it is found offline, a daily re-notice at a fixed time (default 09:00 Asia/Tokyo) while
//! it stays down, and a recovery notice when it reports again.
//!
//! Better than "you may get two mails": the daily re-notice is skipped when the previous
//! notice went out within [`Policy::quiet_before_daily`] of the daily time (default 6 h),
//! so an appliance that fails at 07:00 gets one mail that morning, not two.
//!
//! Everything here is a pure function of (state, last seen, now); the sweep stores the
//! returned state and sends the returned notice.

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::jst;
use crate::offline::{DEFAULT_THRESHOLD, Status, status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Silence after which an appliance is offline.
    pub threshold: TimeDelta,
    /// The daily check, Asia/Tokyo wall-clock time.
    pub daily_at: NaiveTime,
    /// No daily re-notice when the previous notice is younger than this at the daily time.
    pub quiet_before_daily: TimeDelta,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            threshold: DEFAULT_THRESHOLD,
            daily_at: NaiveTime::from_hms_opt(9, 0, 0).expect("09:00 is a time"),
            quiet_before_daily: TimeDelta::hours(6),
        }
    }
}

/// What is remembered about an appliance that is (or was just) down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Down {
    /// When it was last heard of before going silent (`None`: never).
    pub last_seen: Option<DateTime<Utc>>,
    /// When the first notice went out.
    pub first_notice_at: DateTime<Utc>,
    /// When the latest notice (first or daily) went out.
    pub last_notice_at: DateTime<Utc>,
    /// The latest daily check that was dealt with (mailed or deliberately skipped).
    pub daily_done: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Notice {
    /// Found offline: the first mail.
    WentDown,
    /// Still offline at the daily check.
    StillDown,
    /// Reporting again after a down notice.
    Recovered,
}

/// The outcome of one check: the notice to send, if any, and the state to keep
/// (`None`: nothing to remember, the appliance is up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub notice: Option<Notice>,
    pub state: Option<Down>,
}

impl Decision {
    /// Whether there is anything to store or send, given the state kept `before`.
    pub fn changes(&self, before: Option<Down>) -> bool {
        self.notice.is_some() || self.state != before
    }
}

/// The most recent daily check time at or before `now`.
pub fn latest_daily(now: DateTime<Utc>, daily_at: NaiveTime) -> DateTime<Utc> {
    jst::latest(now, daily_at)
}

/// Which appliances a check at one moment would change, as bounds a query compares with:
/// exactly those for which [`decide`] stores or sends something, so a sweep can read
/// only them, a bounded page at a time, and each page it handles leaves the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// Last seen before this (or never): offline (`offline::offline_before`).
    pub offline_before: DateTime<Utc>,
    /// The latest daily check; a down appliance whose `daily_done` is earlier is due.
    pub daily: DateTime<Utc>,
}

impl Due {
    pub fn at(policy: &Policy, now: DateTime<Utc>) -> Due {
        Due {
            offline_before: crate::offline::offline_before(now, policy.threshold),
            daily: latest_daily(now, policy.daily_at),
        }
    }

    /// Whether an appliance in `state`, last seen at `last_seen`, is due: the rule the
    /// sweep's query (`store::downtime::due`) states in SQL.
    pub fn includes(&self, state: Option<Down>, last_seen: Option<DateTime<Utc>>) -> bool {
        let offline = last_seen.is_none_or(|seen| seen < self.offline_before);
        match state {
            None => offline && last_seen.is_some(),
            Some(_) if !offline => true,
            Some(down) => down.daily_done.is_none_or(|done| done < self.daily),
        }
    }
}

/// Decides for one appliance that has reported at least once (one never installed is not
/// "down": `last_seen == None` and no state gives no notice).
pub fn decide(
    policy: &Policy,
    state: Option<Down>,
    last_seen: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Decision {
    let online = status(last_seen, now, policy.threshold) == Status::Online;
    match (state, online) {
        (None, true) => Decision {
            notice: None,
            state: None,
        },
        (Some(_), true) => Decision {
            notice: Some(Notice::Recovered),
            state: None,
        },
        (None, false) if last_seen.is_none() => Decision {
            notice: None,
            state: None,
        },
        (None, false) => Decision {
            notice: Some(Notice::WentDown),
            state: Some(Down {
                last_seen,
                first_notice_at: now,
                last_notice_at: now,
                // A check that passed before the first notice is not owed a second mail.
                daily_done: Some(latest_daily(now, policy.daily_at)),
            }),
        },
        (Some(down), false) => {
            let daily = latest_daily(now, policy.daily_at);
            if down.daily_done.is_some_and(|done| done >= daily) {
                return Decision {
                    notice: None,
                    state: Some(down),
                };
            }
            let recent = daily - down.last_notice_at < policy.quiet_before_daily;
            let notice = (!recent).then_some(Notice::StillDown);
            Decision {
                notice,
                state: Some(Down {
                    last_notice_at: if recent { down.last_notice_at } else { now },
                    daily_done: Some(daily),
                    ..down
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    /// Runs the check every minute from `from` to `to` for an appliance last seen at
    /// `seen` (and reporting again from `back`, if given); returns the notices and when.
    fn run(seen: &str, from: &str, to: &str, back: Option<&str>) -> Vec<(Notice, String)> {
        let policy = Policy::default();
        let (mut state, mut out) = (None, Vec::new());
        let mut now = at(from);
        while now <= at(to) {
            let last_seen = match back {
                Some(b) if now >= at(b) => Some(now),
                _ => Some(at(seen)),
            };
            let d = decide(&policy, state, last_seen, now);
            if let Some(n) = d.notice {
                out.push((n, jst::format_minute(now)));
            }
            state = d.state;
            now += TimeDelta::minutes(1);
        }
        out
    }

    #[test]
    fn the_first_notice_comes_when_the_silence_passes_the_threshold() {
        let n = run(
            "2026-11-25T14:00:00+09:00",
            "2026-11-25T14:00:00+09:00",
            "2026-11-25T15:00:00+09:00",
            None,
        );
        assert_eq!(n, vec![(Notice::WentDown, "2026/11/25 14:06".into())]);
    }

    #[test]
    fn while_it_stays_down_the_daily_check_at_nine_mails_again_each_day() {
        let n = run(
            "2026-11-25T14:00:00+09:00",
            "2026-11-25T14:00:00+09:00",
            "2026-11-27T12:00:00+09:00",
            None,
        );
        assert_eq!(
            n,
            vec![
                (Notice::WentDown, "2026/11/25 14:06".into()),
                (Notice::StillDown, "2026/11/26 09:00".into()),
                (Notice::StillDown, "2026/11/27 09:00".into()),
            ]
        );
    }

    #[test]
    fn a_failure_early_in_the_morning_gets_one_mail_not_two() {
        let n = run(
            "2026-11-26T06:30:00+09:00",
            "2026-11-26T06:30:00+09:00",
            "2026-11-27T10:00:00+09:00",
            None,
        );
        assert_eq!(
            n,
            vec![
                (Notice::WentDown, "2026/11/26 06:36".into()),
                (Notice::StillDown, "2026/11/27 09:00".into()),
            ]
        );
    }

    #[test]
    fn recovery_is_mailed_once_when_it_reports_again() {
        let n = run(
            "2026-11-25T14:00:00+09:00",
            "2026-11-25T14:00:00+09:00",
            "2026-11-26T12:00:00+09:00",
            Some("2026-11-26T10:15:00+09:00"),
        );
        assert_eq!(
            n,
            vec![
                (Notice::WentDown, "2026/11/25 14:06".into()),
                (Notice::StillDown, "2026/11/26 09:00".into()),
                (Notice::Recovered, "2026/11/26 10:15".into()),
            ]
        );
    }

    #[test]
    fn a_missed_cron_tick_at_nine_is_made_up_at_the_next_one() {
        let policy = Policy::default();
        let down = decide(
            &policy,
            None,
            Some(at("2026-11-25T14:00:00+09:00")),
            at("2026-11-25T14:10:00+09:00"),
        );
        let later = decide(
            &policy,
            down.state,
            Some(at("2026-11-25T14:00:00+09:00")),
            at("2026-11-26T09:07:00+09:00"),
        );
        assert_eq!(later.notice, Some(Notice::StillDown));
    }

    #[test]
    fn an_appliance_that_never_reported_is_not_reported_down() {
        let d = decide(
            &Policy::default(),
            None,
            None,
            at("2026-11-25T14:00:00+09:00"),
        );
        assert_eq!(
            d,
            Decision {
                notice: None,
                state: None
            }
        );
    }

    #[test]
    fn the_daily_check_time_is_nine_in_tokyo() {
        assert_eq!(
            latest_daily(at("2026-11-26T08:59:00+09:00"), Policy::default().daily_at),
            at("2026-11-25T09:00:00+09:00")
        );
        assert_eq!(
            latest_daily(at("2026-11-26T09:00:00+09:00"), Policy::default().daily_at),
            at("2026-11-26T09:00:00+09:00")
        );
    }

    proptest! {
        #[test]
        fn notices_alternate_sensibly_and_never_repeat_within_a_day(
            outages in proptest::collection::vec((0i64..5000, 1i64..4000), 1..6),
        ) {
            // Up and down periods in minutes; checked every minute.
            let policy = Policy::default();
            let start = at("2026-11-25T00:00:00+09:00");
            let mut spans = Vec::new();
            let mut t = start;
            for (up, down) in &outages {
                t += TimeDelta::minutes(*up);
                spans.push((t, t + TimeDelta::minutes(*down)));
                t += TimeDelta::minutes(*down);
            }
            let end = t + TimeDelta::minutes(30);
            let (mut state, mut now, mut last_seen) = (None, start, start);
            let mut notices: Vec<(Notice, DateTime<Utc>)> = Vec::new();
            while now <= end {
                if !spans.iter().any(|(a, b)| now >= *a && now < *b) {
                    last_seen = now;
                }
                let d = decide(&policy, state, Some(last_seen), now);
                if let Some(n) = d.notice { notices.push((n, now)); }
                state = d.state;
                now += TimeDelta::minutes(1);
            }
            for w in notices.windows(2) {
                match (w[0].0, w[1].0) {
                    (Notice::Recovered, Notice::Recovered) => prop_assert!(false, "two recoveries in a row"),
                    (Notice::Recovered, Notice::StillDown) => prop_assert!(false, "still down after recovery without a new outage"),
                    (Notice::WentDown | Notice::StillDown, Notice::WentDown) => prop_assert!(false, "down twice without recovery"),
                    (Notice::WentDown | Notice::StillDown, Notice::StillDown) => {
                        prop_assert!(w[1].1 - w[0].1 >= TimeDelta::hours(6), "re-notice too soon");
                    }
                    _ => {}
                }
            }
        }
    }

    proptest! {
        /// The sweep reads only the due appliances: that must be exactly those a check
        /// would change, or some would be missed (or read again forever).
        #[test]
        fn the_due_appliances_are_exactly_those_a_check_changes(
            seen in proptest::option::of(0i64..4000),
            down in proptest::option::of((proptest::option::of(0i64..4000), 0i64..4000, 0i64..4000, proptest::option::of(0i64..4000))),
            now in 0i64..4000,
        ) {
            let policy = Policy::default();
            let t0 = at("2026-11-25T00:00:00+09:00");
            let m = |x: i64| t0 + TimeDelta::minutes(x);
            let state = down.map(|(last, first, latest, daily)| Down {
                last_seen: last.map(m),
                first_notice_at: m(first),
                last_notice_at: m(latest),
                daily_done: daily.map(m),
            });
            let now = m(now);
            let last_seen = seen.map(m);
            prop_assert_eq!(
                Due::at(&policy, now).includes(state, last_seen),
                decide(&policy, state, last_seen, now).changes(state)
            );
        }
    }

    #[test]
    fn a_check_that_keeps_the_state_and_sends_nothing_changes_nothing() {
        let down = Down {
            last_seen: None,
            first_notice_at: at("2026-11-25T10:00:00Z"),
            last_notice_at: at("2026-11-25T10:00:00Z"),
            daily_done: None,
        };
        let quiet = Decision {
            notice: None,
            state: Some(down),
        };
        assert!(!quiet.changes(Some(down)));
        assert!(quiet.changes(None));
        let recovered = Decision {
            notice: Some(Notice::Recovered),
            state: None,
        };
        assert!(recovered.changes(Some(down)));
        assert!(
            !Decision {
                notice: None,
                state: None
            }
            .changes(None)
        );
    }
}
