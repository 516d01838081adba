//! The notices about an appliance that went silent, stays silent at the daily check, or
//! reports again (seed §4.3 (2)).

use chrono::{DateTime, Utc};

use super::{Block, FIELD_MAX, Mail, SUBJECT_NAME_MAX, footer, link, opening, render, shown, text};
use crate::downtime::{Notice, Policy};
use crate::jst;

/// The notice about an appliance that went silent, stays silent at the daily check, or
/// reports again (seed §4.3 (2); when is decided by [`crate::downtime::decide`]). `at` is
/// when the notice was decided.
pub fn appliance_notice(
    company: &str,
    appliance: &str,
    device_id: &str,
    last_seen: Option<DateTime<Utc>>,
    notice: Notice,
    at: DateTime<Utc>,
    portal: &str,
) -> Mail {
    let what = match notice {
        Notice::WentDown => "UTM装置の停止を検知しました",
        Notice::StillDown => "UTM装置が停止したままです",
        Notice::Recovered => "UTM装置が復旧しました",
    };
    let subject = format!(
        "【見守りサービス】{what}（{}）",
        shown(appliance, SUBJECT_NAME_MAX)
    );
    let name = shown(appliance, FIELD_MAX);
    let last = last_seen.map_or("記録がありません".to_owned(), jst::format_minute);
    let mut rows = vec![
        ("機器名", text(name.clone())),
        ("機器ID", text(shown(device_id, FIELD_MAX))),
    ];
    let intro = match notice {
        Notice::WentDown => {
            rows.push(("最後に連絡があった日時", text(last)));
            rows.push(("停止を検知した日時", text(jst::format_minute(at))));
            vec![
                text(format!(
                    "UTM装置「{name}」からの連絡が途絶えたため、停止している可能性があります。"
                )),
                text(
                    "停止している間は、見守りサービスによる通信の監視とアラートのお知らせができません。お手数ですが、下記をご確認ください。",
                ),
            ]
        }
        Notice::StillDown => {
            rows.push(("最後に連絡があった日時", text(last)));
            rows.push(("確認した日時", text(jst::format_minute(at))));
            vec![
                text(format!("UTM装置「{name}」は、停止したままです。")),
                text(
                    "停止している間は、見守りサービスによる通信の監視とアラートのお知らせができません。お手数ですが、下記をご確認ください。",
                ),
            ]
        }
        Notice::Recovered => {
            rows.push(("復旧を確認した日時", text(jst::format_minute(at))));
            vec![
                text(format!(
                    "UTM装置「{name}」から再び連絡があり、復旧を確認しました。見守りサービスによる通信の監視を再開しています。"
                )),
                text("特にご対応いただくことはありません。"),
            ]
        }
    };
    let mut blocks = opening(company, intro);
    blocks.push(Block::Table { title: None, rows });
    if notice != Notice::Recovered {
        // The time the sweep uses unless configured otherwise; the sweep does not tell
        // the mail its policy, and a changed time is an operator's decision to announce.
        let daily = Policy::default().daily_at.format("%-H時").to_string();
        blocks.push(Block::Section {
            heading: "ご確認いただきたいこと",
            lines: Vec::new(),
            bullets: vec![
                text("UTM装置の電源が入っているか（ランプが点灯しているか）"),
                text("UTM装置につながるLANケーブルが、抜けたり緩んだりしていないか"),
                text("ルーターの電源が入っていて、インターネットにつながっているか"),
            ],
        });
        blocks.push(Block::Para(vec![
            text("確認しても復旧しない場合は、UTM装置の取扱説明書をご覧になるか、相談窓口へご連絡ください。"),
            text(format!(
                "停止が続いている間は、毎日{daily}ごろにあらためてお知らせします。復旧したときも、メールでお知らせします。"
            )),
        ]));
    }
    blocks.push(Block::Para(vec![
        text("UTM装置の状態は、ポータルでもご確認いただけます。"),
        link(format!("{}/appliances", portal.trim_end_matches('/'))),
    ]));
    blocks.push(footer(portal));
    render(subject, &blocks)
}
