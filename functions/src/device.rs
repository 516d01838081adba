//! The device API of api-v1. Enrollment exchanges a single-use code for a device token
//! (`store::devices::enroll`); only the token's hash is kept, and enrolling again (a
//! replacement appliance) revokes every earlier token of that device id. Whether the code
//! and the appliance may enroll is `domain::admission`'s rule.

use axum::Extension;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::admission::{Refusal, redeem};
use domain::enrollment::{self, REPORT_INTERVAL_S, parse_enroll};
use serde_json::json;
use store::devices::Details;
use worker::Env;

use crate::auth::require_json;
use crate::error::AppError;
use crate::secret::{random, sha256_hex};

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> AppError {
        match r {
            Refusal::Unknown => AppError::Unauthenticated,
            Refusal::ContractEnded => AppError::ContractEnded,
            Refusal::Disabled => AppError::DeviceDisabled,
        }
    }
}

/// `POST /api/v1/device/enroll` → 201 `{"device_token", "report_interval_s"}`.
/// A wrong, used or expired code, or one issued for another device id, is 401. Attempts
/// are counted per device id and per address first (`rate::enroll`, 429 over either).
#[worker::send]
pub async fn enroll(
    Extension(env): Extension<Env>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    require_json(&headers)?;
    let request = parse_enroll(&body)?;
    let db = crate::store(&env)?;
    let code_hash = sha256_hex(&enrollment::normalize(&request.code));
    let now = Utc::now();
    let address = crate::web::origin(&headers).ip;
    let rates = crate::config::get(&env).rates;
    crate::rate::enroll(&db, &rates, &request.device_id, address.as_deref(), now).await?;
    let (code, standing) = store::devices::enrollment_code(&db, &code_hash, &request.device_id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    redeem(code, standing, now)?;

    let token = enrollment::device_token(random::<32>()?);
    let token_hash = sha256_hex(&token);
    let details = Details {
        model: request.model.as_deref(),
        firmware: request.firmware.as_deref(),
    };
    let won = store::devices::enroll(
        &db,
        &code_hash,
        &token_hash,
        &request.device_id,
        &details,
        now,
    )
    .await?;
    if !won {
        return Err(AppError::Unauthenticated);
    }
    let body = json!({ "device_token": token, "report_interval_s": REPORT_INTERVAL_S });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}
