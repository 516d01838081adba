//! A calendar month in Asia/Tokyo, as the monthly report (月次レポート) names it: `YYYY-MM`
//! in URLs, 「2026年11月」 on the page. A month's report is mailed once, from
//! [`MAIL_AT`] on the 1st of the month after it (Tokyo time; the cron runs in UTC).

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};

use crate::jst::midnight;
use crate::period::today;

/// The time of day from which last month's report is mailed on the 1st.
pub const MAIL_AT: NaiveTime = NaiveTime::from_hms_opt(9, 0, 0).expect("09:00 is a time");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

/// Why a `YYYY-MM` was refused; `Display` is the page's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("月は YYYY-MM の形式で指定してください")]
pub struct MonthError;

impl Month {
    /// `2026-11`.
    pub fn parse(s: &str) -> Result<Month, MonthError> {
        let (y, m) = s.trim().split_once('-').ok_or(MonthError)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(MonthError);
        }
        let year: i32 = y.parse().map_err(|_| MonthError)?;
        let month: u32 = m.parse().map_err(|_| MonthError)?;
        NaiveDate::from_ymd_opt(year, month, 1).ok_or(MonthError)?;
        Ok(Month { year, month })
    }

    /// The month of `day`.
    pub fn of(day: NaiveDate) -> Month {
        Month {
            year: day.year(),
            month: day.month(),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a valid month")
    }

    pub fn next(self) -> Month {
        match self.month {
            12 => Month {
                year: self.year + 1,
                month: 1,
            },
            m => Month {
                year: self.year,
                month: m + 1,
            },
        }
    }

    pub fn previous(self) -> Month {
        Month::of(self.first_day() - TimeDelta::days(1))
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day() - TimeDelta::days(1)
    }

    /// 00:00 in Tokyo on the 1st.
    pub fn start(self) -> DateTime<Utc> {
        midnight(self.first_day())
    }

    /// 00:00 in Tokyo on the 1st of the next month: the first moment past it.
    pub fn end(self) -> DateTime<Utc> {
        self.next().start()
    }

    /// `2026-11`.
    pub fn text(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// 「2026年11月」.
    pub fn label(self) -> String {
        format!("{}年{}月", self.year, self.month)
    }

    /// Whether the month is over at `now`.
    pub fn closed(self, now: DateTime<Utc>) -> bool {
        now >= self.end()
    }
}

/// The month whose report is due to be mailed at `now`: last month, once it is
/// [`MAIL_AT`] on the 1st or later in Tokyo.
pub fn due(now: DateTime<Utc>) -> Month {
    let this = Month::of(today(now));
    let from = this.start() + (MAIL_AT - NaiveTime::MIN);
    if now >= from {
        this.previous()
    } else {
        this.previous().previous()
    }
}

/// The months that may have a report, newest first, as of `today` with `kept_days` of
/// history: every month that overlaps the kept history up to the current one, and the
/// months of the reports kept (`kept`), which outlive the rows they were made from.
pub fn listed(kept: &[Month], today: NaiveDate, kept_days: u32) -> Vec<Month> {
    let mut months: Vec<Month> = kept.to_vec();
    let mut m = Month::of(crate::period::first_kept(today, kept_days));
    while m <= Month::of(today) {
        months.push(m);
        m = m.next();
    }
    months.sort();
    months.dedup();
    months.reverse();
    months
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("a time")
    }

    fn month(s: &str) -> Month {
        Month::parse(s).expect("a month")
    }

    #[test]
    fn a_month_is_written_yyyy_mm_and_nothing_else() {
        assert_eq!(month("2026-11").label(), "2026年11月");
        assert_eq!(month(" 2027-01 ").text(), "2027-01");
        for bad in [
            "2026-13", "2026-1", "26-11", "2026/11", "", "2026-00", "abcd-ef",
        ] {
            assert_eq!(Month::parse(bad), Err(MonthError), "{bad}");
        }
    }

    #[test]
    fn months_end_where_the_next_begins_in_tokyo() {
        let nov = month("2026-11");
        assert_eq!(nov.last_day().to_string(), "2026-11-30");
        assert_eq!(nov.start(), at("2026-10-31T15:00:00Z"));
        assert_eq!(nov.end(), at("2026-11-30T15:00:00Z"));
        assert_eq!(month("2026-12").next(), month("2027-01"));
        assert_eq!(month("2027-01").previous(), month("2026-12"));
        assert_eq!(month("2028-02").last_day().to_string(), "2028-02-29");
    }

    #[test]
    fn last_months_report_is_due_from_nine_on_the_first_in_tokyo() {
        // 2026-12-01 08:59 in Tokyo is 2026-11-30 23:59 UTC.
        assert_eq!(due(at("2026-11-30T23:59:00Z")), month("2026-10"));
        assert_eq!(due(at("2026-12-01T00:00:00Z")), month("2026-11"));
        assert_eq!(due(at("2026-12-31T14:59:00Z")), month("2026-11"));
        assert_eq!(due(at("2027-01-01T00:00:00Z")), month("2026-12"));
    }

    #[test]
    fn the_months_listed_are_those_of_the_kept_history_and_of_the_kept_reports() {
        let today: NaiveDate = "2026-12-03".parse().expect("a date");
        let listed = |kept: &[Month]| -> Vec<String> {
            listed(kept, today, 90).iter().map(|m| m.text()).collect()
        };
        // 90 days back from 12-03 is 09-05: September is partly kept.
        assert_eq!(listed(&[]), ["2026-12", "2026-11", "2026-10", "2026-09"]);
        assert_eq!(
            listed(&[month("2026-08"), month("2026-11")]),
            ["2026-12", "2026-11", "2026-10", "2026-09", "2026-08"]
        );
    }

    #[test]
    fn a_month_is_closed_from_the_midnight_after_its_last_day() {
        assert!(!month("2026-11").closed(at("2026-11-30T14:59:59Z")));
        assert!(month("2026-11").closed(at("2026-11-30T15:00:00Z")));
    }
}
