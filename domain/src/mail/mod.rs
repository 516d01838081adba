//! The texts of every mail the service sends (seed §4.3, §4.5): security alerts, the
//! report on an alert that was ※調査中※, and the notices about an appliance that stopped
//! or came back. They are written for an administrator who is not a security expert:
//! what happened, how urgent it is, and what to do, in polite Japanese.
//!
//! This module writes the alert and investigation mails; `appliance` the appliance-down
//! and recovery notices, `account` the temporary credentials. Each mail is a list of
//! blocks rendered twice, as plain text and as HTML (`layout`); whatever an appliance or a
//! person wrote is cleaned and cut first (`untrusted`). The only links are to the portal.

use chrono::{DateTime, Utc};

use crate::customer::MAX_ALERT_RECIPIENTS;
use crate::jst;
use crate::report::{Action, Direction};
use crate::severity::Severity;

mod account;
mod appliance;
mod layout;
mod monthly;
mod untrusted;

pub use self::account::temp_credentials;
pub use self::appliance::appliance_notice;
pub use self::monthly::monthly_report;

pub use self::layout::escape;
use self::layout::{Block, Line, link, render, text};
pub use self::untrusted::defang;
use self::untrusted::{shown, shown_lines};

/// A mail ready to send: the subject (one line, plain text) and two renderings of the
/// same body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// One incident as a mail lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertLine {
    /// For the portal link: `{portal}/incidents/{incident_id}`, which leads to its latest detection.
    pub incident_id: String,
    pub severity: Severity,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Events in the incident.
    pub count: u32,
    /// The appliance's name, e.g. `utm1`.
    pub appliance: String,
    /// The internal host (IP or MAC), when known.
    pub host: Option<String>,
    /// The threat as the appliance named it (untrusted).
    pub threat: String,
    /// What the appliance did.
    pub action: Action,
    pub direction: Direction,
    /// Untrusted.
    pub url: Option<String>,
    /// Untrusted.
    pub file: Option<String>,
    /// Why this rating, in Japanese, from the rule table.
    pub reason: String,
}

/// An alert mail lists at most this many incidents, the most urgent first; the others of
/// the same batch are only counted (「ほか N 件」) and shown in the portal. However many
/// incidents one window queued, the mail (and the work of writing it) stays this small.
pub const LISTED_AT_MOST: usize = 50;

