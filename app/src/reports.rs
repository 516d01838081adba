//! 月次レポート's list (`/reports`, staff: `/customers/{id}/reports`), seed §4.4 (3): the
//! months that may have a report — every month that overlaps the kept history up to the
//! current one, and the months whose report the cron kept — newest first. One month's
//! page is `report`.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::nav::PortalNav;
use crate::place::Place;

/// A month in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthLink {
    /// `2026-11`.
    pub month: String,
    /// 「2026年11月」.
    pub label: String,
    pub closed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportsView {
    pub customer_name: String,
    pub months: Vec<MonthLink>,
}

/// The months of `customer` (staff) or of the caller's company (`None`), newest first.
#[server(prefix = "/_app", endpoint = "reports")]
pub async fn reports(
    #[server(default)] customer: Option<String>,
) -> Result<ReportsView, ServerFnError> {
    server::reports(customer).await
}

#[cfg(feature = "ssr")]
mod server {
    use leptos::prelude::*;

    use super::{MonthLink, ReportsView};

    pub async fn reports(requested: Option<String>) -> Result<ReportsView, ServerFnError> {
        let (_, customer) = crate::tenant::page_customer(requested).await?;
        let now = crate::tenant::now()?;
        let tenant = customer.clone();
        let kept = crate::tenant::with_env("reports", move |env| async move {
            store::monthly::kept_months(&crate::tenant::db(&env)?, &tenant).await
        })
        .await?;
        let days = crate::tenant::config()
            .map_err(|e| ServerFnError::new(e.to_string()))?
            .retention
            .days;
        Ok(ReportsView {
            customer_name: customer.name().to_owned(),
            months: domain::month::listed(&kept, domain::period::today(now), days)
                .into_iter()
                .map(|m| MonthLink {
                    month: m.text(),
                    label: m.label(),
                    closed: m.closed(now),
                })
                .collect(),
        })
    }
}

/// `/reports` (staff: `/customers/{id}/reports`).
#[component]
pub fn ReportsPage() -> impl IntoView {
    let place = Place::from_route();
    let customer = place.customer();
    let data = Resource::new_blocking(move || customer.clone(), reports);
    let shown = place.clone();
    view! {
        <Title text="月次レポート" />
        <PortalNav place=place.clone() current="reports" />
        <h1>"月次レポート"</h1>
        {crate::signin::loaded(data, move |d| {
            let place = shown.clone();
            let items = d
                .months
                .into_iter()
                .map(|m| {
                    let note = (!m.closed).then_some("（今月・作成中）");
                    view! {
                        <li>
                            <a href=place.href(&format!("reports/{}", m.month))>{m.label}</a>
                            {note}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <p class="company">{d.customer_name}</p>
                <p>
                    "月ごとの検知と稼働の状況をまとめたレポートです。毎月1日に前の月のレポートを作成し、通知メールの宛先にお知らせします。印刷してお手元に残すこともできます。"
                </p>
                <ul class="list months">{items}</ul>
            }
        })}
    }
}
