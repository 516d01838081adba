//! The time the sign-in handlers decide by: the wall clock, moved by a development-only
//! offset so that end-to-end tests can step past a lockout instead of waiting 15
//! minutes or editing the database. The offset lives in KV under `OFFSET_KEY` and is
//! read only where `DEV_CRON_CLOCK` is `1`, and set (`GET /__clock?offset=<ms>`) under the
//! development clock's guard (`devclock::allowed`: the setting, a loopback host, the
//! operator's token); elsewhere the route is a plain 404 and the clock is the wall clock.

use axum::Extension;
use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use worker::Env;

use crate::error::AppError;

const OFFSET_KEY: &str = "dev:clock_offset_ms";

/// Now, as the sign-in handlers see it.
pub async fn now(env: &Env) -> DateTime<Utc> {
    let wall = Utc::now();
    if !crate::config::get(env).dev_clock {
        return wall;
    }
    let offset = match env.kv("KV") {
        Ok(kv) => kv.get(OFFSET_KEY).text().await.ok().flatten(),
        Err(_) => None,
    };
    let ms = offset.and_then(|o| o.parse::<i64>().ok()).unwrap_or(0);
    wall + TimeDelta::milliseconds(ms)
}

#[derive(Deserialize)]
pub struct Offset {
    offset: Option<String>,
}

/// `GET /__clock?offset=<ms>`: sets the offset (0 puts the clock back); answers the
/// clock's time as milliseconds since the epoch.
#[worker::send]
pub async fn set(
    Extension(env): Extension<Env>,
    headers: axum::http::HeaderMap,
    Query(q): Query<Offset>,
) -> Result<Response, AppError> {
    crate::devclock::allowed(&env, &headers, "/__clock").await?;
    let offset = q
        .offset
        .as_deref()
        .unwrap_or("0")
        .parse::<i64>()
        .map_err(|_| AppError::InvalidField {
            path: "offset".into(),
            message: "must be whole milliseconds".into(),
        })?;
    let stored = async {
        env.kv("KV")?
            .put(OFFSET_KEY, offset.to_string())?
            .execute()
            .await?;
        Ok::<(), worker::Error>(())
    };
    stored.await?;
    let now = now(&env).await;
    Ok(axum::Json(serde_json::json!({ "now": now.timestamp_millis() })).into_response())
}
