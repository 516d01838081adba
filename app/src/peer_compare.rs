//! 参加企業平均と比べる (`/compare/peers`, staff: `/customers/{id}/compare/peers`), seed
//! §4.4 (3): the company's detections per day and per function beside the average of the
//! other participating companies, where it stands (`domain::peers::Band`) and what that
//! means; withheld while too few companies take part (`PEER_MIN_COMPANIES`). The figures
//! come from the cron's per-day aggregates (`store::peers`); the chart is server-rendered
//! SVG (`chart`) with the same figures in a table.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::dashboard::PeriodRefused;
use crate::figures::{ChartFigure, FiguresTable};
use crate::nav::PortalNav;
use crate::period::{PeriodPicker, PeriodQuery, Refused, ShownPeriod};
use crate::place::Place;

/// One day: the company's detections and the others' average (as text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigures {
    /// `11/25`.
    pub day: String,
    pub own: u64,
    pub average: String,
}

/// One function over the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionFigures {
    pub function: String,
    pub own: u64,
    pub average: u64,
}

/// The comparison, when it may be shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shown {
    pub band: String,
    pub advice: String,
    pub own: u64,
    pub average: u64,
    /// 「10社以上」.
    pub companies: String,
    pub days: Vec<DayFigures>,
    pub functions: Vec<FunctionFigures>,
    /// The per-day chart, an `<svg>` element.
    pub chart: String,
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeersView {
    pub customer_name: String,
    pub period: ShownPeriod,
    /// `None`: withheld (too few companies).
    pub shown: Option<Shown>,
}

/// The comparison of `customer` (staff) or of the caller's company (`None`) for `period`.
#[server(prefix = "/_app", endpoint = "compare_peers")]
pub async fn compare_peers(
    #[server(default)] customer: Option<String>,
    #[server(default)] period: PeriodQuery,
) -> Result<Result<PeersView, Refused>, ServerFnError> {
    server::compare_peers(customer, period).await
}

#[cfg(feature = "ssr")]
mod server {
    use domain::peers::{Comparison, companies_text};
    use leptos::prelude::*;

    use super::{DayFigures, FunctionFigures, PeersView, Shown};
    use crate::period::{PeriodQuery, Refused};

    pub async fn compare_peers(
        requested: Option<String>,
        query: PeriodQuery,
    ) -> Result<Result<PeersView, Refused>, ServerFnError> {
        let (_, customer) = crate::tenant::page_customer(requested).await?;
        let (period, shown_period) = match crate::period::server::read(&query)? {
            Ok(p) => p,
            Err(refused) => return Ok(Err(refused)),
        };
        let tenant = customer.clone();
        let compared = crate::tenant::with_env("compare peers", move |env| async move {
            let min = crate::tenant::config()?.peer_min_companies;
            let db = crate::tenant::db(&env)?;
            store::peers::comparison(&db, &db, &tenant, &period, min).await
        })
        .await?;
        Ok(Ok(PeersView {
            customer_name: customer.name().to_owned(),
            shown: compared.ok().map(|c| shown(&c, &shown_period.label)),
            period: shown_period,
        }))
    }

    fn shown(c: &Comparison, label: &str) -> Shown {
        let days: Vec<DayFigures> = c
            .days
            .iter()
            .map(|d| DayFigures {
                day: d.day.format("%m/%d").to_string(),
                own: d.own,
                average: d.average.text(),
            })
            .collect();
        let chart = chart::render(&chart::Chart {
            id: "peers-per-day".into(),
            title: "1日ごとの検知件数（自社と参加企業平均）".into(),
            description: format!(
                "{label} の1日ごとの検知件数。自社は合計{}件、参加企業平均は合計{}件です。",
                c.own, c.average
            ),
            unit: "件".into(),
            labels: days.iter().map(|d| d.day.clone()).collect(),
            series: vec![
                chart::Series {
                    name: "自社".into(),
                    values: c.days.iter().map(|d| d.own as f64).collect(),
                    mark: chart::Mark::Bars,
                },
                chart::Series {
                    name: "参加企業平均".into(),
                    values: c.days.iter().map(|d| d.average.value()).collect(),
                    mark: chart::Mark::Line,
                },
            ],
        });
        Shown {
            band: c.band.label().to_owned(),
            advice: c.band.advice().to_owned(),
            own: c.own,
            average: c.average,
            companies: companies_text(c.companies),
            days,
            functions: c
                .by_function
                .iter()
                .map(|f| FunctionFigures {
                    function: domain::wording::function(f.function).to_owned(),
                    own: f.own,
                    average: f.average,
                })
                .collect(),
            chart,
        }
    }
}

