//! インターネット利用状況 (`/usage`, staff: `/customers/{id}/usage`), seed §4.2: the web
//! categories and applications the company's network used in the period — the top names
//! by hits and by bytes for the whole company, per appliance and for the busiest internal
//! hosts (`store::usage`) — with the note that these are recorded, not blocked.

use domain::report::UsageKind;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::dashboard::PeriodRefused;
use crate::nav::PortalNav;
use crate::period::{PeriodPicker, PeriodQuery, Refused, ShownPeriod};
use crate::place::Place;

/// One name's use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    pub name: String,
    pub hits: u64,
    pub bytes: u64,
}

/// The top names of one kind, by hits and by bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Ranked {
    pub by_hits: Vec<Named>,
    pub by_bytes: Vec<Named>,
}

/// The top categories and applications of one scope.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tops {
    pub categories: Ranked,
    pub applications: Ranked,
}

/// A scope with its tops: an appliance or an internal host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scoped {
    /// The appliance's name, or the host.
    pub title: String,
    /// The appliance's id, or the host's totals as text.
    pub detail: String,
    pub tops: Tops,
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageView {
    pub customer_name: String,
    pub period: ShownPeriod,
    pub company: Tops,
    pub appliances: Vec<Scoped>,
    pub hosts: Vec<Scoped>,
}

/// The usage of `customer` (staff) or of the caller's company (`None`) in `period`.
#[server(prefix = "/_app", endpoint = "usage")]
pub async fn usage(
    #[server(default)] customer: Option<String>,
    #[server(default)] period: PeriodQuery,
) -> Result<Result<UsageView, Refused>, ServerFnError> {
    server::usage(customer, period).await
}

/// A byte count as people read it: `850 B`, `12.3 KB`, `4.5 MB`, `1.2 GB` (1 KB = 1,024 B).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(feature = "ssr")]
mod server {
    use leptos::prelude::*;

    use super::{Named, Ranked, Scoped, Tops, UsageView, bytes};
    use crate::period::{PeriodQuery, Refused};

    pub async fn usage(
        requested: Option<String>,
        query: PeriodQuery,
    ) -> Result<Result<UsageView, Refused>, ServerFnError> {
        let (_, customer) = crate::tenant::page_customer(requested).await?;
        let (period, shown) = match crate::period::server::read(&query)? {
            Ok(p) => p,
            Err(refused) => return Ok(Err(refused)),
        };
        let tenant = customer.clone();
        let u = crate::tenant::with_env("usage", move |env| async move {
            store::usage::usage(&crate::tenant::db(&env)?, &tenant, &period).await
        })
        .await?;
        Ok(Ok(UsageView {
            customer_name: customer.name().to_owned(),
            period: shown,
            company: tops(u.company),
            appliances: u
                .appliances
                .into_iter()
                .map(|a| Scoped {
                    title: a.name,
                    detail: format!("機器ID {}", a.id),
                    tops: tops(a.tops),
                })
                .collect(),
            hosts: u
                .hosts
                .into_iter()
                .map(|h| Scoped {
                    title: if h.host.is_empty() {
                        "端末不明".to_owned()
                    } else {
                        h.host
                    },
                    detail: format!("{}回・{}", h.hits, bytes(h.bytes)),
                    tops: tops(h.tops),
                })
                .collect(),
        }))
    }

    fn tops(t: store::usage::Tops) -> Tops {
        Tops {
            categories: ranked(t.categories),
            applications: ranked(t.applications),
        }
    }

    fn ranked(r: store::usage::Ranked) -> Ranked {
        let named = |v: Vec<store::usage::Named>| {
            v.into_iter()
                .map(|n| Named {
                    name: n.name,
                    hits: n.hits,
                    bytes: n.bytes,
                })
                .collect()
        };
        Ranked {
            by_hits: named(r.by_hits),
            by_bytes: named(r.by_bytes),
        }
    }
}

