//! 月次レポート (seed §4.4 (3)): one month of one company — its status, detections by ★
//! and by function, per day, the top threats and internal hosts, each appliance's
//! detections and availability, the mails sent, and the comparison with the participating
//! companies. "Nothing found" is news too: a month with no detection still has its report.
//!
//! A report is made from the store's reads; once the month is over it is kept as it was
//! made (JSON, `monthly_reports`), so that it reads the same after the detailed rows have
//! gone with the retention, and its highlights are mailed once (`mail::monthly_report`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::peers::Band;
use crate::report::Function;
use crate::severity::Severity;

/// Threats and hosts listed at most.
pub const TOP: usize = 5;

/// A name with its count of detections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ranked {
    pub name: String,
    pub count: u64,
}

/// One appliance's month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplianceMonth {
    pub id: String,
    pub name: String,
    pub detections: u64,
    /// The share of the month's hours it reported in (`availability`).
    pub online_percent: Option<u8>,
    /// Times it was found down.
    pub outages: u64,
}

/// The mails the company was sent in the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Mails {
    pub alerts: u64,
    pub appliances: u64,
    pub investigations: u64,
    /// Not delivered (still retrying, or given up).
    pub undelivered: u64,
}

/// Where the company stood against the other participating companies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peers {
    pub own: u64,
    pub average: u64,
    pub band: Band,
}

/// One month of one company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// `2026-11`.
    pub month: String,
    /// The month was over when the report was made (else it is the month so far).
    pub closed: bool,
    /// ★★★ / ★★☆ / 調査中 incidents of the month not marked handled, and handled.
    pub problems_open: u64,
    pub problems_handled: u64,
    pub by_tier: Vec<(Severity, u64)>,
    pub by_function: Vec<(Function, u64)>,
    pub days: Vec<(NaiveDate, u64)>,
    /// Only in a closed month's report (they read every row of the month).
    pub top_threats: Vec<Ranked>,
    pub top_hosts: Vec<Ranked>,
    pub appliances: Vec<ApplianceMonth>,
    pub mails: Mails,
    /// `None`: too few companies to compare with (`peers::WITHHELD`).
    pub peers: Option<Peers>,
}

impl Report {
    pub fn detections(&self) -> u64 {
        self.by_tier.iter().map(|(_, n)| n).sum()
    }

    /// 「問題は見つかりませんでした」 unless an incident that needs the admin is still open.
    pub fn headline(&self) -> &'static str {
        if self.problems_open > 0 {
            "対応が必要な問題が残っています"
        } else if self.detections() == 0 {
            "この月の検知はありませんでした"
        } else {
            "問題は見つかりませんでした"
        }
    }

    /// One sentence under the headline.
    pub fn summary(&self) -> String {
        if self.problems_open > 0 {
            format!(
                "対応が必要な検知（★★★・★★☆・調査中）のうち{}件が、まだ「対応しました」になっていません。ポータルの「問題を確認」からご確認ください。",
                self.problems_open
            )
        } else if self.detections() == 0 {
            "UTM装置が検知した脅威はありませんでした。UTM装置が稼働していたかは、下の稼働状況でご確認ください。".to_owned()
        } else {
            format!(
                "対応が必要な問題は残っていません。検知した{}件の内訳は下のとおりです。",
                self.detections()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(open: u64, low: u64) -> Report {
        Report {
            month: "2026-11".into(),
            closed: true,
            problems_open: open,
            problems_handled: 0,
            by_tier: vec![(Severity::High, open), (Severity::Low, low)],
            by_function: Vec::new(),
            days: Vec::new(),
            top_threats: Vec::new(),
            top_hosts: Vec::new(),
            appliances: Vec::new(),
            mails: Mails::default(),
            peers: None,
        }
    }

    #[test]
    fn an_open_problem_is_the_headline() {
        assert_eq!(report(2, 5).headline(), "対応が必要な問題が残っています");
        assert!(report(2, 5).summary().contains("2件"));
    }

    #[test]
    fn a_month_without_detections_says_so() {
        assert_eq!(report(0, 0).headline(), "この月の検知はありませんでした");
    }

    #[test]
    fn blocked_detections_alone_are_no_problem() {
        assert_eq!(report(0, 7).headline(), "問題は見つかりませんでした");
    }

    #[test]
    fn a_report_reads_back_as_it_was_kept() {
        let r = report(1, 3);
        let kept = serde_json::to_string(&r).expect("writes");
        assert_eq!(serde_json::from_str::<Report>(&kept).expect("reads"), r);
    }
}
