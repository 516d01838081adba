//! 自社UTM同士を比べる (`/compare/appliances`, staff: `/customers/{id}/compare/appliances`),
//! seed §4.4 (3): the company's appliances side by side for the period — detections per
//! day (a server-rendered chart with its table), per ★ tier and per function, the online
//! share (`domain::availability`) and the connected clients with the guideline's warning
//! (`domain::clients`). No threshold: every figure is the company's own.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::dashboard::PeriodRefused;
use crate::figures::ChartFigure;
use crate::nav::PortalNav;
use crate::period::{PeriodPicker, PeriodQuery, Refused, ShownPeriod};
use crate::place::Place;

/// One appliance's column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub id: String,
    pub name: String,
    pub detections: u64,
    /// `(★★★, 3)`, every tier.
    pub tiers: Vec<(String, u64)>,
    /// `(ウイルス対策, 3)`, the functions that saw any.
    pub functions: Vec<(String, u64)>,
    /// `98%`, or 「—」 before it was registered.
    pub online: String,
    pub clients: Option<i64>,
    pub clients_warning: bool,
    pub per_day: Vec<u64>,
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliancesView {
    pub customer_name: String,
    pub period: ShownPeriod,
    /// `11/25`, one per day.
    pub days: Vec<String>,
    pub columns: Vec<Column>,
    /// The per-day chart, an `<svg>` element (empty without appliances).
    pub chart: String,
}

/// The appliances of `customer` (staff) or of the caller's company (`None`) side by side.
#[server(prefix = "/_app", endpoint = "compare_appliances")]
pub async fn compare_appliances(
    #[server(default)] customer: Option<String>,
    #[server(default)] period: PeriodQuery,
) -> Result<Result<AppliancesView, Refused>, ServerFnError> {
    server::compare_appliances(customer, period).await
}

#[cfg(feature = "ssr")]
mod server {
    use leptos::prelude::*;

    use super::{AppliancesView, Column};
    use crate::period::{PeriodQuery, Refused};

    pub async fn compare_appliances(
        requested: Option<String>,
        query: PeriodQuery,
    ) -> Result<Result<AppliancesView, Refused>, ServerFnError> {
        let (_, customer) = crate::tenant::page_customer(requested).await?;
        let (period, shown) = match crate::period::server::read(&query)? {
            Ok(p) => p,
            Err(refused) => return Ok(Err(refused)),
        };
        let now = crate::tenant::now()?;
        let tenant = customer.clone();
        let figures = crate::tenant::with_env("compare appliances", move |env| async move {
            let db = crate::tenant::db(&env)?;
            store::appliance_figures::figures(&db, &tenant, &period, now).await
        })
        .await?;
        let days: Vec<String> = period
            .each_day()
            .iter()
            .map(|d| d.format("%m/%d").to_string())
            .collect();
        let columns: Vec<Column> = figures
            .into_iter()
            .map(|f| Column {
                detections: f.detections(),
                tiers: f
                    .by_tier
                    .iter()
                    .map(|(t, n)| (t.stars().to_owned(), *n))
                    .collect(),
                functions: f
                    .by_function
                    .iter()
                    .map(|(g, n)| (domain::wording::function(*g).to_owned(), *n))
                    .collect(),
                online: f.online_percent.map_or("—".to_owned(), |p| format!("{p}%")),
                clients_warning: domain::clients::over_guideline(f.clients),
                clients: f.clients,
                per_day: f.days.iter().map(|(_, n)| *n).collect(),
                id: f.id,
                name: f.name,
            })
            .collect();
        let chart = if columns.is_empty() {
            String::new()
        } else {
            chart::render(&chart::Chart {
                id: "appliances-per-day".into(),
                title: "UTM装置ごとの1日の検知件数".into(),
                description: format!(
                    "{} のUTM装置ごとの1日の検知件数。{}",
                    shown.label,
                    columns
                        .iter()
                        .map(|c| format!("{}は合計{}件", c.name, c.detections))
                        .collect::<Vec<_>>()
                        .join("、")
                ),
                unit: "件".into(),
                labels: days.clone(),
                series: columns
                    .iter()
                    .map(|c| chart::Series {
                        name: c.name.clone(),
                        values: c.per_day.iter().map(|n| *n as f64).collect(),
                        mark: chart::Mark::Line,
                    })
                    .collect(),
            })
        };
        Ok(Ok(AppliancesView {
            customer_name: customer.name().to_owned(),
            period: shown,
            days,
            columns,
            chart,
        }))
    }
}

