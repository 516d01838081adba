//! `POST /api/v1/admin/incidents/{incident_id}/investigation` (operator): records what an
//! investigation found, changes the incident's tier when asked (a severity change with
//! who, when and why), and mails the customer the investigation report — the record, the
//! tier and the queued mail in one batch (`store::reviews`); then the mail is handed to
//! `delivery` (retried by the sweep if that fails).

use axum::Extension;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::mail::investigation_result;
use domain::review::parse_review;
use serde_json::json;
use store::mails::{Kind, Outgoing};
use store::reviews::Review;
use worker::Env;

use crate::auth::{api_caller, require_json};
use crate::delivery::{self, new_mail_id};
use crate::error::AppError;

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
    let db = crate::store(&env)?;
    let incident = store::incidents::visible(&db, caller.access(), i64::from(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let now = Utc::now();
    let old = incident.severity;
    let new = review.severity.unwrap_or(old);
    let config = crate::config::get(&env);
    let mail = Outgoing {
        id: new_mail_id()?,
        owner: incident.owner.clone(),
        kind: Kind::Investigation,
        mail: investigation_result(
            &incident.company,
            &incident.line,
            &review.finding,
            review.severity,
            &config.mail.portal,
        ),
    };
    let record = Review {
        finding: &review.finding,
        reviewer: review.by.as_str(),
        new,
    };
    store::reviews::record(&db, &incident, &record, &mail, now).await?;
    delivery::send(&env, &db, &mail.id, now).await?;
    let body = json!({
        "incident_id": id,
        "severity": new.as_str(),
        "previous_severity": old.as_str(),
        "mail_id": mail.id,
    });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}
