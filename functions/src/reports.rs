//! `POST /api/v1/device/reports`: load the device behind the token (remembered for a
//! minute, `device_cache`), decide (admission, rate limit, parse into `domain` types, lay
//! out rows, incident timing), store the whole report in one batch (`store::reports`: one
//! transaction, idempotent by the random batch number drawn here, checking that the token
//! is still valid as it runs), and mail ★★★ at once.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use domain::admission::admit;
use domain::enrollment;
use domain::incident::timing;
use domain::ingest::Rows;
use domain::ratelimit;
use domain::report::{ReportError, parse_report};
use domain::severity::{RuleSet, Severity};
use serde_json::json;
use store::reports::Ingest;
use worker::{Context, Env};

use crate::auth::{bearer, require_json};
use crate::config;
use crate::device_cache::{self, Known};
use crate::error::AppError;
use crate::notify;
use crate::secret::{random, sha256_hex};

/// The device a token (by its hash) belongs to: 401 for a token that is unknown or
/// revoked, 403 when the device is disabled or its customer's contract has ended.
async fn load_device(
    db: &store::Db,
    token_hash: &str,
) -> Result<store::devices::ByToken, AppError> {
    let device = store::devices::by_token(db, token_hash)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    admit(device.standing)?;
    Ok(device)
}

/// The device of a token: from this isolate's memory when loaded in the last minute.
async fn device(db: &store::Db, token_hash: &str, now: DateTime<Utc>) -> Result<Known, AppError> {
    if let Some(known) = device_cache::get(token_hash, now) {
        return Ok(known);
    }
    let d = load_device(db, token_hash).await?;
    let known = Known::new(d.reporter, d.bucket, now);
    device_cache::put(token_hash, known.clone());
    Ok(known)
}

impl From<ReportError> for AppError {
    fn from(e: ReportError) -> AppError {
        match e {
            ReportError::InvalidJson => AppError::InvalidJson,
            ReportError::InvalidField(f) => AppError::InvalidField {
                path: f.path,
                message: f.message,
            },
            ReportError::TooManyEvents(_) => AppError::PayloadTooLarge,
        }
    }
}

/// `POST /api/v1/device/reports` → 202 `{"report_id", "accepted", "duplicates"}`.
#[worker::send]
pub async fn post(
    Extension(env): Extension<Env>,
    Extension(ctx): Extension<Arc<Context>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let now = Utc::now();
    let db = crate::store(&env)?;
    let token = bearer(&headers)?;
    if !enrollment::is_device_token(token) {
        return Err(AppError::Unauthenticated);
    }
    let token_hash = sha256_hex(token);
    let device = device(&db, &token_hash, now).await?;
    require_json(&headers)?;
    let config = config::get(&env);
    let bucket = ratelimit::take(config.ingest.limit, device.bucket, now)
        .map_err(|retry_after_s| AppError::RateLimited { retry_after_s })?;
    device_cache::set_bucket(&token_hash, bucket);
    let report = parse_report(&body, now)?;
    let rules = RuleSet::current();
    let rows = Rows::rated(&report, &rules);
    let ingest = Ingest {
        token_hash: &token_hash,
        report: &report,
        rows: &rows,
        // 52 bits: exact in a JS number.
        batch: (u64::from_le_bytes(random::<8>()?) >> 12) as i64,
        bucket,
        rules_version: rules.version,
        timing: timing(&config.alerts, now),
        now,
    };
    let stored = store::reports::store(&db, &device.reporter, &ingest).await?;
    if !stored.report {
        // A re-sent report, or a token revoked (device disabled, contract ended) since this
        // isolate remembered it: ask the database which, so the latter gets its 401/403.
        device_cache::forget(&token_hash);
        load_device(&db, &token_hash).await?;
    }
    if stored.report && rows.most_urgent == Some(Severity::High) {
        // ★★★ is mailed now, not at the next cron tick; the device need not wait for it.
        let (env, owner) = (env.clone(), device.reporter.owner());
        ctx.wait_until(async move {
            if let Err(e) = notify::flush_customer(&env, &owner, Utc::now()).await {
                worker::console_error!("mailing the ★★★ alert of {}: {e:?}", owner.id());
            }
        });
    }
    let body = json!({
        "report_id": report.report_id,
        "accepted": stored.accepted,
        "duplicates": report.events.len() - stored.accepted,
    });
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}
