//! 通知メール履歴 (`/mails`, staff: `/customers/{id}/mails`): every mail mailed to the
//! company — alerts, appliance down, still down and recovered, investigation reports —
//! newest first, [`PAGE_ROWS`] at a time (keyset, `?after=`; `store::mail_history`): when
//! it was queued and sent, its subject (with ★), the addresses it went to, and whether it
//! was delivered or is still being retried. It is the customer's evidence for the
//! insurance (seed §4.5), so it leaves nothing out.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::nav::PortalNav;
use crate::period::urlencode;
use crate::place::Place;

/// Mails per page.
pub const PAGE_ROWS: u32 = 50;

/// One mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRow {
    /// アラート / UTM装置の停止 / …
    pub kind: String,
    pub subject: String,
    pub recipients: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub retry_at: Option<DateTime<Utc>>,
    /// `sent`, `queued` or `failed`.
    pub state: String,
    pub attempts: u32,
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailsView {
    pub customer_name: String,
    pub rows: Vec<MailRow>,
    pub next: Option<String>,
    /// Whether this is a later page.
    pub later: bool,
}

/// A page of the mails to `customer` (staff) or to the caller's company (`None`), after
/// `after` (a page cursor; empty: the newest).
#[server(prefix = "/_app", endpoint = "mails")]
pub async fn mails(
    #[server(default)] customer: Option<String>,
    #[server(default)] after: String,
) -> Result<MailsView, ServerFnError> {
    server::mails(customer, after).await
}

#[cfg(feature = "ssr")]
mod server {
    use domain::page::Cursor;
    use leptos::prelude::*;
    use store::alerts::Start;
    use store::mail_history::Delivery;
    use store::mails::Kind;

    use super::{MailRow, MailsView, PAGE_ROWS};

    pub async fn mails(
        requested: Option<String>,
        after: String,
    ) -> Result<MailsView, ServerFnError> {
        let (_, customer) = crate::tenant::page_customer(requested).await?;
        let start = match after.trim() {
            "" => Start::Newest,
            s => match Cursor::parse(s) {
                Ok(c) => Start::After(c),
                // An unreadable cursor: the first page, not an error page.
                Err(_) => Start::Newest,
            },
        };
        let tenant = customer.clone();
        let page = crate::tenant::with_env("mails", move |env| async move {
            store::mail_history::page(&crate::tenant::db(&env)?, &tenant, start, PAGE_ROWS).await
        })
        .await?;
        Ok(MailsView {
            customer_name: customer.name().to_owned(),
            later: matches!(start, Start::After(_)),
            next: page.next.map(|c| c.to_param()),
            rows: page
                .mails
                .into_iter()
                .map(|m| MailRow {
                    kind: match m.kind {
                        Kind::Alert => "検知のお知らせ",
                        Kind::ApplianceDown => "UTM装置の停止",
                        Kind::ApplianceStillDown => "UTM装置の停止（継続）",
                        Kind::ApplianceRecovered => "UTM装置の復旧",
                        Kind::Investigation => "調査結果のご報告",
                        Kind::MonthlyReport => "月次レポート",
                    }
                    .to_owned(),
                    subject: m.subject.unwrap_or_else(|| "（作成中）".to_owned()),
                    recipients: m.recipients,
                    created_at: m.created_at,
                    sent_at: m.sent_at,
                    retry_at: m.retry_at,
                    state: match m.status {
                        Delivery::Sent => "sent",
                        Delivery::Queued => "queued",
                        Delivery::Failed => "failed",
                    }
                    .to_owned(),
                    attempts: m.attempts,
                })
                .collect(),
        })
    }
}

/// `/mails` (staff: `/customers/{id}/mails`).
#[component]
pub fn MailsPage() -> impl IntoView {
    let place = Place::from_route();
    let customer = place.customer();
    let q = use_query_map();
    let after = move || q.with(|q| q.get("after").unwrap_or_default());
    let data = Resource::new_blocking(
        move || (customer.clone(), after()),
        |(customer, after)| mails(customer, after),
    );
    let shown_place = place.clone();
    view! {
        <Title text="通知メール履歴" />
        <PortalNav place=place.clone() current="mails" />
        <h1>"通知メール履歴"</h1>
        <p class="summary">
            "検知のお知らせ、UTM装置の停止・復旧、調査結果のご報告など、お送りしたメールの記録です。サイバー保険をご利用の際の記録にもなります。"
        </p>
        {crate::signin::loaded(data, move |d| view! { <MailsBody d place=shown_place.clone() /> })}
    }
}

#[component]
fn MailsBody(d: MailsView, place: Place) -> impl IntoView {
    let action = place.href("mails");
    let rows = if d.rows.is_empty() {
        view! { <p class="empty">"お送りしたメールはまだありません。"</p> }.into_any()
    } else {
        let items = d
            .rows
            .into_iter()
            .map(|m| view! { <Mail m /> })
            .collect_view();
        view! { <ul class="mail-list">{items}</ul> }.into_any()
    };
    let next = d.next.map(|after| {
        view! {
            <a class="button" rel="next" href=format!("{action}?after={}", urlencode(&after))>
                "次の50件"
            </a>
        }
    });
    let first = d
        .later
        .then(|| view! { <a class="button" href=action.clone()>"最新のメールへ戻る"</a> });
    view! {
        <p class="company">{d.customer_name}</p>
        {rows}
        <p class="pager">{first} {next}</p>
    }
}

#[component]
fn Mail(m: MailRow) -> impl IntoView {
    let state = match m.state.as_str() {
        "sent" => format!(
            "送信済み（{}）",
            m.sent_at.map_or(String::new(), domain::jst::format_minute)
        ),
        "failed" => "送信できませんでした（宛先が登録されていません）".to_owned(),
        _ => match m.retry_at {
            Some(t) if m.attempts > 0 => format!(
                "送信中（{}回失敗、{}に再送します）",
                m.attempts,
                domain::jst::format_minute(t)
            ),
            _ => "送信待ち".to_owned(),
        },
    };
    let to = if m.recipients.is_empty() {
        "（宛先なし）".to_owned()
    } else {
        m.recipients.join("、")
    };
    view! {
        <li class=format!("mail {}", m.state)>
            <p class="subject">{m.subject}</p>
            <p class="meta">
                <time datetime=domain::jst::rfc3339(m.created_at)>
                    {domain::jst::format_minute(m.created_at)}
                </time>
                " ・ " {m.kind}
            </p>
            <p class="to">"宛先: " {to}</p>
            <p class=format!("delivery {}", m.state)>{state}</p>
        </li>
    }
}
