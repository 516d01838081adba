//! お客様一覧 for staff: the customers they look after (the operator all, a reseller's
//! staff their own), searched by a part of the name or the id (`?q=`, a GET form), each
//! with its reseller, contract state, appliances online and offline and open ★★★, linked
//! to its お客様情報. At most [`SHOWN`] rows; the page says how many matched.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::signin::loaded;

/// Rows one page shows.
pub const SHOWN: u32 = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterRow {
    pub id: String,
    pub name: String,
    pub reseller: Option<String>,
    pub status: String,
    pub online: u32,
    pub offline: u32,
    pub open_high: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterView {
    pub q: String,
    pub rows: Vec<RosterRow>,
    pub matched: u32,
    /// Whether the caller is the operator (the reseller column shows).
    pub operator: bool,
}

/// The customers the signed-in staff member sees whose name contains `q` or whose id it is.
#[server(prefix = "/_app", endpoint = "roster")]
pub async fn roster(#[server(default)] q: Option<String>) -> Result<RosterView, ServerFnError> {
    server::roster(q.unwrap_or_default()).await
}

#[cfg(feature = "ssr")]
mod server {
    use leptos::prelude::*;

    use super::{RosterRow, RosterView, SHOWN};
    use crate::tenant::{db, not_found, now, signed_in, with_env};

    pub async fn roster(q: String) -> Result<RosterView, ServerFnError> {
        let (caller, _) = signed_in()?;
        if caller.scope().own_customer().is_some() {
            return Err(not_found());
        }
        let threshold = crate::tenant::config()
            .map(|c| c.downtime.threshold)
            .map_err(|e| ServerFnError::new(e.to_string()))?;
        let before = domain::offline::offline_before(now()?, threshold);
        let access = caller.access().clone();
        let operator = access.operator().is_some();
        // A search longer than any name finds nothing; cut it rather than refuse it.
        let q: String = q.trim().chars().take(100).collect();
        let asked = q.clone();
        let found = with_env("roster", move |env| async move {
            store::roster::find(&db(&env)?, &access, &asked, before, SHOWN).await
        })
        .await?;
        Ok(RosterView {
            q,
            matched: found.matched,
            operator,
            rows: found
                .customers
                .into_iter()
                .map(|c| RosterRow {
                    status: if c.contract_ended_at.is_some() {
                        "契約終了".to_owned()
                    } else {
                        "ご利用中".to_owned()
                    },
                    reseller: c.reseller_name.or(c.reseller_id),
                    id: c.id,
                    name: c.name,
                    online: c.online,
                    offline: c.offline,
                    open_high: c.open_high,
                })
                .collect(),
        })
    }
}

#[component]
pub fn Roster() -> impl IntoView {
    let query = use_query_map();
    let list = Resource::new_blocking(move || query.with(|q| q.get("q")), roster);
    view! {
        {loaded(list, |v| view! { <RosterBody v /> }.into_any())}
    }
}

#[component]
fn RosterBody(v: RosterView) -> impl IntoView {
    let summary = if v.q.is_empty() {
        format!("{}社", v.matched)
    } else {
        format!("「{}」に一致: {}社", v.q, v.matched)
    };
    let more = (v.matched as usize > v.rows.len()).then(|| {
        view! {
            <p class="hint">
                {format!("先頭の{}社を表示しています。会社名で絞り込んでください。", v.rows.len())}
            </p>
        }
    });
    let empty = v.rows.is_empty().then(|| {
        let text = if v.q.is_empty() {
            "担当しているお客様はまだありません。"
        } else {
            "一致するお客様はありません。"
        };
        view! { <p class="empty">{text}</p> }
    });
    let operator = v.operator;
    let rows = v
        .rows
        .into_iter()
        .map(|c| {
            let href = format!("/admin/customers/{}", c.id);
            let high = if c.open_high > 0 {
                format!("★★★ {}件", c.open_high)
            } else {
                "なし".to_owned()
            };
            view! {
                <tr data-customer-id=c.id.clone()>
                    <td data-label="会社名"><a href=href>{c.name}</a></td>
                    {operator.then(|| view! {
                        <td data-label="販売店">{c.reseller.unwrap_or_else(|| "直接契約".to_owned())}</td>
                    })}
                    <td data-label="契約">{c.status}</td>
                    <td data-label="UTM装置">{format!("オンライン {}・オフライン {}", c.online, c.offline)}</td>
                    <td data-label="未対応の重要アラート">{high}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <form class="filter" method="get" action="/admin/customers" role="search">
            <label for="q">"会社名・お客様IDで検索"</label>
            <input id="q" name="q" type="search" value=v.q maxlength="100" />
            <button type="submit">"検索"</button>
        </form>
        <p>{summary}</p>
        {more}
        {empty}
        <table class="audit roster">
            <thead>
                <tr>
                    <th scope="col">"会社名"</th>
                    {operator.then(|| view! { <th scope="col">"販売店"</th> })}
                    <th scope="col">"契約"</th>
                    <th scope="col">"UTM装置"</th>
                    <th scope="col">"未対応の重要アラート"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
