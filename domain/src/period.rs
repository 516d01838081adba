//! The period a portal page shows: whole Asia/Tokyo days `from`..=`to`, chosen as one of
//! the presets 直近7日 / 30日 / 90日 (ending today) or as `?from=YYYY-MM-DD&to=YYYY-MM-DD`.
//! A period must lie within what is kept: from the first day of the last `RETENTION_DAYS`
//! days (today counts as one) up to today. Anything else — a malformed date, `from` after
//! `to`, a day in the future or before the kept history — is refused with a message the
//! page shows as it is. A preset longer than the kept history is cut to it, so the
//! default view always works.
//!
//! The page reads UTC times: [`Period::start`] is `from` at 00:00 in Tokyo and
//! [`Period::end`] the midnight after `to`, exclusive.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::jst;

/// 直近7日 / 30日 / 90日.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Preset {
    #[default]
    Days7,
    Days30,
    Days90,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Days7, Preset::Days30, Preset::Days90];

    pub fn days(self) -> u32 {
        match self {
            Preset::Days7 => 7,
            Preset::Days30 => 30,
            Preset::Days90 => 90,
        }
    }

    /// The preset of a page's `days` query value (`7`, `30`, `90`).
    pub fn parse(days: &str) -> Option<Preset> {
        Preset::ALL
            .into_iter()
            .find(|p| p.days().to_string() == days.trim())
    }

    /// How the portal names it.
    pub fn label(self) -> &'static str {
        match self {
            Preset::Days7 => "直近7日",
            Preset::Days30 => "直近30日",
            Preset::Days90 => "直近90日",
        }
    }
}

/// Whole Tokyo days, `from` to `to` inclusive; always within the kept history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    from: NaiveDate,
    to: NaiveDate,
}

/// Why a requested period is refused; `Display` is the Japanese message the page shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("期間の{0}は YYYY-MM-DD の形式の日付で指定してください")]
    Malformed(&'static str),
    #[error("期間は直近7日・30日・90日のいずれかを選んでください")]
    UnknownPreset,
    #[error("期間は開始日と終了日の両方を指定してください")]
    Incomplete,
    #[error("期間の開始日が終了日より後になっています")]
    Reversed,
    #[error("期間の終了日が今日({today})より後になっています")]
    Future { today: NaiveDate },
    #[error("保存期間は{days}日間です。{earliest}以降の期間を指定してください")]
    BeforeKept { days: u32, earliest: NaiveDate },
}

/// The first day still kept when `days` days are kept and today is `today`: the earliest
/// a period may start.
pub fn first_kept(today: NaiveDate, days: u32) -> NaiveDate {
    today - TimeDelta::days(i64::from(days.max(1)) - 1)
}

impl Period {
    /// `preset` ending `today`, cut to the `kept_days` kept.
    pub fn preset(preset: Preset, today: NaiveDate, kept_days: u32) -> Period {
        let days = preset.days().min(kept_days.max(1));
        Period {
            from: first_kept(today, days),
            to: today,
        }
    }

