//! ダッシュボード / セキュリティステータス (`/`, staff: `/customers/{id}`), seed §4.4 (1):
//! for the chosen period, whether a problem waits for the admin (an unhandled ★★★ / ★★☆ /
//! 調査中 incident active in it: `store::status`), the detections by ★ and by function,
//! the ways on (詳細を確認 → 検知履歴 of the period, 問題を確認), one card per appliance, and
//! the comparisons. A company without an appliance yet is told what happens next
//! (seed §8.1 ⑤⑥).

use chrono::{DateTime, Utc};
use domain::offline::Status;
use domain::report::Function;
use domain::severity::Severity;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::nav::PortalNav;
use crate::period::{PeriodPicker, PeriodQuery, Refused, ShownPeriod};
use crate::place::Place;

/// What the dashboard shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusView {
    pub customer_id: String,
    pub customer_name: String,
    pub period: ShownPeriod,
    /// Every tier, most urgent first.
    pub by_tier: Vec<(Severity, u64)>,
    /// The functions that saw anything, most first.
    pub by_function: Vec<(Function, u64)>,
    pub problem: bool,
    pub appliances: Vec<Card>,
}

/// One appliance's card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub id: String,
    pub name: String,
    pub status: Status,
    pub last_seen: Option<DateTime<Utc>>,
    pub detections: u64,
}

/// The dashboard of `customer` (staff) or of the caller's company (`None`) for `period`;
/// `Ok(Err(_))` is a refused period (status 400).
#[server(prefix = "/_app", endpoint = "dashboard")]
pub async fn dashboard(
    #[server(default)] customer: Option<String>,
    #[server(default)] period: PeriodQuery,
) -> Result<Result<StatusView, Refused>, ServerFnError> {
    server::dashboard(customer, period).await
}

#[cfg(feature = "ssr")]
mod server {
    use leptos::prelude::*;

    use super::{Card, StatusView};
    use crate::period::{PeriodQuery, Refused};

    pub async fn dashboard(
        requested: Option<String>,
        query: PeriodQuery,
    ) -> Result<Result<StatusView, Refused>, ServerFnError> {
        let (_, customer) = crate::tenant::page_customer(requested).await?;
        let (period, shown) = match crate::period::server::read(&query)? {
            Ok(p) => p,
            Err(refused) => return Ok(Err(refused)),
        };
        let now = crate::tenant::now()?;
        let tenant = customer.clone();
        let status = crate::tenant::with_env("dashboard", move |env| async move {
            let offline_after = crate::tenant::config()?.downtime.threshold;
            let db = crate::tenant::db(&env)?;
            store::status::status(&db, &tenant, &period, now, offline_after).await
        })
        .await?;
        Ok(Ok(StatusView {
            customer_id: customer.id().to_owned(),
            customer_name: customer.name().to_owned(),
            period: shown,
            by_tier: status.by_tier,
            by_function: status.by_function,
            problem: status.problem,
            appliances: status
                .appliances
                .into_iter()
                .map(|a| Card {
                    id: a.id,
                    name: a.name,
                    status: a.status,
                    last_seen: a.last_seen_at,
                    detections: a.detections,
                })
                .collect(),
        }))
    }
}

/// `/` for a customer admin, `/customers/{id}` for staff.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let place = Place::from_route();
    let query = PeriodQuery::current();
    let customer = place.customer();
    let data = Resource::new_blocking(
        move || (customer.clone(), query()),
        |(customer, period)| dashboard(customer, period),
    );
    let shown_place = place.clone();
    view! {
        <Title text="ダッシュボード" />
        <PortalNav place=place.clone() current="" />
        <h1>"セキュリティステータス"</h1>
        {crate::signin::loaded(data, move |answer| {
            let place = shown_place.clone();
            match answer {
                Ok(d) => view! { <DashboardBody d place /> }.into_any(),
                Err(r) => view! { <PeriodRefused r action=place.href("") /> }.into_any(),
            }
        })}
    }
}

/// A refused period: the message, and the picker to choose again.
#[component]
pub fn PeriodRefused(r: Refused, action: String) -> impl IntoView {
    view! {
        <p class="error" role="alert">{r.message}</p>
        <PeriodPicker action shown=None earliest=r.earliest today=r.today />
    }
}

