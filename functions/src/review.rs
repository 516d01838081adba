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
use domain::mail::{Mail, investigation_result};
use domain::review::parse_review;
use domain::severity::RuleSet;
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::Env;

use crate::auth::{operator, require_json};
use crate::d1::named;
use crate::error::AppError;
use crate::notify::{self, MailApi, ms, new_mail_id, severity_of};

#[worker::send]
pub async fn record(
    Extension(env): Extension<Env>,
    Path(incident_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    operator(&headers, &env)?;
    require_json(&headers)?;
    let review = parse_review(&body)?;
    let id: u32 = incident_id.parse().map_err(|_| AppError::NotFound)?;
    let db = env.d1("DB")?;
    let incident = notify::incident(&db, f64::from(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let now = Utc::now();
    let old = severity_of(incident.severity_rank);
    let new = review.severity.unwrap_or(old);
    let line = incident.line(&RuleSet::v1());
    let api = MailApi::from_env(&env);
    let Mail {
        subject,
        text,
        html,
    } = investigation_result(
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
        JsValue::from(incident.customer_id.as_str()),
        JsValue::from(subject.as_str()),
        JsValue::from(text.as_str()),
        JsValue::from(html.as_str()),
    ];
    let names = [
        "incident", "finding", "old", "new", "by", "mail", "now", "customer", "subject", "text",
        "html",
    ];
    let args: Vec<(&str, &JsValue)> = names.iter().copied().zip(values.iter()).collect();
    db.batch(vec![
        named(&db, "UPDATE incidents SET severity_rank = :new WHERE id = :incident", &args)?,
        named(
            &db,
            "INSERT INTO incident_reviews (incident_id, finding, old_rank, new_rank, reviewer, \
               mail_id, created_at) VALUES (:incident, :finding, :old, :new, :by, :mail, :now)",
            &args,
        )?,
        named(
            &db,
            "INSERT INTO mails (id, customer_id, kind, recipients, subject, text, html, status, \
               attempts, next_attempt_at, created_at) \
             SELECT :mail, :customer, 'investigation', \
               (SELECT json_group_array(email) FROM \
                 (SELECT email FROM alert_recipients WHERE customer_id = :customer ORDER BY position)), \
               :subject, :text, :html, 'queued', 0, :now, :now",
            &args,
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
