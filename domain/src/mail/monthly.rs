//! The monthly report's mail (月次レポート, seed §4.4 (3)): on the 1st, the highlights of
//! last month — the status, detections by ★, what is still open, each appliance's
//! availability, the standing against the participating companies — and the link to the
//! printable report in the portal.

use super::{Block, FIELD_MAX, Mail, SUBJECT_NAME_MAX, footer, link, opening, render, shown, text};
use crate::month::Month;
use crate::monthly::Report;

/// The mail of `report` (a closed month of `company`).
pub fn monthly_report(company: &str, month: Month, report: &Report, portal: &str) -> Mail {
    let subject = format!(
        "【見守りサービス】{}の月次レポート（{}）",
        month.label(),
        shown(company, SUBJECT_NAME_MAX)
    );
    let intro = vec![text(format!(
        "{}の見守りサービスの月次レポートができましたので、お知らせします。",
        month.label()
    ))];
    let mut blocks = opening(company, intro);
    blocks.push(Block::Para(vec![
        text(format!("【{}】", report.headline())),
        text(report.summary()),
    ]));
    let tiers = report
        .by_tier
        .iter()
        .map(|(t, n)| format!("{} {n}件", t.stars()))
        .collect::<Vec<_>>()
        .join("　");
    let mut rows = vec![
        (
            "検知件数",
            text(format!("{}件（{tiers}）", report.detections())),
        ),
        (
            "対応が必要な問題",
            text(match report.problems_open {
                0 => "残っていません".to_owned(),
                n => format!("{n}件が未対応です"),
            }),
        ),
    ];
    for a in &report.appliances {
        let online = a
            .online_percent
            .map_or("記録なし".to_owned(), |p| format!("稼働率 {p}%"));
        let outages = match a.outages {
            0 => String::new(),
            n => format!("、停止 {n}回"),
        };
        rows.push((
            "UTM装置",
            text(format!("{}：{online}{outages}", shown(&a.name, FIELD_MAX))),
        ));
    }
    rows.push((
        "参加企業平均との比較",
        text(match &report.peers {
            Some(p) => format!(
                "{}（自社 {}件、参加企業平均 {}件）",
                p.band.label(),
                p.own,
                p.average
            ),
            None => crate::peers::WITHHELD.to_owned(),
        }),
    ));
    blocks.push(Block::Table { title: None, rows });
    blocks.push(Block::Para(vec![
        text("レポートの全体（上位の脅威と端末、1日ごとの件数など）は、ポータルでご覧いただけます。印刷にも対応しています。"),
        link(format!(
            "{}/reports/{}",
            portal.trim_end_matches('/'),
            month.text()
        )),
    ]));
    blocks.push(footer(portal));
    render(subject, &blocks)
}
