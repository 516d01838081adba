//! The operator API of api-v1: sign a customer up, register an appliance and issue its
//! enrollment code. Each handler authenticates, parses the body into `domain` types,
//! decides (a reseller signs up only its own customers; a customer must be in the caller's
//! scope and its contract running), then writes in one batch (`store::customers`,
//! `store::devices`), so a request is stored whole or not at all.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::customer::{parse_new_customer, parse_new_device, signing_reseller};
use domain::enrollment;
use serde_json::json;
use store::devices::{NewCode, Registered};
use worker::Env;

use crate::auth::{api_caller, require_json};
use crate::error::AppError;
use crate::secret::{hex, random, sha256_hex};

/// `POST /api/v1/admin/customers` → 201 `{"customer_id"}`.
#[worker::send]
pub async fn create_customer(
    Extension(env): Extension<Env>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let caller = api_caller(&headers, &env, &Method::POST, "/api/v1/admin/customers").await?;
    require_json(&headers)?;
    let new = parse_new_customer(&body)?;
    let db = crate::store(&env)?;
    let reseller = signing_reseller(caller.scope(), new.reseller_id.clone())
        .map_err(|_| AppError::Forbidden)?;
    if let Some(r) = &reseller {
        crate::accounts::require_reseller(&db, r.as_str()).await?;
    }
    let customer_id = format!("cus_{}", hex(&random::<8>()?));
    store::customers::create(&db, &customer_id, &new, reseller.as_ref(), Utc::now()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "customer_id": customer_id })),
    )
        .into_response())
}

/// `POST /api/v1/admin/customers/{customer_id}/devices` → 201 `{"enrollment_code",
/// "expires_at"}`. Registering the same device id again for the same customer (a
/// replacement appliance) renames it and issues a new code; another customer's device
/// id is a 409.
#[worker::send]
pub async fn create_device(
    Extension(env): Extension<Env>,
    Path(customer_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let caller = api_caller(
        &headers,
        &env,
        &Method::POST,
        "/api/v1/admin/customers/{id}/devices",
    )
    .await?;
    require_json(&headers)?;
    let new = parse_new_device(&body)?;
    let db = crate::store(&env)?;
    // Outside the caller's scope is the same 404 as not existing.
    let customer = store::access::customer(&db, caller.access(), &customer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if customer.contract_ended() {
        return Err(AppError::ContractEnded);
    }
    let now = Utc::now();
    let code = enrollment::code_from_random(random::<{ enrollment::RANDOM_BYTES }>()?);
    let code_hash = sha256_hex(&enrollment::normalize(&code));
    let expires_at = enrollment::expires_at(now);
    let issued = NewCode {
        code_hash: &code_hash,
        expires_at,
    };
    match store::devices::register(&db, &customer, &new.device_id, &new.name, &issued, now).await? {
        Registered::Issued => {}
        Registered::Taken => {
            return Err(AppError::Conflict {
                message: "this device id is registered to another customer",
            });
        }
    }
    let body = json!({
        "enrollment_code": code,
        "expires_at": domain::jst::rfc3339(expires_at),
    });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}
