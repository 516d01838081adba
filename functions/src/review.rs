//! `POST /api/v1/admin/incidents/{incident_id}/investigation` (operator): records what an
//! investigation found, changes the incident's tier when asked (a severity change with
//! who, when and why), and mails the customer the investigation report — the record, the
//! tier and the queued mail in one batch; then the mail is handed to the mail API
//! (retried by the sweep if that fails).

use axum::Extension;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::mail::investigation_result;
use domain::review::parse_review;
use domain::severity::Severity;
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::Env;

use crate::auth::{api_caller, require_json};
use crate::d1::{ms, named};
use crate::error::AppError;
use crate::notify::{self, new_mail_id};

#[worker::send]
pub async fn record(
    Extension(env): Extension<Env>,
    Path(incident_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let caller = api_caller(
        &headers,
        &env,
        &axum::http::Method::POST,
        "/api/v1/admin/incidents/{id}/investigation",
    )
    .await?;
    crate::auth::operator(&caller)?;
    require_json(&headers)?;
    let review = parse_review(&body)?;
    let id: u32 = incident_id.parse().map_err(|_| AppError::NotFound)?;
    let db = env.d1("DB")?;
    let incident = notify::incident(&db, f64::from(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let now = Utc::now();
    let old = Severity::from_rank(incident.severity_rank as u8);
    let new = review.severity.unwrap_or(old);
    let line = incident.line();
    let api = crate::config::get(&env).mail.clone();
    let mail = investigation_result(
        &incident.company,
        &line,
        &review.finding,
        review.severity,
        &api.portal,
    );
    let mail_id = new_mail_id()?;
    let values = [
        JsValue::from(f64::from(id)),
        JsValue::from(review.finding.as_str()),
        JsValue::from(f64::from(old as u8)),
        JsValue::from(f64::from(new as u8)),
        JsValue::from(review.by.as_str()),
        JsValue::from(mail_id.as_str()),
        ms(now),
    ];
    let names = ["incident", "finding", "old", "new", "by", "mail", "now"];
    let args: Vec<(&str, &JsValue)> = names.into_iter().zip(values.iter()).collect();
    db.batch(vec![
        named(
            &db,
            "UPDATE incidents SET severity_rank = :new WHERE id = :incident",
            &args,
        )?,
        named(
            &db,
            "INSERT INTO incident_reviews (incident_id, finding, old_rank, new_rank, reviewer, \
               mail_id, created_at) VALUES (:incident, :finding, :old, :new, :by, :mail, :now)",
            &args,
        )?,
        notify::queue(
            &db,
            &mail_id,
            &incident.customer_id,
            "investigation",
            &mail,
            now,
        )?,
    ])
    .await?;
    notify::send(&env, &db, &mail_id, now).await?;
    let body = json!({
        "incident_id": id,
        "severity": new.as_str(),
        "previous_severity": old.as_str(),
        "mail_id": mail_id,
    });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}
