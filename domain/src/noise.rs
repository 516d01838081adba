//! Untargeted mass activity is not news. An alert whose rule says
//! [`Notice::MailUnlessMass`] (scans, blocked attacks) is left out of the mail when, over
//! the last [`LOOKBACK`], the customer's appliances saw the same signature come from at
//! least [`MANY`] sources or go to at least [`MANY`] of the customer's hosts: the
//! background of scanners and worms that reaches every address on the internet and says
//! nothing about this customer. Such an alert stays recorded (and shown in the portal) as
//! [`Told::Mass`]; alerts of a [`Notice::Record`] rule never reach the outbox at all.
//!
//! The judgement is made when the mail is due, not when the first event arrives: by then
//! the batch window has let the rest of a scanning wave arrive.

use chrono::TimeDelta;

use crate::severity::Notice;

/// How far back the spread of a signature is counted.
pub const LOOKBACK: TimeDelta = TimeDelta::hours(24);

/// This many distinct sources, or distinct hosts of the customer, make activity "mass".
pub const MANY: u32 = 3;

/// A flush judges at most this many of a customer's pending notifications, the most
/// urgent first (each judgement counts rows over the [`LOOKBACK`]); the rest go into the
/// same mail unjudged, counted among its 「ほか N 件」, so a backlog of 100,000 costs a
/// flush no more than a handful.
pub const JUDGED_AT_MOST: u32 = 200;

/// How widely one signature was seen at one customer over the [`LOOKBACK`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Spread {
    /// Distinct addresses it came from.
    pub sources: u32,
    /// Distinct hosts of the customer it concerned.
    pub hosts: u32,
}

impl Spread {
    pub fn is_mass(self) -> bool {
        self.sources >= MANY || self.hosts >= MANY
    }
}

/// What becomes of an alert that is due to be mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    Mailed,
    /// Left out as untargeted mass activity; kept and shown.
    Mass,
}

/// A notification waiting for a mail, with what is needed to judge it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub id: i64,
    pub notice: Notice,
    pub spread: Spread,
}

/// The notifications a flush mails, and those it leaves out as mass activity.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sorted {
    pub mailed: Vec<i64>,
    pub mass: Vec<i64>,
}

/// Sorts due notifications into those mailed and those left out.
pub fn sort(due: &[Due]) -> Sorted {
    let mut sorted = Sorted::default();
    for d in due {
        match tell(d.notice, d.spread) {
            Told::Mailed => sorted.mailed.push(d.id),
            Told::Mass => sorted.mass.push(d.id),
        }
    }
    sorted
}

/// Whether a due alert of `notice`, whose signature has spread as `spread`, is mailed.
pub fn tell(notice: Notice, spread: Spread) -> Told {
    match notice {
        Notice::MailUnlessMass if spread.is_mass() => Told::Mass,
        _ => Told::Mailed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(notice: Notice, sources: u32, hosts: u32, told: Told) {
        assert_eq!(tell(notice, Spread { sources, hosts }), told);
    }

    #[test]
    fn a_scan_from_one_or_two_sources_at_one_host_is_mailed() {
        check(Notice::MailUnlessMass, 1, 1, Told::Mailed);
        check(Notice::MailUnlessMass, 2, 2, Told::Mailed);
    }

    #[test]
    fn a_scan_from_many_sources_or_against_many_hosts_is_mass() {
        check(Notice::MailUnlessMass, 3, 1, Told::Mass);
        check(Notice::MailUnlessMass, 1, 3, Told::Mass);
        check(Notice::MailUnlessMass, 40, 12, Told::Mass);
    }

    #[test]
    fn only_rules_that_allow_it_are_judged_by_spread() {
        check(Notice::Mail, 40, 12, Told::Mailed);
    }

    #[test]
    fn a_flush_mails_the_targeted_and_leaves_out_the_mass() {
        let due = |id, notice, sources| Due {
            id,
            notice,
            spread: Spread { sources, hosts: 1 },
        };
        let sorted = sort(&[
            due(1, Notice::MailUnlessMass, 1),
            due(2, Notice::MailUnlessMass, 5),
            due(3, Notice::Mail, 5),
        ]);
        assert_eq!(
            sorted,
            Sorted {
                mailed: vec![1, 3],
                mass: vec![2]
            }
        );
    }
}
