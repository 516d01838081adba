//! One detection in full (`/alerts/{id}`, staff: `/customers/{id}/alerts/{id}`): every
//! stored field, the rule that rated it and why, what to do, the incident it belongs to
//! (handled or not) and the mails that told the customer about it, sent or still being
//! retried. What the appliance sent is untrusted text: a URL is shown defanged
//! (`hxxp://evil[.]example`), never as a link. A detection of another customer is a 404,
//! like one that does not exist.

use chrono::{DateTime, Utc};
use domain::severity::Severity;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::nav::PortalNav;
use crate::place::Place;

/// The incident a detection belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentView {
    pub severity: Severity,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub count: i64,
    pub handled_at: Option<DateTime<Utc>>,
}

/// A mail about the detection's incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailView {
    pub subject: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// 送信済み / 送信中（再送待ち） / 送信できませんでした.
    pub state: String,
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertView {
    pub id: i64,
    pub severity: Severity,
    pub name: String,
    /// Every stored field, labelled, as text.
    pub fields: Vec<(String, String)>,
    pub rule: String,
    pub reason: String,
    pub guidance: String,
    pub incident: Option<IncidentView>,
    pub mails: Vec<MailView>,
}

/// Detection `alert` of `customer` (staff) or of the caller's company (`None`).
#[server(prefix = "/_app", endpoint = "alert")]
pub async fn alert(
    #[server(default)] customer: Option<String>,
    #[server(default)] alert: String,
) -> Result<AlertView, ServerFnError> {
    server::alert(customer, alert).await
}

#[cfg(feature = "ssr")]
mod server {
    use domain::jst::format_second;
    use leptos::prelude::*;
    use store::alerts::{Alert, Detail};

    use super::{AlertView, IncidentView, MailView};

    pub async fn alert(requested: Option<String>, id: String) -> Result<AlertView, ServerFnError> {
        let (_, customer) = crate::tenant::page_customer(requested).await?;
        let Ok(id) = id.parse::<i64>() else {
            return Err(crate::tenant::not_found());
        };
        let found = crate::tenant::with_env("alert", move |env| async move {
            store::alerts::detail(&crate::tenant::db(&env)?, &customer, id).await
        })
        .await?;
        found.map(view).ok_or_else(crate::tenant::not_found)
    }

    fn view(d: Detail) -> AlertView {
        let a = &d.alert;
        AlertView {
            id: a.id,
            severity: a.severity,
            name: a.name.clone(),
            fields: fields(a),
            rule: a.rule.clone(),
            reason: d.reason,
            guidance: d.guidance.to_owned(),
            incident: d.incident.map(|i| IncidentView {
                severity: i.severity,
                first_at: i.first_at,
                last_at: i.last_at,
                count: i.count,
                handled_at: i.handled_at,
            }),
            mails: d
                .mails
                .into_iter()
                .map(|m| MailView {
                    subject: m.subject.unwrap_or_else(|| "（作成中）".to_owned()),
                    created_at: m.created_at,
                    sent_at: m.sent_at,
                    state: match m.status.as_str() {
                        "sent" => "送信済み",
                        "failed" => "送信できませんでした",
                        _ => "送信中（再送待ち）",
                    }
                    .to_owned(),
                })
                .collect(),
        }
    }

    /// Every stored field of `a`, in the order a person reads them; absent ones say so.
    fn fields(a: &Alert) -> Vec<(String, String)> {
        let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".to_owned());
        let port = |v: Option<i64>| v.map_or("—".to_owned(), |p| p.to_string());
        let when = if a.first_at == a.last_at {
            format_second(a.last_at)
        } else {
            format!(
                "{} 〜 {}",
                format_second(a.first_at),
                format_second(a.last_at)
            )
        };
        let rows = [
            ("日時", when),
            ("回数", format!("{}回", a.count)),
            ("重要度", a.severity.stars().to_owned()),
            ("機能", domain::wording::function(a.function).to_owned()),
            (
                "UTM装置の対応",
                domain::wording::action(a.action).to_owned(),
            ),
            (
                "通信の向き",
                domain::wording::direction(a.direction).to_owned(),
            ),
            ("UTM装置", format!("{}（{}）", a.appliance, a.device_id)),
            (
                "端末",
                if a.host.is_empty() {
                    "不明".to_owned()
                } else {
                    a.host.clone()
                },
            ),
            ("検知名", a.name.clone()),
            ("シグネチャID", or_none(&a.signature_id)),
            ("分類", or_none(&a.category)),
            ("UTM装置の重要度", a.vendor_severity.as_str().to_owned()),
            ("送信元IPアドレス", or_none(&a.src_ip)),
            ("送信元ポート", port(a.src_port)),
            ("送信元MACアドレス", or_none(&a.src_mac)),
            ("宛先IPアドレス", or_none(&a.dst_ip)),
            ("宛先ポート", port(a.dst_port)),
            ("プロトコル", or_none(&a.protocol)),
            (
                "URL",
                a.url
                    .as_deref()
                    .map_or("—".to_owned(), domain::mail::defang),
            ),
            ("ファイル名", or_none(&a.file_name)),
            ("ファイルのSHA-256", or_none(&a.file_sha256)),
            ("UTM装置のイベントID", a.first_event_id.clone()),
        ];
        rows.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }
}