    /// The period of a page's `from` and `to` query values; neither given is the default
    /// preset (直近7日).
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
        kept_days: u32,
    ) -> Result<Period, PeriodError> {
        let date = |s: &str, which| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .filter(|_| s.len() == 10)
                .ok_or(PeriodError::Malformed(which))
        };
        let (from, to) = match (from.map(str::trim), to.map(str::trim)) {
            (None | Some(""), None | Some("")) => {
                return Ok(Period::preset(Preset::default(), today, kept_days));
            }
            (Some(f), Some(t)) if !f.is_empty() && !t.is_empty() => {
                (date(f, "開始日")?, date(t, "終了日")?)
            }
            _ => return Err(PeriodError::Incomplete),
        };
        if from > to {
            return Err(PeriodError::Reversed);
        }
        if to > today {
            return Err(PeriodError::Future { today });
        }
        let first = first_kept(today, kept_days);
        if from < first {
            return Err(PeriodError::BeforeKept {
                days: kept_days.max(1),
                earliest: first,
            });
        }
        Ok(Period { from, to })
    }

    /// The period of a page's query: `from` and `to` when either is given, else the
    /// preset `days` (`7`, `30`, `90`), else the default preset.
    pub fn requested(
        days: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
        kept_days: u32,
    ) -> Result<Period, PeriodError> {
        let given = |v: Option<&str>| v.is_some_and(|v| !v.trim().is_empty());
        if given(from) || given(to) {
            return Period::parse(from, to, today, kept_days);
        }
        match days.map(str::trim).filter(|d| !d.is_empty()) {
            None => Ok(Period::preset(Preset::default(), today, kept_days)),
            Some(d) => Preset::parse(d)
                .map(|p| Period::preset(p, today, kept_days))
                .ok_or(PeriodError::UnknownPreset),
        }
    }

    /// The preset this period is, ending `today` with `kept_days` kept; `None` for any
    /// other range.
    pub fn preset_of(&self, today: NaiveDate, kept_days: u32) -> Option<Preset> {
        Preset::ALL
            .into_iter()
            .find(|p| Period::preset(*p, today, kept_days) == *self)
    }

    pub fn from(&self) -> NaiveDate {
        self.from
    }
    pub fn to(&self) -> NaiveDate {
        self.to
    }

    /// `from` as the rollups store days: `YYYY-MM-DD`.
    pub fn from_day(&self) -> String {
        self.from.format("%Y-%m-%d").to_string()
    }
    /// `to` as the rollups store days.
    pub fn to_day(&self) -> String {
        self.to.format("%Y-%m-%d").to_string()
    }

    /// `from` at 00:00 in Tokyo.
    pub fn start(&self) -> DateTime<Utc> {
        midnight(self.from)
    }

    /// The midnight in Tokyo after `to`: the first moment past the period.
    pub fn end(&self) -> DateTime<Utc> {
        midnight(self.to + TimeDelta::days(1))
    }

    /// The days of `month` up to `today`; `None` for a month that begins after today. A
    /// month may begin before the kept history: its report shows what is kept of it.
    pub fn month(month: crate::month::Month, today: NaiveDate) -> Option<Period> {
        let from = month.first_day();
        (from <= today).then(|| Period {
            from,
            to: month.last_day().min(today),
        })
    }

    /// Every day of the period, `from` first.
    pub fn each_day(&self) -> Vec<NaiveDate> {
        self.from
            .iter_days()
            .take_while(|d| *d <= self.to)
            .collect()
    }

    /// The number of days, `from` and `to` included.
    pub fn days(&self) -> u32 {
        u32::try_from((self.to - self.from).num_days() + 1).unwrap_or(u32::MAX)
    }

    /// `2026/11/25〜2026/12/01`, as the page shows it.
    pub fn label(&self) -> String {
        format!(
            "{}〜{}",
            self.from.format("%Y/%m/%d"),
            self.to.format("%Y/%m/%d")
        )
    }
}

/// Today's date in Tokyo at `now`: what the presets end with.
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&jst::tokyo()).date_naive()
}