#[component]
fn DashboardBody(d: StatusView, place: Place) -> impl IntoView {
    let q = d.period.query();
    let alerts = format!("{}?{q}", place.href("alerts"));
    let banner = if d.problem {
        view! {
            <div class="banner problem" role="status">
                <p class="headline">"ご利用の環境で問題が見つかりました"</p>
                <p>
                    "対応が必要な検知（★★★・★★☆・調査中）があります。「問題を確認」から内容と対応方法をご確認ください。"
                </p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <div class="banner ok" role="status">
                <p class="headline">"問題は見つかりませんでした"</p>
                <p>"この期間に、対応が必要な検知はありません。"</p>
            </div>
        }
        .into_any()
    };
    let total: u64 = d.by_tier.iter().map(|(_, n)| n).sum();
    let tiers = d
        .by_tier
        .iter()
        .map(|(tier, n)| {
            let href = format!("{alerts}&severity={}", tier.as_str());
            view! {
                <li class=format!("tier tier-{}", tier.as_str())>
                    <a href=href>
                        <span class="stars">{tier.stars()}</span>
                        <span class="count">{format!("{n}件")}</span>
                    </a>
                </li>
            }
        })
        .collect_view();
    let functions = if d.by_function.is_empty() {
        view! { <p class="empty">"この期間の検知はありません。"</p> }.into_any()
    } else {
        let alerts = alerts.clone();
        let rows = d
            .by_function
            .clone()
            .into_iter()
            .map(move |(f, n)| {
                let href = format!("{alerts}&function={}", f.as_str());
                view! {
                    <li>
                        <a href=href>{domain::wording::function(f)}</a>
                        <span class="count">{format!("{n}件")}</span>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="by-function">{rows}</ul> }.into_any()
    };
    view! {
        <p class="company" data-customer-id=d.customer_id.clone()>
            {d.customer_name.clone()}
        </p>
        <PeriodPicker
            action=place.href("")
            shown=Some(d.period.clone())
            earliest=d.period.earliest.clone()
            today=d.period.today.clone()
        />
        {banner}
        <p class="actions">
            <a class="button" href=alerts.clone()>
                "詳細を確認"
            </a>
            <a class="button primary" href=place.href("problems")>
                "問題を確認"
            </a>
        </p>
        <section aria-labelledby="by-tier">
            <h2 id="by-tier">{format!("検知件数（合計 {total}件）")}</h2>
            <ul class="tiers">{tiers}</ul>
            <h3>"機能別"</h3>
            {functions}
        </section>
        <Appliances cards=d.appliances place=place.clone() />
        <section aria-labelledby="compare">
            <h2 id="compare">"比べる"</h2>
            <p class="actions">
                <a class="button" href=place.href("compare/peers")>
                    "参加企業平均と比べる"
                </a>
                <a class="button" href=place.href("compare/appliances")>
                    "自社UTM同士を比べる"
                </a>
            </p>
        </section>
    }
}

#[component]
fn Appliances(cards: Vec<Card>, place: Place) -> impl IntoView {
    if cards.is_empty() {
        return view! {
            <section class="no-appliance" aria-labelledby="utm">
                <h2 id="utm">"UTM装置がまだ登録されていません"</h2>
                <p>
                    "お届けしたUTM装置を設置し、同梱の「サービス利用開始ガイド」に沿って初期設定を行ってください。初期設定が終わると、UTM装置からの情報がこの画面に表示されるようになります。"
                </p>
                <p>
                    "UTM装置が届いていない、不足品や破損品がある、初期設定がうまくいかない場合は、相談窓口へご連絡ください。"
                </p>
            </section>
        }
        .into_any();
    }
    let list = cards
        .into_iter()
        .map(move |c| {
            let status_class = match c.status {
                Status::Online => "status online",
                Status::Offline => "status offline",
            };
            let last = c
                .last_seen
                .map_or("記録なし".to_owned(), domain::jst::format_minute);
            view! {
                <li class="card" data-device-id=c.id.clone()>
                    <h3>
                        <a href=place.href(&format!("appliances/{}", c.id))>{c.name}</a>
                    </h3>
                    <p class="id">"ID: " <code>{c.id.clone()}</code></p>
                    <p>
                        <span class=status_class>{c.status.label()}</span>
                    </p>
                    <p class="last">"最終通信: " {last}</p>
                    <p class="count">{format!("検知 {}件", c.detections)}</p>
                </li>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="utm">
            <h2 id="utm">"UTM装置"</h2>
            <ul class="cards">{list}</ul>
        </section>
    }
    .into_any()
}
