//! 機器一覧: the customer's appliances with their last report time and whether they are
//! online. The list is complete in the server's HTML; after hydration the
//! "オンラインのみ" box narrows it in place, and without JavaScript the same box submits
//! the form (`?online=1`) and the server narrows it.

use chrono::{DateTime, Utc};
use domain::offline::{ListFilter, Status};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// One appliance as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appliance {
    pub id: String,
    pub name: String,
    pub last_seen: Option<DateTime<Utc>>,
    pub status: Status,
}

/// A customer's appliances, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerAppliances {
    pub customer_id: String,
    pub customer_name: String,
    pub appliances: Vec<Appliance>,
}

/// The appliances of `customer` (staff), or of the caller's own company (a customer
/// admin, `None`). A customer outside the caller's scope is a 404 (see `tenant`).
#[server(prefix = "/_app", endpoint = "appliances")]
pub async fn list_appliances(
    customer: Option<String>,
) -> Result<CustomerAppliances, ServerFnError> {
    server::list(customer).await
}

/// `/appliances` (staff: `/customers/{id}/appliances`).
#[component]
pub fn AppliancesPage() -> impl IntoView {
    let place = crate::place::Place::from_route();
    let customer = place.customer();
    let initial = use_query_map().with_untracked(|q| match q.get_str("online") {
        Some("1") => ListFilter::OnlineOnly,
        _ => ListFilter::All,
    });
    let action = place.href("appliances");
    let appliances = Resource::new_blocking(move || customer.clone(), list_appliances);

    view! {
        <Title text="機器一覧" />
        <crate::nav::PortalNav place current="appliances" />
        <h1>"機器一覧"</h1>
        <Suspense fallback=|| view! { <p>"読み込み中…"</p> }>
            {move || {
                let action = action.clone();
                Suspend::new(async move {
                    match appliances.await {
                        Ok(found) => {
                            view! {
                                <p class="company" data-customer-id=found.customer_id>
                                    {found.customer_name}
                                </p>
                                <FilteredAppliances list=found.appliances initial action />
                            }
                                .into_any()
                        }
                        Err(_) => {
                            view! {
                                <p class="error" role="alert">
                                    "機器一覧を読み込めませんでした。しばらくしてから再読み込みしてください。"
                                </p>
                            }
                                .into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}

/// The "オンラインのみ" box and the list it narrows: the page's one island.
#[island]
fn FilteredAppliances(list: Vec<Appliance>, initial: ListFilter, action: String) -> impl IntoView {
    let filter = RwSignal::new(initial);
    // Effects run only in the browser: once this is true the box filters by itself and
    // the submit button that serves no-JavaScript visitors is hidden.
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    view! {
        <form class="filter" method="get" action=action>
            <label>
                <input
                    type="checkbox"
                    name="online"
                    value="1"
                    checked=move || filter.get() == ListFilter::OnlineOnly
                    on:change=move |ev| {
                        filter
                            .set(
                                if event_target_checked(&ev) {
                                    ListFilter::OnlineOnly
                                } else {
                                    ListFilter::All
                                },
                            )
                    }
                />
                "オンラインのみ"
            </label>
            <button type="submit" hidden=move || hydrated.get()>
                "絞り込む"
            </button>
        </form>
        <ApplianceList list filter />
    }
}

#[component]
fn ApplianceList(list: Vec<Appliance>, filter: RwSignal<ListFilter>) -> impl IntoView {
    let total = list.len();
    let online = list.iter().filter(|a| a.status == Status::Online).count();
    let list = StoredValue::new(list);
    let visible = move || {
        let filter = filter.get();
        list.with_value(|l| {
            l.iter()
                .filter(|a| filter.shows(a.status))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let empty_message = move || match (total, filter.get()) {
        (0, _) => "登録されている機器はありません。",
        (_, ListFilter::OnlineOnly) => "オンラインの機器はありません。",
        (_, ListFilter::All) => "",
    };

    view! {
        <p class="summary">{format!("{total}台中 {online}台がオンラインです。")}</p>
        <table class="appliances">
            <thead>
                <tr>
                    <th scope="col">"名前"</th>
                    <th scope="col">"機器ID"</th>
                    <th scope="col">"最終通信"</th>
                    <th scope="col">"状態"</th>
                </tr>
            </thead>
            <tbody>
                <For each=visible key=|a| a.id.clone() let:appliance>
                    <ApplianceRow appliance />
                </For>
            </tbody>
        </table>
        <p class="empty" hidden=move || !visible().is_empty()>
            {empty_message}
        </p>
    }
}

#[component]
fn ApplianceRow(appliance: Appliance) -> impl IntoView {
    let status_class = match appliance.status {
        Status::Online => "status online",
        Status::Offline => "status offline",
    };
    let last_seen = appliance.last_seen.map(|t| {
        view! { <time datetime=domain::jst::rfc3339(t)>{domain::jst::format_minute(t)}</time> }
    });
    let id = appliance.id.clone();
    view! {
        <tr data-device-id=id>
            <td data-label="名前">{appliance.name}</td>
            <td data-label="機器ID">
                <code>{appliance.id}</code>
            </td>
            <td data-label="最終通信">{last_seen.map(IntoAny::into_any).unwrap_or_else(|| "記録なし".into_any())}</td>
            <td data-label="状態">
                <span class=status_class>{appliance.status.label()}</span>
            </td>
        </tr>
    }
}

#[cfg(feature = "ssr")]
mod server {
    //! The store's reads for this page. The customer comes from `tenant::page_customer`,
    //! which has checked that the caller may see it; オンライン/オフライン uses the same
    //! threshold as the cron's offline check (`config.downtime.threshold`).

    use domain::offline::status;
    use leptos::prelude::*;

    use super::{Appliance, CustomerAppliances};

    pub async fn list(requested: Option<String>) -> Result<CustomerAppliances, ServerFnError> {
        let (_, customer) = crate::tenant::page_customer(requested).await?;
        let tenant = customer.clone();
        let (rows, threshold) = crate::tenant::with_env("list appliances", |env| async move {
            let threshold = crate::tenant::config()?.downtime.threshold;
            let rows = store::devices::list(&crate::tenant::db(&env)?, &tenant).await?;
            Ok((rows, threshold))
        })
        .await?;
        let now = crate::tenant::now()?;
        let appliances = rows
            .into_iter()
            .map(|r| Appliance {
                status: status(r.last_seen_at, now, threshold),
                id: r.id,
                name: r.name,
                last_seen: r.last_seen_at,
            })
            .collect();
        Ok(CustomerAppliances {
            customer_id: customer.id().to_owned(),
            customer_name: customer.name().to_owned(),
            appliances,
        })
    }
}