/// One mail for one batch of incidents of one customer: `lines` (at most
/// [`LISTED_AT_MOST`] of them are listed) and `more` incidents of the batch that were not
/// read. The subject carries the most urgent tier of the batch (seed §4.3: 調査中 ranks
/// below ★☆☆) and the count of the whole batch; the body lists the incidents most urgent
/// first, then by time, and says how many more there are, with the portal's link.
///
/// The caller sends nothing for an empty batch; given one anyway, this returns a mail
/// without a tier and without incidents rather than failing.
pub fn alert_batch(company: &str, lines: &[AlertLine], more: usize, portal: &str) -> Mail {
    let mut sorted: Vec<&AlertLine> = lines.iter().collect();
    sorted.sort_by(|a, b| {
        (a.severity, a.first_seen, &a.incident_id).cmp(&(b.severity, b.first_seen, &b.incident_id))
    });
    let more = more + sorted.len().saturating_sub(LISTED_AT_MOST);
    sorted.truncate(LISTED_AT_MOST);
    let total = sorted.len() + more;
    let most = Severity::most_urgent(lines.iter().map(|l| l.severity));
    let tier = match most {
        Some(Severity::Investigating) => "※調査中※ ".to_owned(),
        Some(s) => format!("重要度：{} ", s.stars()),
        None => String::new(),
    };
    let count = match total {
        0 | 1 => String::new(),
        n => format!(" {n}件"),
    };
    let subject = format!(
        "【見守りサービス】{tier}セキュリティアラート{count}（{}）",
        shown(company, SUBJECT_NAME_MAX)
    );

    let mut intro = vec![text(match total {
        1 => "お客様のネットワークで、セキュリティ上の脅威を検知しましたので、お知らせします。"
            .to_owned(),
        n => format!(
            "お客様のネットワークで、セキュリティ上の脅威を{n}件検知しましたので、お知らせします。"
        ),
    })];
    if most == Some(Severity::High) {
        intro.push(text(
            "重要度★★★のアラートがあります。下記の「お願いしたいこと」をご確認のうえ、至急ご対応ください。",
        ));
    }
    if lines.iter().any(|l| l.severity == Severity::Investigating) {
        intro.push(text(
            "「※調査中※」のアラートは、担当者が調査しています。調査が終わりしだい、結果をこのメールと同じ宛先にお送りします。",
        ));
    }

    let mut tiers: Vec<Severity> = lines.iter().map(|l| l.severity).collect();
    tiers.sort();
    tiers.dedup();
    let mut blocks = opening(company, intro);
    if !tiers.is_empty() {
        blocks.push(Block::Section {
            heading: "重要度の意味",
            lines: Vec::new(),
            bullets: tiers
                .iter()
                .map(|s| text(format!("{}：{}", tier_label(*s), s.meaning())))
                .collect(),
        });
    }
    for (i, line) in sorted.iter().enumerate() {
        let title = match sorted.len() {
            1 => format!("重要度：{}", tier_label(line.severity)),
            _ => format!("{}件目　重要度：{}", i + 1, tier_label(line.severity)),
        };
        let mut rows = incident_rows(line);
        rows.push(("判定理由", text(shown(&line.reason, FIELD_MAX))));
        let todo = match line.severity {
            Severity::Investigating => "今後について",
            _ => "お願いしたいこと",
        };
        rows.push((todo, text(line.severity.guidance())));
        rows.push(("詳細", link(alert_link(portal, &line.incident_id))));
        blocks.push(Block::Table {
            title: Some((title, line.severity)),
            rows,
        });
    }
    if more > 0 {
        blocks.push(Block::Section {
            heading: "ほかのアラート",
            lines: vec![
                text(format!(
                    "このメールには重要度の高い順に{}件を載せています。ほか{more}件のアラートは、ポータルでご確認ください。",
                    sorted.len()
                )),
                link(portal.trim_end_matches('/').to_owned()),
            ],
            bullets: Vec::new(),
        });
    }
    if most == Some(Severity::High) {
        blocks.push(insurance(
            "重要度★★★のアラートを受け取ったお客様は、本サービスに付帯するサイバー保険で、駆け付け対応の費用の補償を受けられる場合があります。",
        ));
    }
    blocks.push(footer(portal));
    render(subject, &blocks)
}

/// The report on one incident that was ※調査中※: the finding, and the tier it was given
/// (`None`: no tier, nothing beyond what the finding asks). A report that raises it to
/// ★★★ says so in the subject, since that is what gives the right to the insurance
/// (seed §4.5).
pub fn investigation_result(
    company: &str,
    line: &AlertLine,
    finding: &str,
    new_severity: Option<Severity>,
    portal: &str,
) -> Mail {
    // "Still being investigated" is not a result.
    let rated = new_severity.filter(|s| *s != Severity::Investigating);
    let tier = rated.map_or(String::new(), |s| format!("重要度：{} ", s.stars()));
    let subject = format!(
        "【見守りサービス】{tier}調査結果のご報告（{}）",
        shown(company, SUBJECT_NAME_MAX)
    );

    let mut blocks = opening(
        company,
        vec![text(
            "「※調査中※」としてお知らせしたアラートについて、調査が終わりましたのでご報告します。",
        )],
    );
    blocks.push(Block::Section {
        heading: "調査結果",
        lines: vec![text(shown_lines(finding, FINDING_MAX))],
        bullets: Vec::new(),
    });
    let verdict = match rated {
        Some(Severity::High) => vec![
            text(format!(
                "調査の結果、重要度を「{}」に変更しました。{}。",
                tier_label(Severity::High),
                Severity::High.meaning()
            )),
            text(format!("お願いしたいこと：{}", Severity::High.guidance())),
        ],
        Some(s) => vec![
            text(format!(
                "調査の結果、重要度を「{}」と判定しました。{}。",
                tier_label(s),
                s.meaning()
            )),
            text(format!("お願いしたいこと：{}", s.guidance())),
        ],
        None => vec![text(
            "調査の結果、重要度（★）を付ける必要はないと判断しました。調査結果にお願いしたい作業が書かれている場合は、その内容に従ってご対応ください。",
        )],
    };
    blocks.push(Block::Section {
        heading: "重要度",
        lines: verdict,
        bullets: Vec::new(),
    });
    if rated == Some(Severity::High) {
        blocks.push(insurance(
            "重要度を★★★に変更したこのご報告により、本サービスに付帯するサイバー保険で、駆け付け対応の費用の補償を受ける権利が発生します。",
        ));
    }
    let mut rows = incident_rows(line);
    rows.push(("当初の判定理由", text(shown(&line.reason, FIELD_MAX))));
    rows.push(("詳細", link(alert_link(portal, &line.incident_id))));
    blocks.push(Block::Table {
        title: Some(("対象のアラート".to_owned(), Severity::Investigating)),
        rows,
    });
    blocks.push(footer(portal));
    render(subject, &blocks)
}

