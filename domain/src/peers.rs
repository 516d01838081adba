//! 参加企業平均 (seed §4.4 (3)): a company's detections beside the average of the other
//! participating companies, and where it stands among all of them. The privacy rules:
//!
//! - a company takes part on a day when at least one of its appliances reported that day;
//!   a day's figures are the count of those companies, the sum of their detections and
//!   the nearest-rank cut points of their daily totals ([`Cuts`]), kept by the cron;
//! - the average excludes the viewing company (its own detections, as they were counted
//!   into the day, are taken out of the sum, and it out of the count);
//! - it is withheld for the whole period unless every day of it has at least
//!   `min_companies` (`PEER_MIN_COMPANIES`) other companies ([`Withheld`]);
//! - it is rounded (a tenth per day, whole detections per period) and never comes with a
//!   minimum or maximum: what a page shows depends only on the others' count and sum per
//!   day, so no single company's value can be told apart (the properties below);
//! - the band says where the viewer's period total falls against the sums of the daily
//!   cut points of all participants (the viewer included: a sum of daily quantiles, an
//!   O(days) stand-in for the quantile of period totals that says the same for a band).

use chrono::NaiveDate;

use crate::report::Function;

/// `PEER_MIN_COMPANIES` when it is not set.
pub const DEFAULT_MIN_COMPANIES: u32 = 10;

/// 「参加企業数が少ないため、平均値はまだ表示できません」
pub const WITHHELD: &str = "参加企業数が少ないため、平均値はまだ表示できません";

/// The nearest-rank cut points of the participants' daily totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cuts {
    pub p25: u64,
    pub p50: u64,
    pub p75: u64,
    pub p90: u64,
}

impl Cuts {
    /// The cut points of `totals` (one per participating company, any order); all zero
    /// when nobody took part.
    pub fn of(totals: &[u64]) -> Cuts {
        let mut sorted = totals.to_vec();
        sorted.sort_unstable();
        let rank = |p: usize| -> u64 {
            if sorted.is_empty() {
                return 0;
            }
            // Nearest rank: the smallest value with at least p% of the values at or below it.
            let r = (p * sorted.len()).div_ceil(100).max(1);
            sorted[r - 1]
        };
        Cuts {
            p25: rank(25),
            p50: rank(50),
            p75: rank(75),
            p90: rank(90),
        }
    }

    fn add(self, other: Cuts) -> Cuts {
        Cuts {
            p25: self.p25 + other.p25,
            p50: self.p50 + other.p50,
            p75: self.p75 + other.p75,
            p90: self.p90 + other.p90,
        }
    }
}

/// One day over every participating company (the viewer included), per function or in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerDay {
    pub day: NaiveDate,
    pub companies: u32,
    pub detections: u64,
    /// Of the daily totals in all functions; unused for one function.
    pub cuts: Cuts,
}

/// The viewer's own part of a day: whether it was counted in, and with how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Own {
    pub took_part: bool,
    pub detections: u64,
}

/// An average, in tenths of a detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Tenths(pub u64);

impl Tenths {
    fn of(x: f64) -> Tenths {
        Tenths((x * 10.0).round().max(0.0) as u64)
    }

    /// As a page writes it: `12.3`, `0.5`, `4`.
    pub fn text(self) -> String {
        if self.0.is_multiple_of(10) {
            (self.0 / 10).to_string()
        } else {
            format!("{}.{}", self.0 / 10, self.0 % 10)
        }
    }

    /// As a chart plots it.
    pub fn value(self) -> f64 {
        self.0 as f64 / 10.0
    }
}

/// Where the viewer stands among all participants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Band {
    Top10,
    Top25,
    Typical,
    Fewer,
}

impl Band {
    /// Above the 90th cut point is the top 10 %; above the 75th the top 25 %; at or below
    /// the 25th (and below the median, so that a day when most have none is not "fewer")
    /// is fewer than most; the rest is typical.
    pub fn of(own: u64, cuts: Cuts) -> Band {
        if own > cuts.p90 {
            Band::Top10
        } else if own > cuts.p75 {
            Band::Top25
        } else if own <= cuts.p25 && own < cuts.p50 {
            Band::Fewer
        } else {
            Band::Typical
        }
    }

    /// The headline: 「上位 10% に入る多さです」.
    pub fn label(self) -> &'static str {
        match self {
            Band::Top10 => "上位 10% に入る多さです",
            Band::Top25 => "上位 25% に入る多さです",
            Band::Typical => "参加企業の中で平均的な件数です",
            Band::Fewer => "参加企業の中では少ない方です",
        }
    }

    /// What it means and what to do, in one sentence.
    pub fn advice(self) -> &'static str {
        match self {
            Band::Top10 => {
                "ほかの企業より検知がかなり多い状態です。「問題を確認」に未対応のものがないか確かめ、心当たりのない通信が続く場合は相談窓口へご相談ください。"
            }
            Band::Top25 => {
                "ほかの企業より検知がやや多めです。検知履歴で同じ端末や同じ脅威がくり返し出ていないか確かめてください。"
            }
            Band::Typical => {
                "特に目立つ状態ではありません。これまでどおり、重要アラートのメールが届いたら「問題を確認」から対応してください。"
            }
            Band::Fewer => {
                "検知は少なめです。少ないことは安全の証明ではないため、UTM装置がオンラインで動いているかを稼働状況で確かめてください。"
            }
        }
    }
}

