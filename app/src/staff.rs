//! Pages for the operator's and resellers' staff: the customers they look after (a
//! reseller sees only its own), and the operator's audit log, a page at a time: 次へ
//! leads to the older entries (`?cursor=`, as `GET /api/v1/admin/audit` pages).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::signin::loaded;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSummary {
    pub id: String,
    pub name: String,
}

/// The customers visible to the signed-in staff member, by name.
#[server(prefix = "/_app", endpoint = "customers")]
pub async fn customers() -> Result<Vec<CustomerSummary>, ServerFnError> {
    server::customers().await
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Asia/Tokyo, to the second.
    pub at: String,
    pub event: String,
    pub login_id: Option<String>,
    pub token_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

/// A page of the audit log and where the next (older) one starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPageData {
    pub entries: Vec<AuditEntry>,
    pub next: Option<String>,
}

/// A page of audit entries, newest first, from `cursor` (the newest without one; operator
/// only, anyone else gets 404).
#[server(prefix = "/_app", endpoint = "audit")]
pub async fn audit_entries(cursor: Option<String>) -> Result<AuditPageData, ServerFnError> {
    server::audit(cursor).await
}

/// The staff's home: お客様一覧 (`crate::roster`).
#[component]
pub fn CustomersList() -> impl IntoView {
    view! {
        <Title text="お客様一覧" />
        <h1>"お客様一覧"</h1>
        <crate::roster::Roster />
    }
}

/// `/admin/customers`: the same list, where the search form leads.
#[component]
pub fn CustomersPage() -> impl IntoView {
    view! { <CustomersList /> }
}

/// What an audit event is, in Japanese (`domain::signin::AuditEvent`); an event this
/// build does not know is shown as stored.
fn event_label(event: &str) -> &str {
    domain::signin::AuditEvent::parse(event).map_or(event, |e| e.label())
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let entries = Resource::new_blocking(move || query.with(|q| q.get("cursor")), audit_entries);
    view! {
        <Title text="監査ログ" />
        <h1>"監査ログ"</h1>
        {loaded(entries, |page| {
            let AuditPageData { entries: list, next } = page;
            let next = next.map(|c| format!("/admin/audit?cursor={c}"));
            view! {
                <table class="audit">
                    <thead>
                        <tr>
                            <th scope="col">"日時"</th>
                            <th scope="col">"できごと"</th>
                            <th scope="col">"ユーザID"</th>
                            <th scope="col">"IPアドレス"</th>
                            <th scope="col">"ブラウザ"</th>
                            <th scope="col">"詳細"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {list
                            .into_iter()
                            .map(|e| {
                                view! {
                                    <tr data-event=e.event.clone()>
                                        <td data-label="日時">{e.at}</td>
                                        <td data-label="できごと">{event_label(&e.event).to_owned()}</td>
                                        <td data-label="ユーザID">{e.login_id.or(e.token_id)}</td>
                                        <td data-label="IPアドレス">{e.ip}</td>
                                        <td data-label="ブラウザ" class="ua">{e.user_agent}</td>
                                        <td data-label="詳細">{e.detail}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
                {next
                    .map(|href| {
                        view! {
                            <nav class="pager">
                                <a href=href rel="next" data-next-page="">"次へ（古い記録）"</a>
                            </nav>
                        }
                    })}
            }
        })}
    }
}

#[cfg(feature = "ssr")]
mod server {
    use leptos::prelude::*;

    use super::{AuditEntry, AuditPageData, CustomerSummary};

    /// The entries one audit page shows.
    const PER_PAGE: u32 = 100;
    use crate::tenant::{db, not_found, signed_in, with_env};

    pub async fn customers() -> Result<Vec<CustomerSummary>, ServerFnError> {
        let (caller, _) = signed_in()?;
        let list = with_env("customers", |env| async move {
            store::access::customers(&db(&env)?, caller.access()).await
        })
        .await?;
        Ok(list
            .into_iter()
            .map(|c| CustomerSummary {
                id: c.id().to_owned(),
                name: c.name().to_owned(),
            })
            .collect())
    }

    pub async fn audit(cursor: Option<String>) -> Result<AuditPageData, ServerFnError> {
        let (caller, _) = signed_in()?;
        let Some(operator) = caller.access().operator() else {
            return Err(not_found());
        };
        let page = store::audit::Page {
            filter: store::audit::Filter::default(),
            // A cursor no page gave starts from the newest entries.
            before: cursor.as_deref().and_then(store::audit::Cursor::parse),
            limit: PER_PAGE,
        };
        let read = with_env("audit log", |env| async move {
            store::audit::page(&db(&env)?, &operator, &page).await
        })
        .await?;
        let entries = read
            .entries
            .into_iter()
            .map(|r| AuditEntry {
                at: domain::jst::format_second(r.at),
                event: r.event,
                login_id: r.login_id,
                token_id: r.token_id,
                ip: r.ip,
                user_agent: r.user_agent,
                detail: r.detail,
            })
            .collect();
        Ok(AuditPageData {
            entries,
            next: read.next.map(|c| c.token()),
        })
    }
}
