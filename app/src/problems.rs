//! 問題を確認 (`/problems`, staff: `/customers/{id}/problems`), seed §4.4 (2): the open
//! incidents that need the admin (★★★, ★★☆, 調査中; `store::problems`), most urgent first,
//! each with when, which appliance, which internal host, what was detected, what the
//! appliance did, why it was rated so and what to do in plain Japanese. A customer admin
//! marks one 「対応しました」 with a short note (a plain form posted to `/problems/handled`,
//! so it works without JavaScript); handled ones move to 「対応済み」 with who and when.
//! Staff read the same page without the form.

use chrono::{DateTime, Utc};
use domain::report::{Action, Direction, Function};
use domain::severity::Severity;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::messages::{Csrf, Done, FormError};
use crate::nav::PortalNav;
use crate::place::Place;

/// Incidents listed per list, at most.
pub const LISTED: u32 = 100;

/// One incident as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemView {
    pub id: i64,
    pub severity: Severity,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub count: u32,
    pub appliance: String,
    pub device_id: String,
    pub host_ip: Option<String>,
    pub host_mac: Option<String>,
    pub threat: String,
    pub function: Function,
    pub action: Action,
    pub direction: Direction,
    pub reason: String,
    pub guidance: String,
    pub handled: Option<HandledView>,
}

/// 「対応しました」 as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandledView {
    pub at: DateTime<Utc>,
    /// The address of the account that marked it, while it exists.
    pub by: Option<String>,
    pub note: String,
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemsView {
    pub customer_name: String,
    /// The form's anti-forgery token; `None` for staff (read-only).
    pub csrf: Option<String>,
    pub open: Vec<ProblemView>,
    pub handled: Vec<ProblemView>,
}

/// The problems of `customer` (staff) or of the caller's company (`None`).
#[server(prefix = "/_app", endpoint = "problems")]
pub async fn problems(
    #[server(default)] customer: Option<String>,
) -> Result<ProblemsView, ServerFnError> {
    server::problems(customer).await
}

#[cfg(feature = "ssr")]
mod server {
    use leptos::prelude::*;
    use store::problems::Problem;

    use super::{HandledView, LISTED, ProblemView, ProblemsView};

    pub async fn problems(requested: Option<String>) -> Result<ProblemsView, ServerFnError> {
        let (caller, customer) = crate::tenant::page_customer(requested).await?;
        let csrf = caller
            .scope()
            .own_customer()
            .is_some()
            .then(|| crate::tenant::visitor().map(|v| v.csrf))
            .transpose()?;
        let tenant = customer.clone();
        let (open, handled) = crate::tenant::with_env("problems", move |env| async move {
            let db = crate::tenant::db(&env)?;
            store::problems::lists(&db, &tenant, LISTED).await
        })
        .await?;
        Ok(ProblemsView {
            customer_name: customer.name().to_owned(),
            csrf,
            open: open.into_iter().map(view).collect(),
            handled: handled.into_iter().map(view).collect(),
        })
    }

    fn view(p: Problem) -> ProblemView {
        let line = p.incident.line;
        ProblemView {
            id: p.incident.id,
            severity: p.incident.severity,
            first_seen: line.first_seen,
            last_seen: line.last_seen,
            count: line.count,
            appliance: line.appliance,
            device_id: p.device_id,
            host_ip: p.host_ip,
            host_mac: p.host_mac,
            threat: line.threat,
            function: p.function,
            action: line.action,
            direction: line.direction,
            reason: line.reason,
            guidance: p.guidance.to_owned(),
            handled: p.handled.map(|h| HandledView {
                at: h.at,
                by: h.by_email,
                note: h.note,
            }),
        }
    }
}

/// `/problems` (staff: `/customers/{id}/problems`).
#[component]
pub fn ProblemsPage() -> impl IntoView {
    let place = Place::from_route();
    let customer = place.customer();
    let data = Resource::new_blocking(move || customer.clone(), problems);
    let shown_place = place.clone();
    view! {
        <Title text="問題を確認" />
        <PortalNav place=place.clone() current="problems" />
        <h1>"問題を確認"</h1>
        <Done />
        <FormError />
        {crate::signin::loaded(data, move |d| view! { <ProblemsBody d place=shown_place.clone() /> })}
    }
}

