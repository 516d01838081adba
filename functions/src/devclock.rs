//! `GET /__cron?time=<ms since epoch>`: runs the cron sweep as of an injected time, for
//! local development and end-to-end tests ("92 days later" without waiting 92 days).
//! wrangler's own `/__scheduled` always runs at the wall clock, and a sweep at a chosen
//! time could delete live data early, so this route exists only where the setting
//! `DEV_CRON_CLOCK` is `1` (`.dev.vars`); elsewhere it is a plain 404.

use axum::Extension;
use axum::extract::Query;
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

#[worker::send]
pub async fn run(
    Extension(env): Extension<Env>,
    Query(at): Query<At>,
) -> Result<Response, AppError> {
    if !crate::config::get(&env).dev_clock {
        return Err(AppError::NotFound);
    }
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