/// `/compare/appliances` (staff: `/customers/{id}/compare/appliances`).
#[component]
pub fn AppliancesComparePage() -> impl IntoView {
    let place = Place::from_route();
    let query = PeriodQuery::current();
    let customer = place.customer();
    let data = Resource::new_blocking(
        move || (customer.clone(), query()),
        |(customer, period)| compare_appliances(customer, period),
    );
    let shown_place = place.clone();
    view! {
        <Title text="自社UTM同士を比べる" />
        <PortalNav place=place.clone() current="compare/appliances" />
        <h1>"自社UTM同士を比べる"</h1>
        {crate::signin::loaded(data, move |answer| {
            let place = shown_place.clone();
            match answer {
                Ok(d) => view! { <Body d place /> }.into_any(),
                Err(r) => {
                    view! { <PeriodRefused r action=place.href("compare/appliances") /> }
                        .into_any()
                }
            }
        })}
    }
}

#[component]
fn Body(d: AppliancesView, place: Place) -> impl IntoView {
    let picker = view! {
        <p class="company">{d.customer_name.clone()}</p>
        <PeriodPicker
            action=place.href("compare/appliances")
            shown=Some(d.period.clone())
            earliest=d.period.earliest.clone()
            today=d.period.today.clone()
        />
    };
    if d.columns.is_empty() {
        return view! {
            {picker}
            <p class="empty">
                "UTM装置がまだ登録されていません。UTM装置の初期設定が終わると、ここで装置どうしを比べられます。"
            </p>
        }
        .into_any();
    }
    let head = std::iter::once("日付".to_owned())
        .chain(d.columns.iter().map(|c| c.name.clone()))
        .collect();
    let rows = d
        .days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let cells = d
                .columns
                .iter()
                .map(|c| c.per_day.get(i).copied().unwrap_or(0).to_string())
                .collect();
            (day.clone(), cells)
        })
        .collect();
    let cards = d
        .columns
        .into_iter()
        .map(|c| view! { <ApplianceCard c place=place.clone() /> })
        .collect_view();
    view! {
        {picker}
        <section aria-labelledby="per-appliance">
            <h2 id="per-appliance">"UTM装置ごとの状況"</h2>
            <ul class="cards compare">{cards}</ul>
        </section>
        <section aria-labelledby="per-day">
            <h2 id="per-day">"1日ごとの検知件数"</h2>
            <ChartFigure svg=d.chart head rows />
        </section>
    }
    .into_any()
}

#[component]
fn ApplianceCard(c: Column, place: Place) -> impl IntoView {
    let tiers = c
        .tiers
        .into_iter()
        .map(|(stars, n)| {
            view! {
                <div>
                    <dt>{stars}</dt>
                    <dd>{format!("{n}件")}</dd>
                </div>
            }
        })
        .collect_view();
    let functions = if c.functions.is_empty() {
        view! { <p class="empty">"この期間の検知はありません。"</p> }.into_any()
    } else {
        let rows = c
            .functions
            .into_iter()
            .map(|(f, n)| {
                view! {
                    <li>
                        <span>{f}</span>
                        <span class="count">{format!("{n}件")}</span>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="by-function">{rows}</ul> }.into_any()
    };
    let clients = c
        .clients
        .map_or("記録なし".to_owned(), |n| format!("{n}台"));
    let warning = c
        .clients_warning
        .then(|| view! { <p class="warning">{domain::clients::WARNING}</p> });
    view! {
        <li class="card" data-device-id=c.id.clone()>
            <h3>
                <a href=place.href(&format!("appliances/{}", c.id))>{c.name}</a>
            </h3>
            <p class="id">"ID: " <code>{c.id.clone()}</code></p>
            <dl class="figures-list">
                <div>
                    <dt>"検知"</dt>
                    <dd>{format!("{}件", c.detections)}</dd>
                </div>
                {tiers}
                <div>
                    <dt>"稼働率"</dt>
                    <dd>{c.online}</dd>
                </div>
                <div>
                    <dt>"接続端末"</dt>
                    <dd>{clients}</dd>
                </div>
            </dl>
            {warning}
            <h4>"機能別"</h4>
            {functions}
        </li>
    }
}
