//! `GET /api/v1/admin/audit`: the operator reads the audit log newest first, optionally
//! of one customer or account, at most 1000 entries at a time.

use axum::Extension;
use axum::extract::Query;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use worker::Env;

use crate::auth::api_caller;
use crate::error::AppError;

#[derive(Deserialize)]
pub struct AuditQuery {
    limit: Option<String>,
    customer_id: Option<String>,
    account_id: Option<String>,
}

/// `GET /api/v1/admin/audit?limit=&customer_id=&account_id=` → 200 `{"entries": […]}`,
/// newest first (operator only).
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
        None => 100,
        Some(l) => l.parse::<u32>().map_err(|_| AppError::InvalidField {
            path: "limit".into(),
            message: "must be a whole number from 1 to 1000".into(),
        })?,
    }
    .clamp(1, 1000);
    let page = store::audit::Page {
        filter: store::audit::Filter {
            customer: q.customer_id.as_deref(),
            account: q.account_id.as_deref(),
        },
        before: None,
        limit,
    };
    let entries: Vec<_> = store::audit::page(&db, &operator, &page)
        .await?
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
    Ok(axum::Json(json!({ "entries": entries })).into_response())
}
