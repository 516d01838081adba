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
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::dashboard::PeriodRefused;
use crate::get_form::GetForm;
use crate::nav::PortalNav;
use crate::period::{PeriodPicker, PeriodQuery, Refused, ShownPeriod, urlencode};
use crate::place::Place;

/// Rows per page.
pub const PAGE_ROWS: u32 = 50;

/// The list's filters as the URL has them (`None`: not given).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FilterQuery {
    pub severity: Option<String>,
    pub function: Option<String>,
    pub action: Option<String>,
    pub device: Option<String>,
    pub host: Option<String>,
    pub after: Option<String>,
}

impl FilterQuery {
    /// The filters of the current URL (reactive).
    pub fn current() -> impl Fn() -> FilterQuery + Send + Sync + Copy + 'static {
        let q = use_query_map();
        move || {
            q.with(|q| FilterQuery {
                severity: q.get("severity"),
                function: q.get("function"),
                action: q.get("action"),
                device: q.get("device"),
                host: q.get("host"),
                after: q.get("after"),
            })
        }
    }

    /// The filters given, without the page cursor: what every link of the page keeps.
    fn kept(&self) -> Vec<(String, String)> {
        [
            ("severity", &self.severity),
            ("function", &self.function),
            ("action", &self.action),
            ("device", &self.device),
            ("host", &self.host),
        ]
        .into_iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .filter(|v| !v.is_empty())
                .map(|v| (k.to_owned(), v.clone()))
        })
        .collect()
    }
}

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
    let kept = d.filter.kept();
    let period_q = d.period.query();
    let next = d.next.clone().map(|after| {
        let mut q = period_q.clone();
        for (k, v) in &kept {
            q.push_str(&format!("&{k}={}", urlencode(v)));
        }
        let href = format!("{action}?{q}&after={}", urlencode(&after));
        view! {
            <a class="button" href=href rel="next">
                "次の50件"
            </a>
        }
    });
    let first = d.filter.after.as_ref().filter(|a| !a.is_empty()).map(|_| {
        let mut q = period_q.clone();
        for (k, v) in &kept {
            q.push_str(&format!("&{k}={}", urlencode(v)));
        }
        view! {
            <a class="button" href=format!("{action}?{q}")>
                "最新の検知へ戻る"
            </a>
        }
    });
    let rows = if d.rows.is_empty() {
        view! { <p class="empty">"条件に合う検知はありません。"</p> }.into_any()
    } else {
        let place = place.clone();
        let items = crate::keyed::keyed(
            d.rows,
            move |r| view! { <AlertRow r place=place.clone() /> },
        );
        view! { <ul class="alert-list">{items}</ul> }.into_any()
    };
    view! {
        <p class="company">{d.customer_name}</p>
        <PeriodPicker
            action=action.clone()
            shown=Some(d.period.clone())
            earliest=d.period.earliest.clone()
            today=d.period.today.clone()
            keep=kept
        />
        <Filters action filter=d.filter.clone() period=d.period.clone() devices=d.devices />
        {rows}
        <p class="pager">{first} {next}</p>
    }
}

/// The filter form: the period rides along as hidden fields.
#[component]
fn Filters(
    action: String,
    filter: FilterQuery,
    period: ShownPeriod,
    devices: Vec<(String, String)>,
) -> impl IntoView {
    let period_fields = match period.preset {
        Some(days) => {
            view! { <input type="hidden" name="days" value=days.to_string() /> }.into_any()
        }
        None => view! {
            <input type="hidden" name="from" value=period.from.clone() />
            <input type="hidden" name="to" value=period.to.clone() />
        }
        .into_any(),
    };
    let chosen = |v: &Option<String>| v.clone().unwrap_or_default();
    let severity = chosen(&filter.severity);
    let function = chosen(&filter.function);
    let act = chosen(&filter.action);
    let device = chosen(&filter.device);
    let tiers = options(
        Severity::ALL
            .iter()
            .map(|t| (t.as_str().to_owned(), t.stars().to_owned())),
        severity,
    );
    let functions = options(
        Function::ALL.iter().map(|f| {
            (
                f.as_str().to_owned(),
                domain::wording::function(*f).to_owned(),
            )
        }),
        function,
    );
    let actions = options(
        Action::ALL.iter().map(|a| {
            (
                a.as_str().to_owned(),
                domain::wording::action(*a).to_owned(),
            )
        }),
        act,
    );
    let appliances = options(devices.into_iter(), device);
    view! {
        <GetForm action class="filter alert-filter" label="検知の絞り込み">
            {period_fields}
            <label>
                "重要度"
                <select name="severity">
                    <option value="">"すべて"</option>
                    {tiers}
                </select>
            </label>
            <label>
                "機能"
                <select name="function">
                    <option value="">"すべて"</option>
                    {functions}
                </select>
            </label>
            <label>
                "UTM装置の対応"
                <select name="action">
                    <option value="">"すべて"</option>
                    {actions}
                </select>
            </label>
            <label>
                "UTM装置"
                <select name="device">
                    <option value="">"すべて"</option>
                    {appliances}
                </select>
            </label>
            <label>
                "端末（IPまたはMACアドレス）"
                <input
                    type="text"
                    name="host"
                    value=chosen(&filter.host)
                    maxlength="64"
                    inputmode="url"
                    autocomplete="off"
                />
            </label>
            <button type="submit">"絞り込む"</button>
        </GetForm>
    }
}

/// A select's choices (value, text), the one whose value is `chosen` selected.
fn options(choices: impl Iterator<Item = (String, String)>, chosen: String) -> impl IntoView {
    choices
        .map(|(value, text)| {
            let selected = value == chosen;
            view! { <option value=value selected=selected>{text}</option> }
        })
        .collect_view()
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
