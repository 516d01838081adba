//! 検知履歴 (`/alerts`, staff: `/customers/{id}/alerts`): every detection of the kept days,
//! newest first, a page of [`PAGE_ROWS`] at a time (keyset: `?after=` is the cursor of the
//! previous page's last row; `store::alerts`), for the period and the filters of the URL
//! (`domain::alert_filter`: ★, function, appliance, internal host, action). A repeat is
//! one row with its count. Each row leads to `/alerts/{id}`. The filters are a GET form:
//! without JavaScript the browser submits it, after hydration it navigates in place.

use chrono::{DateTime, Utc};
use domain::report::{Action, Function};
use domain::severity::Severity;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::alert_filter::{FilterQuery, Filters};
use crate::dashboard::PeriodRefused;
use crate::nav::PortalNav;
use crate::period::{PeriodPicker, PeriodQuery, Refused, ShownPeriod, urlencode};
use crate::place::Place;

/// Rows per page.
pub const PAGE_ROWS: u32 = 50;

/// One row of the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub id: i64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub count: i64,
    pub severity: Severity,
    pub function: Function,
    pub action: Action,
    pub appliance: String,
    pub host: String,
    pub name: String,
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsView {
    pub customer_name: String,
    pub period: ShownPeriod,
    /// The filters as given (shown back in the form).
    pub filter: FilterQuery,
    /// The customer's appliances (id, name), for the filter's choices.
    pub devices: Vec<(String, String)>,
    pub rows: Vec<Row>,
    /// The next page's cursor, when there is one.
    pub next: Option<String>,
}

/// A page of `customer`'s (staff) or the caller's company's detections; `Ok(Err(_))` is a
/// refused period or filter (status 400).
#[server(prefix = "/_app", endpoint = "alerts")]
pub async fn alerts(
    #[server(default)] customer: Option<String>,
    #[server(default)] period: PeriodQuery,
    #[server(default)] filter: FilterQuery,
) -> Result<Result<AlertsView, Refused>, ServerFnError> {
    server::alerts(customer, period, filter).await
}

#[cfg(feature = "ssr")]
mod server {
    use domain::alert_filter::{Sent, parse};
    use leptos::prelude::*;
    use store::alerts::{Filter, Start};

    use super::{AlertsView, FilterQuery, PAGE_ROWS, Row};
    use crate::period::{PeriodQuery, Refused};

    pub async fn alerts(
        requested: Option<String>,
        query: PeriodQuery,
        filter: FilterQuery,
    ) -> Result<Result<AlertsView, Refused>, ServerFnError> {
        let (_, customer) = crate::tenant::page_customer(requested).await?;
        let (period, shown) = match crate::period::server::read(&query)? {
            Ok(p) => p,
            Err(refused) => return Ok(Err(refused)),
        };
        let chosen = match parse(Sent {
            severity: filter.severity.as_deref(),
            function: filter.function.as_deref(),
            action: filter.action.as_deref(),
            device: filter.device.as_deref(),
            host: filter.host.as_deref(),
            after: filter.after.as_deref(),
        }) {
            Ok(c) => c,
            Err(e) => {
                crate::tenant::status(400);
                return Ok(Err(Refused {
                    message: e.to_string(),
                    earliest: shown.earliest,
                    today: shown.today,
                }));
            }
        };
        let start = chosen.after.map_or(Start::Newest, Start::After);
        let store_filter = Filter {
            period,
            severity: chosen.severity,
            function: chosen.function,
            device: chosen.device,
            host: chosen.host,
            action: chosen.action,
        };
        let tenant = customer.clone();
        let (devices, page) = crate::tenant::with_env("alerts", move |env| async move {
            let db = crate::tenant::db(&env)?;
            let devices = store::devices::list(&db, &tenant).await?;
            let page = store::alerts::page(&db, &tenant, &store_filter, start, PAGE_ROWS).await?;
            Ok((devices, page))
        })
        .await?;
        Ok(Ok(AlertsView {
            customer_name: customer.name().to_owned(),
            period: shown,
            filter,
            devices: devices.into_iter().map(|d| (d.id, d.name)).collect(),
            rows: page
                .alerts
                .into_iter()
                .map(|a| Row {
                    id: a.id,
                    first_at: a.first_at,
                    last_at: a.last_at,
                    count: a.count,
                    severity: a.severity,
                    function: a.function,
                    action: a.action,
                    appliance: a.appliance,
                    host: a.host,
                    name: a.name,
                })
                .collect(),
            next: page.next.map(|c| c.to_param()),
        }))
    }
}