/// `/alerts/{id}` (staff: `/customers/{id}/alerts/{alert}`).
#[component]
pub fn AlertPage() -> impl IntoView {
    let place = Place::from_route();
    let customer = place.customer();
    let id = use_params_map().with_untracked(|p| p.get("alert").unwrap_or_default());
    let data = Resource::new_blocking(
        move || (customer.clone(), id.clone()),
        |(customer, id)| alert(customer, id),
    );
    let shown_place = place.clone();
    view! {
        <Title text="検知の詳細" />
        <PortalNav place=place.clone() current="alerts" />
        {crate::signin::loaded(data, move |a| view! { <AlertBody a place=shown_place.clone() /> })}
    }
}

#[component]
fn AlertBody(a: AlertView, place: Place) -> impl IntoView {
    let tier = a.severity;
    let fields = a
        .fields
        .into_iter()
        .map(|(k, v)| view! { <dt>{k}</dt> <dd>{v}</dd> })
        .collect_view();
    let incident = match a.incident {
        Some(i) => {
            let state = match i.handled_at {
                Some(at) => format!("対応済み（{}）", domain::jst::format_minute(at)),
                None if domain::handling::needs_admin(i.severity) => "未対応".to_owned(),
                None => "対応は不要です（UTM装置が防御しています）".to_owned(),
            };
            let open = (i.handled_at.is_none() && domain::handling::needs_admin(i.severity))
                .then(|| view! { <a href=place.href("problems")>"問題を確認で対応する"</a> });
            view! {
                <dl class="fields">
                    <dt>"重要度"</dt>
                    <dd>{i.severity.stars()}</dd>
                    <dt>"期間"</dt>
                    <dd>
                        {format!(
                            "{} 〜 {}",
                            domain::jst::format_minute(i.first_at),
                            domain::jst::format_minute(i.last_at),
                        )}
                    </dd>
                    <dt>"検知の回数"</dt>
                    <dd>{format!("{}回", i.count)}</dd>
                    <dt>"状態"</dt>
                    <dd>{state} " " {open}</dd>
                </dl>
            }
            .into_any()
        }
        None => {
            view! { <p>"この検知はまだどのインシデントにもまとめられていません。"</p> }.into_any()
        }
    };
    let mails = if a.mails.is_empty() {
        view! { <p class="empty">"この検知について、メールはまだ送っていません。"</p> }.into_any()
    } else {
        let items = a
            .mails
            .into_iter()
            .map(|m| {
                let sent = m
                    .sent_at
                    .map(|t| format!("（{}）", domain::jst::format_minute(t)));
                view! {
                    <li>
                        <span class="subject">{m.subject}</span>
                        <span class="meta">
                            {domain::jst::format_minute(m.created_at)} " ・ " {m.state} {sent}
                        </span>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="mail-list">{items}</ul> }.into_any()
    };
    view! {
        <h1>
            <span class=format!("stars tier-{}", tier.as_str())>{tier.stars()}</span>
            " "
            {a.name}
        </h1>
        <p class="meaning">{tier.meaning()}</p>
        <section aria-labelledby="why">
            <h2 id="why">"判定の理由"</h2>
            <p>{a.reason}</p>
            <p class="rule">"判定ルール: " <code>{a.rule}</code></p>
            <h3>"対応方法"</h3>
            <p class="guidance">{a.guidance}</p>
        </section>
        <section aria-labelledby="fields">
            <h2 id="fields">"検知の内容"</h2>
            <dl class="fields">{fields}</dl>
            <p class="note">
                "URLは、誤ってアクセスしないよう一部を書き換えて（例: hxxp://example[.]com）表示しています。"
            </p>
        </section>
        <section aria-labelledby="incident">
            <h2 id="incident">"インシデント"</h2>
            {incident}
        </section>
        <section aria-labelledby="mails">
            <h2 id="mails">"通知メール"</h2>
            {mails}
        </section>
        <p>
            <a href=place.href("alerts")>"検知履歴へ戻る"</a>
        </p>
    }
}
