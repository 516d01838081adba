//! `GET /__cron?time=<ms since epoch>`: runs the cron sweep as of an injected time, for
//! local development and end-to-end tests ("92 days later" without waiting 92 days).
//! wrangler's own `/__scheduled` always runs at the wall clock, and a sweep at a chosen
//! time could delete live data early, mail false notices or clear lockouts, so the
//! development clock's routes (this one and `/__clock`) answer only when all of these
//! hold (`allowed`): the setting `DEV_CRON_CLOCK` is `1` (`.dev.vars`, never `[vars]`),
//! the request came to a loopback host, and it carries the operator's token. Otherwise
//! they are a plain 404 (401/403 for a missing or other token on loopback).

use axum::Extension;
use axum::extract::Query;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use worker::Env;

use crate::error::AppError;
use crate::sweep;

#[derive(Deserialize)]
pub struct At {
    time: Option<i64>,
}

/// The guard of the development clock's routes (see the module doc); `what` names the
/// route for the audit log.
pub async fn allowed(env: &Env, headers: &HeaderMap, what: &str) -> Result<(), AppError> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !crate::config::get(env).dev_clock || !domain::config::loopback_host(host) {
        return Err(AppError::NotFound);
    }
    let caller = crate::auth::api_caller(headers, env, &Method::GET, what).await?;
    crate::auth::operator(&caller)
}

#[worker::send]
pub async fn run(
    Extension(env): Extension<Env>,
    headers: HeaderMap,
    Query(at): Query<At>,
) -> Result<Response, AppError> {
    allowed(&env, &headers, "/__cron").await?;
    let now = match at.time {
        None => Utc::now(),
        Some(ms) => DateTime::from_timestamp_millis(ms).ok_or(AppError::InvalidField {
            path: "time".into(),
            message: "must be milliseconds since 1970".into(),
        })?,
    };
    let summary = sweep::sweep(&env, now).await?;
    Ok(axum::Json(summary).into_response())
}