/// Untrusted one-line fields are shown up to this many characters.
const FIELD_MAX: usize = 300;
/// Names in a subject are shorter still, so that the subject stays readable.
const SUBJECT_NAME_MAX: usize = 40;
/// An investigation finding is prose, several paragraphs at most.
const FINDING_MAX: usize = 3000;

/// The salutation, then the thanks that open every mail, then what this one is about.
fn opening(company: &str, about: Vec<Line>) -> Vec<Block> {
    let mut lines = vec![text(
        "いつも見守りサービスをご利用いただき、ありがとうございます。",
    )];
    lines.extend(about);
    vec![
        Block::Para(vec![text(format!(
            "{} ご担当者様",
            shown(company, FIELD_MAX)
        ))]),
        Block::Para(lines),
    ]
}

/// The footer of the notices sent to the alert recipients: when they come and where the
/// recipients are changed.
fn footer(portal: &str) -> Block {
    Block::Footer(vec![
        text("このメールは、見守りサービスから自動で送信しています。"),
        text(
            "お知らせは24時間、夜間や休日にも送信されます。スマートフォンなどに転送している場合は、夜間にも届きますのでご注意ください。",
        ),
        text(format!(
            "お知らせの宛先（{MAX_ALERT_RECIPIENTS}件まで）を変更するときは、ご契約の販売店または相談窓口へご連絡ください。"
        )),
        link(portal.trim_end_matches('/').to_owned()),
    ])
}

/// The footer of a mail to one person about their own account, which is no notice to
/// the alert recipients.
/// The seed's §4.5 and the insurance terms, as far as the customer has to act on them.
fn insurance(why: &str) -> Block {
    Block::Section {
        heading: "サイバー保険について",
        lines: vec![text(why)],
        bullets: vec![
            text("このメールは保険の申請に必要です。削除せずに保管してください。"),
            text(
                "保険の申請の前に、原則としてウイルス対策ソフトでフルスキャンを実行してください。",
            ),
            text(
                "保険を使った駆け付け対応を利用できるのは、★★★のアラートの発生から30日以内です。ご希望の場合は、お早めに相談窓口へご連絡ください。",
            ),
            text("詳しい条件は、保険規約をご覧ください。"),
        ],
    }
}

fn tier_label(s: Severity) -> &'static str {
    match s {
        Severity::High => "★★★（高）",
        Severity::Medium => "★★☆（中）",
        Severity::Low => "★☆☆（低）",
        Severity::Investigating => "※調査中※",
    }
}

