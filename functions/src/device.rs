//! The device API of api-v1. Enrollment exchanges a single-use code for a device token;
//! only the token's hash is kept, and enrolling again (a replacement appliance) revokes
//! every earlier token of that device id.

use axum::Extension;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::enrollment::{self, REPORT_INTERVAL_S, parse_enroll};
use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::Env;

use crate::auth::require_json;
use crate::d1::changes;
use crate::error::AppError;
use crate::secret::{random, sha256_hex};

#[derive(Deserialize)]
struct CodeRow {
    expires_at: f64,
    used_at: Option<f64>,
    disabled: f64,
    contract_ended_at: Option<f64>,
}

/// `POST /api/v1/device/enroll` → 201 `{"device_token", "report_interval_s"}`.
/// A wrong, used or expired code, or one issued for another device id, is 401.
#[worker::send]
pub async fn enroll(
    Extension(env): Extension<Env>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    require_json(&headers)?;
    let request = parse_enroll(&body)?;
    let db = env.d1("DB")?;
    let code_hash = sha256_hex(&enrollment::normalize(&request.code));
    let device_id = request.device_id.as_str();
    let now = Utc::now().timestamp_millis() as f64;

    let code = db
        .prepare(
            "SELECT ec.expires_at, ec.used_at, d.disabled, c.contract_ended_at \
             FROM enrollment_codes ec \
             JOIN devices d ON d.id = ec.device_id \
             JOIN customers c ON c.id = d.customer_id \
             WHERE ec.code_hash = ?1 AND ec.device_id = ?2",
        )
        .bind(&[code_hash.as_str().into(), device_id.into()])?
        .first::<CodeRow>(None)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if code.used_at.is_some() || code.expires_at <= now {
        return Err(AppError::Unauthenticated);
    }
    if code.contract_ended_at.is_some() {
        return Err(AppError::ContractEnded);
    }
    if code.disabled != 0.0 {
        return Err(AppError::DeviceDisabled);
    }

    let token = enrollment::device_token(random::<32>()?);
    let token_hash = sha256_hex(&token);
    let optional = |v: &Option<String>| v.as_deref().map_or(JsValue::NULL, JsValue::from);
    // One transaction. The first statement claims the code; every later one only acts if
    // this request's token is the one that claimed it, so two appliances racing with the
    // same code cannot both get a token.
    let claimed = "EXISTS (SELECT 1 FROM enrollment_codes WHERE code_hash = ?1 AND used_by = ?2)";
    let args: [JsValue; 4] = [
        code_hash.as_str().into(),
        token_hash.as_str().into(),
        now.into(),
        device_id.into(),
    ];
    let with_details = [
        args.as_slice(),
        &[optional(&request.model), optional(&request.firmware)],
    ]
    .concat();
    let results = db
        .batch(vec![
            db.prepare(
                "UPDATE enrollment_codes SET used_at = ?3, used_by = ?2 \
                 WHERE code_hash = ?1 AND device_id = ?4 AND used_at IS NULL",
            )
            .bind(&args)?,
            db.prepare(format!(
                "UPDATE device_tokens SET revoked_at = ?3 \
                 WHERE device_id = ?4 AND revoked_at IS NULL AND {claimed}"
            ))
            .bind(&args)?,
            db.prepare(format!(
                "INSERT INTO device_tokens (token_hash, device_id, issued_at) \
                 SELECT ?2, ?4, ?3 WHERE {claimed}"
            ))
            .bind(&args)?,
            db.prepare(format!(
                "UPDATE devices SET model = coalesce(?5, model), firmware = coalesce(?6, firmware) \
                 WHERE id = ?4 AND {claimed}"
            ))
            .bind(&with_details)?,
        ])
        .await?;
    let won = changes(results.first());
    if won == 0 {
        return Err(AppError::Unauthenticated);
    }
    let body = json!({ "device_token": token, "report_interval_s": REPORT_INTERVAL_S });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}