/// `/compare/peers` (staff: `/customers/{id}/compare/peers`).
#[component]
pub fn PeersPage() -> impl IntoView {
    let place = Place::from_route();
    let query = PeriodQuery::current();
    let customer = place.customer();
    let data = Resource::new_blocking(
        move || (customer.clone(), query()),
        |(customer, period)| compare_peers(customer, period),
    );
    let shown_place = place.clone();
    view! {
        <Title text="参加企業平均と比べる" />
        <PortalNav place=place.clone() current="compare/peers" />
        <h1>"参加企業平均と比べる"</h1>
        {crate::signin::loaded(data, move |answer| {
            let place = shown_place.clone();
            match answer {
                Ok(d) => view! { <PeersBody d place /> }.into_any(),
                Err(r) => {
                    view! { <PeriodRefused r action=place.href("compare/peers") /> }.into_any()
                }
            }
        })}
    }
}

#[component]
fn PeersBody(d: PeersView, place: Place) -> impl IntoView {
    let body = match d.shown {
        None => view! {
            <p class="notice" role="status">{domain::peers::WITHHELD}</p>
            <p>
                "ご利用の企業が増えると表示されます。自社のUTM装置どうしの比較は "
                <a href=place.href("compare/appliances")>"自社UTM同士を比べる"</a>
                " からご覧いただけます。"
            </p>
        }
        .into_any(),
        Some(s) => view! { <ShownBody s /> }.into_any(),
    };
    view! {
        <p class="company">{d.customer_name}</p>
        <PeriodPicker
            action=place.href("compare/peers")
            shown=Some(d.period.clone())
            earliest=d.period.earliest.clone()
            today=d.period.today.clone()
        />
        {body}
        <p class="note">
            "参加企業平均は、表示期間の各日にUTM装置が稼働していた参加企業（自社を除く）1社あたりの検知件数です。個々の企業の件数や最小値・最大値は公開していません。"
        </p>
    }
}

#[component]
fn ShownBody(s: Shown) -> impl IntoView {
    let day_rows = s
        .days
        .into_iter()
        .map(|d| (d.day, vec![d.own.to_string(), d.average]))
        .collect();
    let functions = if s.functions.is_empty() {
        view! { <p class="empty">"この期間の検知はありません。"</p> }.into_any()
    } else {
        let rows = s
            .functions
            .into_iter()
            .map(|f| {
                (
                    f.function,
                    vec![format!("{}件", f.own), format!("{}件", f.average)],
                )
            })
            .collect();
        let head = ["機能", "自社", "参加企業平均"].map(String::from).to_vec();
        view! { <FiguresTable head rows /> }.into_any()
    };
    let day_head = ["日付", "自社（件）", "参加企業平均（件）"]
        .map(String::from)
        .to_vec();
    view! {
        <div class="banner standing" role="status">
            <p class="headline">{s.band}</p>
            <p>{s.advice}</p>
        </div>
        <dl class="totals">
            <div>
                <dt>"自社の検知"</dt>
                <dd>{format!("{}件", s.own)}</dd>
            </div>
            <div>
                <dt>"参加企業平均"</dt>
                <dd>{format!("{}件", s.average)}</dd>
            </div>
            <div>
                <dt>"比べた企業"</dt>
                <dd>{s.companies}</dd>
            </div>
        </dl>
        <section aria-labelledby="per-day">
            <h2 id="per-day">"1日ごとの検知件数"</h2>
            <ChartFigure svg=s.chart head=day_head rows=day_rows />
        </section>
        <section aria-labelledby="per-function">
            <h2 id="per-function">"機能ごとの検知件数（期間の合計）"</h2>
            {functions}
        </section>
    }
}