/// Why no average is shown: fewer than the minimum of other companies on some day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Withheld;

/// One day of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRow {
    pub day: NaiveDate,
    pub own: u64,
    pub average: Tenths,
}

/// One function over the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionRow {
    pub function: Function,
    pub own: u64,
    pub average: u64,
}

/// The comparison for a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub days: Vec<DayRow>,
    pub own: u64,
    /// The others' average over the period, in whole detections.
    pub average: u64,
    pub by_function: Vec<FunctionRow>,
    pub band: Band,
    /// The fewest other companies on any day of the period (shown as 「約N社」 rounded down
    /// to ten).
    pub companies: u32,
}

/// The other companies of one day: how many, and the mean of their detections.
fn others(day: &PeerDay, own: Own) -> (u32, f64) {
    let (n, sum) = if own.took_part {
        (
            day.companies.saturating_sub(1),
            day.detections.saturating_sub(own.detections),
        )
    } else {
        (day.companies, day.detections)
    };
    let mean = if n == 0 { 0.0 } else { sum as f64 / n as f64 };
    (n, mean)
}

/// The figures of the inputs for `day`, or none.
fn on<T: Copy>(rows: &[(NaiveDate, T)], day: NaiveDate) -> Option<T> {
    rows.iter().find(|(d, _)| *d == day).map(|(_, t)| *t)
}

/// What the viewer sees for the days `days` of a period: `all` is each day over all
/// functions, `functions` each day per function (only the functions with detections
/// need a row), `own` and `own_functions` the viewer's part of them. Every day of the
/// period needs its figures in `all` with at least `min_companies` others, or the whole
/// comparison is [`Withheld`].
pub fn compare(
    days: &[NaiveDate],
    all: &[PeerDay],
    functions: &[(Function, PeerDay)],
    own: &[(NaiveDate, Own)],
    own_functions: &[(Function, NaiveDate, u64)],
    min_companies: u32,
) -> Result<Comparison, Withheld> {
    let min_companies = min_companies.max(1);
    let mut rows = Vec::with_capacity(days.len());
    let mut fewest = u32::MAX;
    let mut average = 0.0;
    let mut cuts = Cuts::default();
    let mut own_total = 0;
    let own_rows: Vec<(NaiveDate, Own)> = own.to_vec();
    for &day in days {
        let Some(peer) = all.iter().find(|p| p.day == day) else {
            return Err(Withheld);
        };
        let mine = on(&own_rows, day).unwrap_or_default();
        let (n, mean) = others(peer, mine);
        if n < min_companies {
            return Err(Withheld);
        }
        fewest = fewest.min(n);
        average += mean;
        cuts = cuts.add(peer.cuts);
        own_total += mine.detections;
        rows.push(DayRow {
            day,
            own: mine.detections,
            average: Tenths::of(mean),
        });
    }
    if rows.is_empty() {
        return Err(Withheld);
    }
    let by_function = Function::ALL
        .iter()
        .map(|&f| {
            let mut mean_sum = 0.0;
            let mut own_f = 0;
            for &day in days {
                let mine = on(&own_rows, day).unwrap_or_default();
                let own_day = own_functions
                    .iter()
                    .find(|(g, d, _)| *g == f && *d == day)
                    .map_or(0, |(_, _, n)| *n);
                own_f += own_day;
                let peer = functions
                    .iter()
                    .find(|(g, p)| *g == f && p.day == day)
                    .map(|(_, p)| p.clone());
                let companies = all.iter().find(|p| p.day == day).map_or(0, |p| p.companies);
                let peer = peer.unwrap_or(PeerDay {
                    day,
                    companies,
                    detections: 0,
                    cuts: Cuts::default(),
                });
                // The day's cohort is the one of all functions: a company without this
                // function's detections still counts, with none.
                let peer = PeerDay { companies, ..peer };
                let (_, mean) = others(
                    &peer,
                    Own {
                        took_part: mine.took_part,
                        detections: own_day,
                    },
                );
                mean_sum += mean;
            }
            FunctionRow {
                function: f,
                own: own_f,
                average: mean_sum.round() as u64,
            }
        })
        .filter(|r| r.own > 0 || r.average > 0)
        .collect();
    Ok(Comparison {
        days: rows,
        own: own_total,
        average: average.round() as u64,
        by_function,
        band: Band::of(own_total, cuts),
        companies: fewest,
    })
}

/// 「10社以上」: the number of other companies as a page may say it, rounded down to ten
/// so that a company joining or leaving is not told by the count.
pub fn companies_text(n: u32) -> String {
    format!("{}社以上", (n / 10 * 10).max(n.min(10)))
}

#[cfg(test)]
mod tests;
