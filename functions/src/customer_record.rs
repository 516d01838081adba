//! A customer's record over the operator API (api-v1 "Customers over their lifetime"):
//! `GET /api/v1/admin/customers/{id}` reads it, `PATCH` changes the fields of §7.6
//! (`domain::profile`), storing the new values, one history row per changed field and an
//! audit entry with old and new values in one batch. A customer outside the token's scope
//! is a 404, as one that does not exist.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use domain::offline;
use domain::profile::{FieldChange, parse_patch};
use domain::signin::AuditEvent;
use serde_json::{Value, json};
use store::profile::{By, Record};
use worker::Env;

use crate::audit::Entry;
use crate::auth::{api_caller, require_json};
use crate::error::AppError;

const ROUTE: &str = "/api/v1/admin/customers/{id}";

/// The record as api-v1 writes it, judged at `now` (online/offline).
pub fn record_json(
    id: &str,
    r: &Record,
    now: DateTime<Utc>,
    threshold: chrono::TimeDelta,
) -> Value {
    let p = &r.profile;
    let devices: Vec<Value> = r
        .devices
        .iter()
        .map(|d| {
            let status = if d.disabled {
                "disabled"
            } else if d.last_seen_at.is_none() {
                "never_seen"
            } else {
                match offline::status(d.last_seen_at, now, threshold) {
                    offline::Status::Online => "online",
                    offline::Status::Offline => "offline",
                }
            };
            json!({
                "device_id": d.id,
                "name": d.name,
                "status": status,
                "last_seen_at": d.last_seen_at.map(domain::jst::rfc3339),
            })
        })
        .collect();
    json!({
        "customer_id": id,
        "name": p.name,
        "reseller_id": r.reseller_id,
        "service_start": r.service_start.to_string(),
        "paid_from": r.paid_from.map(|d| d.to_string()),
        "status": if r.contract_ended_at.is_some() { "ended" } else { "active" },
        "contact": {
            "name": p.contact.name,
            "department": p.contact.department,
            "title": p.contact.title,
            "email": p.contact.email,
            "phone": p.contact.phone,
        },
        "address": p.address,
        "alert_recipients": p.alert_recipients,
        "devices": devices,
    })
}

/// What the audit entry says of `changes`: each field, old → new.
pub fn audit_detail(changes: &[FieldChange]) -> String {
    changes
        .iter()
        .map(|c| format!("{}: {} → {}", c.field.key(), c.old, c.new))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `GET /api/v1/admin/customers/{id}` → 200, the record.
#[worker::send]
pub async fn get(
    Extension(env): Extension<Env>,
    Path(customer_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let caller = api_caller(&headers, &env, &Method::GET, ROUTE).await?;
    let db = crate::store(&env)?;
    let tenant = store::access::customer(&db, caller.access(), &customer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let record = store::profile::read(&db, &tenant).await?;
    let threshold = crate::config::get(&env).downtime.threshold;
    let now = crate::clock::now(&env).await;
    Ok(axum::Json(record_json(tenant.id(), &record, now, threshold)).into_response())
}

/// `PATCH /api/v1/admin/customers/{id}` → 200, the record as changed.
#[worker::send]
pub async fn patch(
    Extension(env): Extension<Env>,
    Path(customer_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let caller = api_caller(&headers, &env, &Method::PATCH, ROUTE).await?;
    require_json(&headers)?;
    let change = parse_patch(&body)?;
    let db = crate::store(&env)?;
    let tenant = store::access::customer(&db, caller.access(), &customer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if tenant.contract_ended() {
        return Err(AppError::ContractEnded);
    }
    let now = crate::clock::now(&env).await;
    let current = store::profile::read(&db, &tenant).await?;
    let (next, changes) = change.apply(&current.profile);
    let mut batch =
        store::profile::change_queries(&tenant, &next, &changes, By::Token(&caller.token_id), now);
    if !batch.is_empty() {
        let entry = Entry {
            token_id: Some(&caller.token_id),
            origin: Some(&caller.origin),
            scope: Some(caller.scope()),
            detail: Some(format!("{}: {}", tenant.id(), audit_detail(&changes))),
            ..Entry::of(AuditEvent::CustomerChanged)
        };
        batch.push(store::audit::insert(&entry, now));
        db.batch(batch).await?;
    }
    let record = Record {
        profile: next,
        ..current
    };
    let threshold = crate::config::get(&env).downtime.threshold;
    Ok(axum::Json(record_json(tenant.id(), &record, now, threshold)).into_response())
}