/// `/usage` (staff: `/customers/{id}/usage`).
#[component]
pub fn UsagePage() -> impl IntoView {
    let place = Place::from_route();
    let query = PeriodQuery::current();
    let customer = place.customer();
    let data = Resource::new_blocking(
        move || (customer.clone(), query()),
        |(customer, period)| usage(customer, period),
    );
    let shown_place = place.clone();
    view! {
        <Title text="インターネット利用状況" />
        <PortalNav place=place.clone() current="usage" />
        <h1>"インターネット利用状況"</h1>
        {crate::signin::loaded(data, move |answer| {
            let place = shown_place.clone();
            match answer {
                Ok(d) => view! { <UsageBody d place /> }.into_any(),
                Err(r) => view! { <PeriodRefused r action=place.href("usage") /> }.into_any(),
            }
        })}
    }
}

#[component]
fn UsageBody(d: UsageView, place: Place) -> impl IntoView {
    let appliances = d
        .appliances
        .into_iter()
        .map(|s| view! { <ScopeTops s /> })
        .collect_view();
    let hosts = if d.hosts.is_empty() {
        view! { <p class="empty">"この期間の端末ごとの記録はありません。"</p> }.into_any()
    } else {
        d.hosts
            .into_iter()
            .map(|s| view! { <ScopeTops s /> })
            .collect_view()
            .into_any()
    };
    view! {
        <p class="company">{d.customer_name}</p>
        <PeriodPicker
            action=place.href("usage")
            shown=Some(d.period.clone())
            earliest=d.period.earliest.clone()
            today=d.period.today.clone()
        />
        <p class="notice">
            "ここに表示しているのは、UTM装置が記録した利用状況です。表示されているサイトやアプリケーションが遮断されたわけではありません。"
        </p>
        <section aria-labelledby="company">
            <h2 id="company">"会社全体"</h2>
            <TopsView tops=d.company />
        </section>
        <section aria-labelledby="per-appliance">
            <h2 id="per-appliance">"UTM装置ごと"</h2>
            {appliances}
        </section>
        <section aria-labelledby="per-host">
            <h2 id="per-host">"利用の多い端末"</h2>
            {hosts}
        </section>
    }
}

#[component]
fn ScopeTops(s: Scoped) -> impl IntoView {
    view! {
        <details class="scope">
            <summary>
                <strong>{s.title}</strong>
                " "
                <span class="meta">{s.detail}</span>
            </summary>
            <TopsView tops=s.tops />
        </details>
    }
}

#[component]
fn TopsView(tops: Tops) -> impl IntoView {
    let empty = tops.categories.by_hits.is_empty() && tops.applications.by_hits.is_empty();
    if empty {
        return view! { <p class="empty">"この期間の記録はありません。"</p> }.into_any();
    }
    view! {
        <div class="tops">
            <RankedView kind=UsageKind::WebCategory ranked=tops.categories />
            <RankedView kind=UsageKind::Application ranked=tops.applications />
        </div>
    }
    .into_any()
}

#[component]
fn RankedView(kind: UsageKind, ranked: Ranked) -> impl IntoView {
    let word = domain::wording::usage_kind(kind);
    let list = |names: Vec<Named>, by_bytes: bool| {
        if names.is_empty() {
            return view! { <p class="empty">"記録なし"</p> }.into_any();
        }
        let items = names
            .into_iter()
            .map(move |n| {
                let figure = if by_bytes {
                    bytes(n.bytes)
                } else {
                    format!("{}回", n.hits)
                };
                view! {
                    <li>
                        <span class="name">{n.name}</span>
                        <span class="count">{figure}</span>
                    </li>
                }
            })
            .collect_view();
        view! { <ol class="ranking">{items}</ol> }.into_any()
    };
    view! {
        <div class="ranked">
            <h3>{format!("{word}（アクセス回数の多い順）")}</h3>
            {list(ranked.by_hits, false)}
            <h3>{format!("{word}（通信量の多い順）")}</h3>
            {list(ranked.by_bytes, true)}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::bytes;

    #[test]
    fn byte_counts_read_as_people_read_them() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.0 KB");
        assert_eq!(bytes(1_500_000), "1.4 MB");
        assert_eq!(bytes(5 * 1024 * 1024 * 1024), "5.0 GB");
        assert_eq!(bytes(u64::MAX), "16384.0 PB");
    }
}