#[component]
fn ProblemsBody(d: ProblemsView, place: Place) -> impl IntoView {
    let open = if d.open.is_empty() {
        view! {
            <div class="banner ok" role="status">
                <p class="headline">"対応が必要な問題はありません"</p>
                <p>"★★★・★★☆・調査中の検知で、まだ対応していないものはありません。"</p>
            </div>
        }
        .into_any()
    } else {
        let csrf = d.csrf.clone();
        let place = place.clone();
        let cards = d
            .open
            .into_iter()
            .map(move |p| {
                view! { <ProblemCard p csrf=csrf.clone() place=place.clone() /> }
            })
            .collect_view();
        view! {
            <p class="summary">
                "対応が必要な問題が次のとおり見つかっています。緊急度の高いものから並べています。"
            </p>
            <ul class="problems">{cards}</ul>
        }
        .into_any()
    };
    let handled = if d.handled.is_empty() {
        view! { <p class="empty">"対応済みの問題はまだありません。"</p> }.into_any()
    } else {
        let place = place.clone();
        let cards = d
            .handled
            .into_iter()
            .map(move |p| {
                view! { <ProblemCard p csrf=None place=place.clone() /> }
            })
            .collect_view();
        view! { <ul class="problems handled">{cards}</ul> }.into_any()
    };
    view! {
        <p class="company">{d.customer_name}</p>
        <section aria-labelledby="open">
            <h2 id="open">"未対応の問題"</h2>
            {open}
        </section>
        <section aria-labelledby="handled">
            <h2 id="handled">"対応済み"</h2>
            {handled}
        </section>
    }
}

#[component]
fn ProblemCard(p: ProblemView, csrf: Option<String>, place: Place) -> impl IntoView {
    let tier = p.severity;
    let host = match (&p.host_ip, &p.host_mac) {
        (Some(ip), Some(mac)) => format!("{ip}（MAC {mac}）"),
        (Some(ip), None) => ip.clone(),
        (None, Some(mac)) => format!("MAC {mac}"),
        (None, None) => "不明（外部からの通信）".to_owned(),
    };
    let when = if p.first_seen == p.last_seen {
        domain::jst::format_minute(p.last_seen)
    } else {
        format!(
            "{} 〜 {}",
            domain::jst::format_minute(p.first_seen),
            domain::jst::format_minute(p.last_seen)
        )
    };
    let count = (p.count > 1).then(|| format!("（{}回）", p.count));
    let investigating = (tier == Severity::Investigating).then(|| {
        view! {
            <p class="notice">
                "この検知は担当者が調査しています。調査が終わりしだい、「調査結果のご報告」をメールでお送りします。"
            </p>
        }
    });
    let handled = p.handled.clone().map(|h| {
        let by =
            h.by.unwrap_or_else(|| "（削除されたアカウント）".to_owned());
        let note = (!h.note.is_empty()).then(|| view! { <p class="note">{h.note.clone()}</p> });
        view! {
            <div class="handled-record">
                <p>{format!("対応しました: {}（{by}）", domain::jst::format_minute(h.at))}</p>
                {note}
            </div>
        }
    });
    let form = csrf.filter(|_| p.handled.is_none()).map(|token| {
        let field = format!("note-{}", p.id);
        view! {
            <form class="handle" method="post" action="/problems/handled">
                <Csrf token />
                <input type="hidden" name="incident" value=p.id.to_string() />
                <label for=field.clone()>"対応した内容のメモ（任意・500文字まで）"</label>
                <textarea id=field name="note" rows="2" maxlength="500"></textarea>
                <button type="submit" class="primary">"対応しました"</button>
            </form>
        }
    });
    let head = format!("{} {}", tier.stars(), tier.meaning());
    view! {
        <li class=format!("problem tier-{}", tier.as_str()) id=format!("i{}", p.id)>
            <h3>{head}</h3>
            <dl>
                <dt>"日時"</dt>
                <dd>{format!("{when}{}", count.unwrap_or_default())}</dd>
                <dt>"UTM装置"</dt>
                <dd>
                    <a href=place.href(&format!("appliances/{}", p.device_id))>{p.appliance}</a>
                </dd>
                <dt>"端末"</dt>
                <dd>{host}</dd>
                <dt>"検知した内容"</dt>
                <dd>{format!("{}（{}）", p.threat, domain::wording::function(p.function))}</dd>
                <dt>"UTM装置の対応"</dt>
                <dd>
                    {format!(
                        "{}・{}",
                        domain::wording::action(p.action),
                        domain::wording::direction(p.direction),
                    )}
                </dd>
                <dt>"判定の理由"</dt>
                <dd>{p.reason}</dd>
            </dl>
            <div class="guidance">
                <h4>"対応方法"</h4>
                <p>{p.guidance}</p>
            </div>
            {investigating}
            {handled}
            {form}
        </li>
    }
}