/// `/alerts` (staff: `/customers/{id}/alerts`).
#[component]
pub fn AlertsPage() -> impl IntoView {
    let place = Place::from_route();
    let period = PeriodQuery::current();
    let filter = FilterQuery::current();
    let customer = place.customer();
    let data = Resource::new_blocking(
        move || (customer.clone(), period(), filter()),
        |(customer, period, filter)| alerts(customer, period, filter),
    );
    let shown_place = place.clone();
    view! {
        <Title text="検知履歴" />
        <PortalNav place=place.clone() current="alerts" />
        <h1>"検知履歴"</h1>
        {crate::signin::loaded(data, move |answer| {
            let place = shown_place.clone();
            match answer {
                Ok(d) => view! { <AlertsBody d place /> }.into_any(),
                Err(r) => view! { <PeriodRefused r action=place.href("alerts") /> }.into_any(),
            }
        })}
    }
}

#[component]
fn AlertsBody(d: AlertsView, place: Place) -> impl IntoView {
    let action = place.href("alerts");
    // The period and the filters, without the page: what the pager's links keep.
    let here = format!("{action}?{}", d.filter.query_with(&d.period));
    let next = d.next.clone().map(|after| {
        let href = format!("{here}&after={}", urlencode(&after));
        view! {
            <a class="button" href=href rel="next">
                "次の50件"
            </a>
        }
    });
    let first = d.filter.after.as_ref().filter(|a| !a.is_empty()).map(|_| {
        view! {
            <a class="button" href=here.clone()>
                "最新の検知へ戻る"
            </a>
        }
    });
    let rows = if d.rows.is_empty() {
        view! { <p class="empty">"条件に合う検知はありません。"</p> }.into_any()
    } else {
        let place = place.clone();
        let items = d
            .rows
            .into_iter()
            .map(move |r| view! { <AlertRow r place=place.clone() /> })
            .collect_view();
        view! { <ul class="alert-list">{items}</ul> }.into_any()
    };
    view! {
        <p class="company">{d.customer_name}</p>
        <PeriodPicker
            action=action.clone()
            shown=Some(d.period.clone())
            earliest=d.period.earliest.clone()
            today=d.period.today.clone()
            keep=d.filter.kept()
        />
        <Filters action filter=d.filter.clone() period=d.period.clone() devices=d.devices />
        {rows}
        <p class="pager">{first} {next}</p>
    }
}

#[component]
fn AlertRow(r: Row, place: Place) -> impl IntoView {
    let tier = r.severity;
    let repeats = (r.count > 1).then(|| {
        view! { <span class="repeats">{format!("{}回", r.count)}</span> }
    });
    let host = if r.host.is_empty() {
        "端末不明".to_owned()
    } else {
        r.host.clone()
    };
    view! {
        <li class=format!("alert tier-{}", tier.as_str()) data-alert-id=r.id.to_string()>
            <a href=place.href(&format!("alerts/{}", r.id))>
                <span class="stars">{tier.stars()}</span>
                <span class="name">{r.name}</span>
                {repeats}
            </a>
            <p class="meta">
                <time datetime=domain::jst::rfc3339(r.last_at)>
                    {domain::jst::format_minute(r.last_at)}
                </time>
                " ・ " {domain::wording::function(r.function)} " ・ "
                {domain::wording::action(r.action)} " ・ " {r.appliance} " ・ " {host}
            </p>
        </li>
    }
}