use jst::midnight;

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    const TODAY: &str = "2026-12-01";

    #[track_caller]
    fn check(from: Option<&str>, to: Option<&str>, expected: Result<(&str, &str), PeriodError>) {
        let got = Period::parse(from, to, d(TODAY), 90).map(|p| (p.from_day(), p.to_day()));
        let expected = expected.map(|(f, t)| (f.to_owned(), t.to_owned()));
        assert_eq!(got, expected);
    }

    #[test]
    fn a_page_query_takes_dates_first_then_the_preset() {
        let today = d(TODAY);
        let got = |days, from, to| {
            Period::requested(days, from, to, today, 90).map(|p| (p.from_day(), p.days()))
        };
        assert_eq!(got(Some("30"), None, None), Ok(("2026-11-02".into(), 30)));
        assert_eq!(got(Some(" 90 "), None, None), Ok(("2026-09-03".into(), 90)));
        assert_eq!(got(None, None, None), Ok(("2026-11-25".into(), 7)));
        assert_eq!(
            got(Some(""), Some(""), Some("")),
            Ok(("2026-11-25".into(), 7))
        );
        assert_eq!(
            got(Some("30"), Some("2026-11-30"), Some(TODAY)),
            Ok(("2026-11-30".into(), 2))
        );
        assert_eq!(got(Some("14"), None, None), Err(PeriodError::UnknownPreset));
        assert_eq!(
            got(None, Some("2026-11-30"), None),
            Err(PeriodError::Incomplete)
        );
    }

    #[test]
    fn a_period_knows_which_preset_it_is() {
        let today = d(TODAY);
        let p30 = Period::preset(Preset::Days30, today, 90);
        assert_eq!(p30.preset_of(today, 90), Some(Preset::Days30));
        let other = Period::parse(Some("2026-11-02"), Some("2026-11-30"), today, 90).unwrap();
        assert_eq!(other.preset_of(today, 90), None);
        // Cut to 7 kept days, 30 and 90 are the same range as 7: the first preset wins.
        assert_eq!(
            Period::preset(Preset::Days90, today, 7).preset_of(today, 7),
            Some(Preset::Days7)
        );
    }

    #[test]
    fn no_dates_are_the_last_seven_days() {
        check(None, None, Ok(("2026-11-25", TODAY)));
        check(Some(""), Some(""), Ok(("2026-11-25", TODAY)));
    }

    #[test]
    fn a_range_within_the_kept_days_is_taken_as_it_is() {
        check(
            Some("2026-11-01"),
            Some("2026-11-30"),
            Ok(("2026-11-01", "2026-11-30")),
        );
        check(Some(TODAY), Some(TODAY), Ok((TODAY, TODAY)));
    }

    #[test]
    fn the_first_kept_day_is_ninety_days_back_counting_today() {
        check(Some("2026-09-03"), Some(TODAY), Ok(("2026-09-03", TODAY)));
        check(
            Some("2026-09-02"),
            Some(TODAY),
            Err(PeriodError::BeforeKept {
                days: 90,
                earliest: d("2026-09-03"),
            }),
        );
    }

    #[test]
    fn a_malformed_date_names_which_one() {
        check(
            Some("2026-11-1"),
            Some(TODAY),
            Err(PeriodError::Malformed("開始日")),
        );
        check(
            Some("2026-11-01"),
            Some("12/01"),
            Err(PeriodError::Malformed("終了日")),
        );
        check(
            Some("2026-02-30"),
            Some(TODAY),
            Err(PeriodError::Malformed("開始日")),
        );
        check(
            Some("+2026-11-01"),
            Some(TODAY),
            Err(PeriodError::Malformed("開始日")),
        );
    }

    #[test]
    fn one_date_alone_is_incomplete() {
        check(Some("2026-11-01"), None, Err(PeriodError::Incomplete));
        check(None, Some(TODAY), Err(PeriodError::Incomplete));
    }

    #[test]
    fn from_after_to_or_a_future_day_is_refused() {
        check(
            Some("2026-11-30"),
            Some("2026-11-01"),
            Err(PeriodError::Reversed),
        );
        check(
            Some("2026-11-30"),
            Some("2026-12-02"),
            Err(PeriodError::Future { today: d(TODAY) }),
        );
    }

    #[test]
    fn the_messages_are_japanese_and_say_what_to_do() {
        let e = Period::parse(Some("2026-01-01"), Some(TODAY), d(TODAY), 90).unwrap_err();
        assert_eq!(
            e.to_string(),
            "保存期間は90日間です。2026-09-03以降の期間を指定してください"
        );
        assert_eq!(
            PeriodError::Reversed.to_string(),
            "期間の開始日が終了日より後になっています"
        );
    }

    #[test]
    fn presets_end_today_and_are_cut_to_the_kept_days() {
        let today = d(TODAY);
        let span = |p: Preset, kept| {
            let p = Period::preset(p, today, kept);
            (p.from_day(), p.to_day(), p.days())
        };
        assert_eq!(
            span(Preset::Days7, 90),
            ("2026-11-25".into(), TODAY.into(), 7)
        );
        assert_eq!(
            span(Preset::Days30, 90),
            ("2026-11-02".into(), TODAY.into(), 30)
        );
        assert_eq!(
            span(Preset::Days90, 90),
            ("2026-09-03".into(), TODAY.into(), 90)
        );
        assert_eq!(
            span(Preset::Days90, 30),
            ("2026-11-02".into(), TODAY.into(), 30)
        );
        // A preset is always a period `parse` accepts back.
        for p in Preset::ALL {
            let period = Period::preset(p, today, 90);
            let back = Period::parse(Some(&period.from_day()), Some(&period.to_day()), today, 90);
            assert_eq!(back, Ok(period));
        }
    }

    #[test]
    fn a_period_is_read_as_tokyo_midnights_in_utc() {
        let p = Period::parse(Some("2026-11-30"), Some(TODAY), d(TODAY), 90).unwrap();
        assert_eq!(p.start().to_rfc3339(), "2026-11-29T15:00:00+00:00");
        assert_eq!(p.end().to_rfc3339(), "2026-12-01T15:00:00+00:00");
        assert_eq!(p.label(), "2026/11/30〜2026/12/01");
    }

    #[test]
    fn today_is_the_tokyo_date() {
        let now: DateTime<Utc> = "2026-11-30T15:00:00Z".parse().unwrap();
        assert_eq!(today(now), d(TODAY));
        let before: DateTime<Utc> = "2026-11-30T14:59:59Z".parse().unwrap();
        assert_eq!(today(before), d("2026-11-30"));
    }
}