/// What happened, without the rating: shared by the alert and the investigation report.
fn incident_rows(line: &AlertLine) -> Vec<(&'static str, Line)> {
    let minute = jst::format_minute;
    let (first, last) = (minute(line.first_seen), minute(line.last_seen));
    let mut when = if first == last {
        first
    } else if first[..10] == last[..10] {
        format!("{first}〜{}", &last[11..])
    } else {
        format!("{first}〜{last}")
    };
    if line.count > 1 {
        when.push_str(&format!("（同じ通信を{}回検知）", line.count));
    }
    let direction = crate::wording::direction(line.direction);
    let action = match line.action {
        Action::Blocked => "遮断しました",
        Action::Detoxified => "無害化しました",
        Action::Detected => "検知のみ（通信は通過しています）",
    };
    let mut rows = vec![
        ("日時", text(when)),
        ("機器", text(shown(&line.appliance, FIELD_MAX))),
        (
            "端末",
            text(
                line.host
                    .as_deref()
                    .map_or("不明".to_owned(), |h| shown(h, FIELD_MAX)),
            ),
        ),
        ("通信の向き", text(direction)),
        ("脅威", text(shown(&line.threat, FIELD_MAX))),
    ];
    if let Some(url) = &line.url {
        rows.push((
            "URL",
            text(format!(
                "{}（誤ってアクセスしないよう、一部を書き換えています）",
                shown(&defang(url), FIELD_MAX)
            )),
        ));
    }
    if let Some(file) = &line.file {
        rows.push(("ファイル", text(shown(file, FIELD_MAX))));
    }
    rows.push(("UTM装置の対応", text(action)));
    rows
}

