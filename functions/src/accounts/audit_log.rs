//! `GET /api/v1/admin/audit`: the operator reads the audit log newest first, optionally
//! of one customer or account, a page of at most `MAX_LIMIT` entries at a time; an answer
//! with more to come carries `next_cursor`, which `?cursor=` continues from (keyset, so
//! an entry is read once however the log grows meanwhile).

use axum::Extension;
use axum::extract::Query;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use worker::Env;

use crate::auth::api_caller;
use crate::error::AppError;

/// Entries per page unless `limit` says otherwise, and the most a page holds.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 500;

#[derive(Deserialize)]
pub struct AuditQuery {
    limit: Option<String>,
    cursor: Option<String>,
    customer_id: Option<String>,
    account_id: Option<String>,
}

/// `GET /api/v1/admin/audit?limit=&cursor=&customer_id=&account_id=` → 200
/// `{"entries": […], "next_cursor": "…" | null}`, newest first (operator only).
#[worker::send]
pub async fn audit_log(
    Extension(env): Extension<Env>,
    Query(q): Query<AuditQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let caller = api_caller(&headers, &env, &Method::GET, "/api/v1/admin/audit").await?;
    let operator = caller.access().operator().ok_or(AppError::Forbidden)?;
    let db = crate::store(&env)?;
    let limit = match q.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(l) => l.parse::<u32>().map_err(|_| AppError::InvalidField {
            path: "limit".into(),
            message: "must be a whole number from 1 to 500".into(),
        })?,
    }
    .clamp(1, MAX_LIMIT);
    let before = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            store::audit::Cursor::parse(c).ok_or_else(|| AppError::InvalidField {
                path: "cursor".into(),
                message: "must be a next_cursor of an earlier answer".into(),
            })?,
        ),
    };
    let page = store::audit::Page {
        filter: store::audit::Filter {
            customer: q.customer_id.as_deref(),
            account: q.account_id.as_deref(),
        },
        before,
        limit,
    };
    let read = store::audit::page(&db, &operator, &page).await?;
    let entries: Vec<_> = read
        .entries
        .into_iter()
        .map(|r| {
            json!({
                "at": domain::jst::rfc3339(r.at),
                "event": r.event,
                "account_id": r.account_id,
                "customer_id": r.customer_id,
                "reseller_id": r.reseller_id,
                "token_id": r.token_id,
                "login_id": r.login_id,
                "ip": r.ip,
                "user_agent": r.user_agent,
                "detail": r.detail,
            })
        })
        .collect();
    let next_cursor = read.next.map(|c| c.token());
    Ok(axum::Json(json!({ "entries": entries, "next_cursor": next_cursor })).into_response())
}