fn alert_link(portal: &str, incident_id: &str) -> String {
    // Ids are plain today; encoding keeps a stray character from breaking the link.
    let id: String = incident_id
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{}/incidents/{id}", portal.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use proptest::prelude::*;

    use super::*;
    use crate::downtime::Notice;
    use crate::mail::untrusted::hidden;

    const PORTAL: &str = "https://portal.example.jp";

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    /// An outbound C2 beacon, the textbook ★★★.
    fn beacon() -> AlertLine {
        AlertLine {
            incident_id: "inc-c2".into(),
            severity: Severity::High,
            first_seen: at("2026-11-25T19:00:00+09:00"),
            last_seen: at("2026-11-25T19:42:00+09:00"),
            count: 12,
            appliance: "utm1".into(),
            host: Some("192.168.1.23".into()),
            threat: "ET MALWARE Win32/Emotet CnC Beacon".into(),
            action: Action::Blocked,
            direction: Direction::Outbound,
            url: Some("http://203.0.113.7:8080/gate.php".into()),
            file: None,
            reason: "社内の端末から、マルウェアの指令サーバーへの通信が見つかりました".into(),
        }
    }

    fn download() -> AlertLine {
        AlertLine {
            incident_id: "inc-dl".into(),
            severity: Severity::Medium,
            first_seen: at("2026-11-25T10:15:00+09:00"),
            last_seen: at("2026-11-25T10:15:00+09:00"),
            count: 1,
            host: Some("00:1a:2b:3c:4d:5e".into()),
            threat: "Trojan.GenericKD.7301".into(),
            action: Action::Detoxified,
            direction: Direction::Inbound,
            url: Some("https://files.example.net/invoice.zip".into()),
            file: Some("請求書_1125.zip".into()),
            reason: "マルウェアのダウンロードを無害化しました".into(),
            ..beacon()
        }
    }

    fn scan() -> AlertLine {
        AlertLine {
            incident_id: "inc-scan".into(),
            severity: Severity::Low,
            first_seen: at("2026-11-24T23:50:00+09:00"),
            last_seen: at("2026-11-25T00:10:00+09:00"),
            count: 340,
            appliance: "utm2".into(),
            host: None,
            threat: "ET SCAN Suspicious inbound to mySQL port 3306".into(),
            direction: Direction::Inbound,
            url: None,
            file: None,
            reason: "外部からの攻撃を遮断しました".into(),
            ..beacon()
        }
    }

    fn unknown() -> AlertLine {
        AlertLine {
            incident_id: "inc-odd".into(),
            severity: Severity::Investigating,
            first_seen: at("2026-11-25T08:30:00+09:00"),
            last_seen: at("2026-11-25T08:31:00+09:00"),
            count: 2,
            threat: "Unknown.Heuristic.Behaviour".into(),
            action: Action::Detected,
            direction: Direction::Internal,
            url: None,
            file: None,
            reason: "判定ルールに当てはまらないため、担当者が確認します".into(),
            ..beacon()
        }
    }

    const SCRIPT: &str = "<script>alert(1)</script>";
    const IMG: &str = "\"><img src=x onerror=alert(1)>";

    fn hostile() -> (String, Vec<AlertLine>) {
        let company = format!("{SCRIPT}&amp;商事\r\nBcc: victim@example.jp");
        let lines = vec![
            AlertLine {
                incident_id: "inc-h1".into(),
                appliance: format!("utm{IMG}'"),
                host: Some(SCRIPT.into()),
                threat: format!("{IMG}&amp;"),
                url: Some(format!("http://evil.example/{SCRIPT}?a=1&amp;b={IMG}")),
                file: Some(format!("{IMG}.exe")),
                reason: format!("&amp;{SCRIPT}"),
                ..beacon()
            },
            AlertLine {
                incident_id: "inc-h2".into(),
                threat: format!("\u{202e}txt.exe\u{1b}[31m\u{7}{}", "脅".repeat(3000)),
                ..download()
            },
        ];
        (company, lines)
    }

    fn snap(m: &Mail) -> String {
        format!(
            "Subject: {}\n\n----- text -----\n{}\n----- html -----\n{}",
            m.subject, m.text, m.html
        )
    }

    /// Every tag in the HTML is one the renderer writes, with no event handler.
    #[track_caller]
    fn only_our_markup(html: &str) {
        const TAGS: &[&str] = &[
            "!DOCTYPE", "html", "head", "meta", "title", "body", "div", "p", "h2", "ul", "li",
            "table", "tr", "th", "td", "a", "br", "hr",
        ];
        for tag in html.split('<').skip(1) {
            let tag = tag.split('>').next().unwrap();
            let name = tag
                .trim_start_matches('/')
                .split([' ', '>'])
                .next()
                .unwrap();
            assert!(TAGS.contains(&name), "unexpected tag <{tag}>");
            assert!(
                !tag.contains("onerror") && !tag.contains("script"),
                "<{tag}>"
            );
        }
    }

    fn hrefs(html: &str) -> Vec<&str> {
        html.split("href=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap())
            .collect()
    }

    #[track_caller]
    fn plain_text_is_clean(m: &Mail) {
        assert!(!m.subject.chars().any(char::is_control), "{:?}", m.subject);
        assert!(
            !m.text.chars().any(|c| c != '\n' && hidden(c)),
            "control characters in the text body"
        );
    }

    #[test]
    fn snapshot_temporary_credentials() {
        let expires = DateTime::parse_from_rfc3339("2026-12-03T10:00:00+09:00")
            .unwrap()
            .with_timezone(&Utc);
        let m = temp_credentials(
            "株式会社サンプル",
            "tmp-abcd2345",
            "Kq7m-Zt4p-Wx9r-Hn3c",
            expires,
            PORTAL,
        );
        plain_text_is_clean(&m);
        assert!(m.text.contains("tmp-abcd2345") && m.html.contains("Kq7m-Zt4p-Wx9r-Hn3c"));
        insta::assert_snapshot!("temp_credentials", snap(&m));
    }

    #[test]
    fn snapshot_a_single_c2_beacon() {
        insta::assert_snapshot!(
            "single_high",
            snap(&alert_batch("株式会社サンプル", &[beacon()], 0, PORTAL))
        );
    }

    #[test]
    fn snapshot_a_mixed_batch_is_listed_most_urgent_first() {
        let lines = [download(), scan(), unknown(), beacon()];
        insta::assert_snapshot!(
            "mixed_batch",
            snap(&alert_batch("有限会社みまもり工業", &lines, 0, PORTAL))
        );
    }

    #[test]
    fn snapshot_a_batch_of_only_investigations() {
        let lines = [
            unknown(),
            AlertLine {
                incident_id: "inc-odd2".into(),
                first_seen: at("2026-11-25T07:00:00+09:00"),
                last_seen: at("2026-11-25T07:00:00+09:00"),
                count: 1,
                ..unknown()
            },
        ];
        insta::assert_snapshot!(
            "all_investigating",
            snap(&alert_batch("株式会社サンプル", &lines, 0, PORTAL))
        );
    }

    #[test]
    fn snapshot_a_hostile_batch() {
        let (company, lines) = hostile();
        insta::assert_snapshot!(
            "hostile_batch",
            snap(&alert_batch(&company, &lines, 0, PORTAL))
        );
    }

    #[test]
    fn snapshot_an_investigation_raised_to_high() {
        let m = investigation_result(
            "株式会社サンプル",
            &unknown(),
            "端末 192.168.1.23 の通信を確認したところ、既知のマルウェアの指令サーバーへの定期的な通信でした。\n感染している可能性が高いと判断しました。",
            Some(Severity::High),
            PORTAL,
        );
        insta::assert_snapshot!("investigation_high", snap(&m));
    }

    #[test]
    fn snapshot_an_investigation_without_a_tier() {
        let m = investigation_result(
            "株式会社サンプル",
            &unknown(),
            "業務で利用しているソフトウェアの自動更新の通信でした。\nマルウェアとの関係は見つかりませんでした。",
            None,
            PORTAL,
        );
        insta::assert_snapshot!("investigation_none", snap(&m));
    }

    #[test]
    fn snapshot_an_appliance_that_went_down() {
        let m = appliance_notice(
            "株式会社サンプル",
            "utm1",
            "c025a28b0a41",
            Some(at("2026-11-25T14:00:00+09:00")),
            Notice::WentDown,
            at("2026-11-25T14:06:00+09:00"),
            PORTAL,
        );
        insta::assert_snapshot!("appliance_went_down", snap(&m));
    }

    fn november(open: u64, company_name: &str) -> (String, crate::monthly::Report) {
        use crate::monthly::{ApplianceMonth, Mails, Peers, Report};
        (
            company_name.to_owned(),
            Report {
                month: "2026-11".into(),
                closed: true,
                problems_open: open,
                problems_handled: 1,
                by_tier: vec![
                    (Severity::High, open),
                    (Severity::Medium, 2),
                    (Severity::Low, 120),
                    (Severity::Investigating, 0),
                ],
                by_function: Vec::new(),
                days: Vec::new(),
                top_threats: Vec::new(),
                top_hosts: Vec::new(),
                appliances: vec![
                    ApplianceMonth {
                        id: "c025a28b0a41".into(),
                        name: "utm1".into(),
                        detections: 100,
                        online_percent: Some(100),
                        outages: 0,
                    },
                    ApplianceMonth {
                        id: "c025a28b0a42".into(),
                        name: "倉庫<utm2>".into(),
                        detections: 22,
                        online_percent: Some(97),
                        outages: 2,
                    },
                ],
                mails: Mails::default(),
                peers: Some(Peers {
                    own: 122 + open,
                    average: 80,
                    band: crate::peers::Band::Top25,
                }),
            },
        )
    }

    #[test]
    fn snapshot_a_monthly_report_with_nothing_open() {
        let (company, r) = november(0, "株式会社サンプル");
        let m = monthly_report(
            &company,
            crate::month::Month::parse("2026-11").unwrap(),
            &r,
            PORTAL,
        );
        assert!(m.subject.contains("2026年11月の月次レポート"));
        insta::assert_snapshot!("monthly_report", snap(&m));
    }

    #[test]
    fn snapshot_a_monthly_report_with_an_open_problem_and_names_to_escape() {
        let (company, mut r) = november(1, "株式会社<b>&\"サンプル\"</b>");
        r.peers = None;
        let m = monthly_report(
            &company,
            crate::month::Month::parse("2026-11").unwrap(),
            &r,
            PORTAL,
        );
        assert!(!m.html.contains("<b>"));
        assert!(!m.html.contains("<utm2>"));
        insta::assert_snapshot!("monthly_report_escaped", snap(&m));
    }

    #[test]
    fn snapshot_an_appliance_that_stays_down() {
        let m = appliance_notice(
            "株式会社サンプル",
            "utm1",
            "c025a28b0a41",
            None,
            Notice::StillDown,
            at("2026-11-26T09:00:00+09:00"),
            PORTAL,
        );
        insta::assert_snapshot!("appliance_still_down", snap(&m));
    }

    #[test]
    fn snapshot_an_appliance_that_recovered() {
        let m = appliance_notice(
            "株式会社サンプル",
            "utm1",
            "c025a28b0a41",
            Some(at("2026-11-26T10:15:00+09:00")),
            Notice::Recovered,
            at("2026-11-26T10:15:00+09:00"),
            PORTAL,
        );
        insta::assert_snapshot!("appliance_recovered", snap(&m));
    }

    #[test]
    fn hostile_strings_never_reach_the_html_unescaped() {
        let (company, lines) = hostile();
        let m = alert_batch(&company, &lines, 0, PORTAL);
        assert!(!m.html.contains("<script>"));
        assert!(!m.html.contains("<img"));
        assert!(m.html.contains("&lt;script&gt;"));
        assert!(
            m.html.contains("&amp;amp;"),
            "an entity in the input is shown as typed"
        );
        only_our_markup(&m.html);
        plain_text_is_clean(&m);
    }

    #[test]
    fn the_finding_and_the_names_in_other_mails_are_escaped_too() {
        let (company, lines) = hostile();
        let report = investigation_result(&company, &lines[0], IMG, Some(Severity::High), PORTAL);
        let notice = appliance_notice(
            &company,
            IMG,
            SCRIPT,
            None,
            Notice::WentDown,
            at("2026-11-25T14:06:00+09:00"),
            PORTAL,
        );
        for m in [report, notice] {
            assert!(!m.html.contains("<script>") && !m.html.contains("<img"));
            only_our_markup(&m.html);
            plain_text_is_clean(&m);
        }
    }

    #[test]
    fn only_portal_pages_are_links() {
        let (company, lines) = hostile();
        for m in [
            alert_batch(&company, &lines, 0, PORTAL),
            alert_batch("株式会社サンプル", &[beacon(), download()], 0, PORTAL),
        ] {
            let hrefs = hrefs(&m.html);
            assert!(!hrefs.is_empty());
            for href in hrefs {
                assert!(href.starts_with(PORTAL), "{href}");
            }
        }
    }

    #[test]
    fn device_urls_are_defanged_so_no_mail_client_links_them() {
        let m = alert_batch("株式会社サンプル", &[download()], 0, PORTAL);
        assert!(
            m.text
                .contains("hxxps[://]files[.]example[.]net/invoice[.]zip")
        );
        assert!(!m.text.contains("files.example.net"));
        assert!(!m.html.contains("files.example.net"));
    }

    #[test]
    fn a_line_break_in_the_company_name_cannot_add_a_header() {
        let (company, lines) = hostile();
        let m = alert_batch(&company, &lines, 0, PORTAL);
        assert!(!m.subject.contains('\n') && !m.subject.contains('\r'));
        assert!(!m.text.contains("\nBcc:"));
    }

    #[test]
    fn long_untrusted_fields_are_cut_with_an_ellipsis() {
        let (company, lines) = hostile();
        let m = alert_batch(&company, &lines, 0, PORTAL);
        let threat = m
            .text
            .lines()
            .find_map(|l| l.strip_prefix("脅威：txt.exe"))
            .expect("the long threat is listed, its control characters gone");
        assert!(threat.ends_with("脅…"), "{threat}");
        assert!(threat.chars().count() < FIELD_MAX, "{threat}");
        assert!(m.subject.chars().count() < 80, "{}", m.subject);
    }

    #[test]
    fn a_large_batch_lists_the_most_urgent_fifty_and_counts_the_rest() {
        let mut lines: Vec<AlertLine> = (0..70)
            .map(|i| AlertLine {
                incident_id: format!("inc-{i}"),
                ..download()
            })
            .collect();
        lines.push(beacon());
        let m = alert_batch("株式会社サンプル", &lines, 1000, PORTAL);
        assert!(m.subject.contains("重要度：★★★"), "{}", m.subject);
        assert!(m.subject.contains(" 1071件"), "{}", m.subject);
        assert!(
            m.text.contains("1件目　重要度：★★★（高）"),
            "the ★★★ comes first"
        );
        assert!(m.text.contains(&format!("{LISTED_AT_MOST}件目")));
        assert!(!m.text.contains(&format!("{}件目", LISTED_AT_MOST + 1)));
        assert_eq!(m.text.matches("/incidents/inc-").count(), LISTED_AT_MOST);
        assert!(
            m.text
                .contains("ほか1021件のアラートは、ポータルでご確認ください")
        );
        assert!(m.html.contains("ほか1021件"));
        let small = alert_batch("株式会社サンプル", &[beacon()], 0, PORTAL);
        assert!(!small.text.contains("ほか"));
    }

    #[test]
    fn the_insurance_note_comes_only_with_high() {
        let high = alert_batch("株式会社サンプル", &[scan(), beacon()], 0, PORTAL);
        let low = alert_batch("株式会社サンプル", &[scan(), download()], 0, PORTAL);
        assert!(high.text.contains("30日以内"));
        assert!(!low.text.contains("保険"));
        let raised = investigation_result(
            "株式会社サンプル",
            &unknown(),
            "…",
            Some(Severity::High),
            PORTAL,
        );
        let medium = investigation_result(
            "株式会社サンプル",
            &unknown(),
            "…",
            Some(Severity::Medium),
            PORTAL,
        );
        assert!(raised.subject.contains("重要度：★★★") && raised.text.contains("権利が発生します"));
        assert!(medium.subject.contains("重要度：★★☆") && !medium.text.contains("保険"));
    }

    #[test]
    fn an_empty_batch_yields_a_mail_without_a_tier_rather_than_a_panic() {
        let m = alert_batch("株式会社サンプル", &[], 0, PORTAL);
        assert!(!m.subject.contains('★') && !m.subject.contains("調査中"));
        assert!(!m.text.contains("/incidents/"));
    }

    fn tier(i: u8) -> Severity {
        [
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Investigating,
        ][usize::from(i % 4)]
    }

    proptest! {
        #[test]
        fn the_subject_carries_the_most_urgent_tier_and_every_incident_is_linked_once(
            specs in proptest::collection::vec((0u8..4, 0i64..10_000, 1u32..500), 1..25),
        ) {
            let lines: Vec<AlertLine> = specs
                .iter()
                .enumerate()
                .map(|(i, (t, minutes, count))| {
                    let first = at("2026-11-25T00:00:00+09:00") + TimeDelta::minutes(*minutes);
                    AlertLine {
                        incident_id: format!("inc-{i}"),
                        severity: tier(*t),
                        first_seen: first,
                        last_seen: first + TimeDelta::minutes(i64::from(*count)),
                        count: *count,
                        ..beacon()
                    }
                })
                .collect();
            let m = alert_batch("株式会社サンプル", &lines, 0, PORTAL);
            let most = Severity::most_urgent(lines.iter().map(|l| l.severity)).unwrap();
            let stars: String = m.subject.chars().filter(|c| matches!(c, '★' | '☆')).collect();
            if most == Severity::Investigating {
                prop_assert!(m.subject.contains("※調査中※"));
                prop_assert_eq!(stars, "");
            } else {
                prop_assert_eq!(stars, most.stars());
                prop_assert!(!m.subject.contains("調査中"));
            }
            prop_assert_eq!(m.text.matches("/incidents/").count(), lines.len());
            for l in &lines {
                let link = format!("{PORTAL}/incidents/{}\n", l.incident_id);
                prop_assert_eq!(m.text.matches(&link).count(), 1, "{}", l.incident_id);
                let href = format!("href=\"{PORTAL}/incidents/{}\"", l.incident_id);
                prop_assert_eq!(m.html.matches(&href).count(), 1, "{}", l.incident_id);
            }
        }
    }
}
