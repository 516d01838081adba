//! The operator API of api-v1: sign a customer up, register an appliance and issue its
//! enrollment code. Each handler authenticates, parses the body into `domain` types,
//! then writes in one D1 batch, so a request is stored whole or not at all.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::access::Scope;
use domain::customer::{parse_new_customer, parse_new_device};
use domain::enrollment;
use domain::id::Id;
use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::Env;

use crate::auth::{api_caller, require_json};
use crate::d1::changes;
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
    let mut new = parse_new_customer(&body)?;
    let db = env.d1("DB")?;
    // A reseller signs customers up for itself only.
    if let Scope::Reseller(own) = caller.scope() {
        match &new.reseller_id {
            Some(r) if r.as_str() != own => return Err(AppError::Forbidden),
            _ => new.reseller_id = Some(Id::parse(own).map_err(|_| AppError::Forbidden)?),
        }
    }
    if let Some(reseller) = &new.reseller_id {
        crate::accounts::require_reseller(&store::Db::d1(env.d1("DB")?), reseller.as_str()).await?;
    }

    let customer_id = format!("cus_{}", hex(&random::<8>()?));
    let now = Utc::now().timestamp_millis();
    let optional = |v: Option<String>| v.map_or(JsValue::NULL, JsValue::from);
    let mut batch = vec![
        db.prepare(
            "INSERT INTO customers (id, reseller_id, name, service_start, paid_from, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(&[
            customer_id.as_str().into(),
            optional(new.reseller_id.map(|r| r.as_str().to_owned())),
            new.name.as_str().into(),
            new.service_start.to_string().into(),
            optional(new.paid_from.map(|d| d.to_string())),
            (now as f64).into(),
        ])?,
    ];
    for (position, email) in (1u32..).zip(&new.alert_recipients) {
        batch.push(
            db.prepare(
                "INSERT INTO alert_recipients (customer_id, position, email) VALUES (?1, ?2, ?3)",
            )
            .bind(&[
                customer_id.as_str().into(),
                position.into(),
                email.as_str().into(),
            ])?,
        );
    }
    db.batch(batch).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "customer_id": customer_id })),
    )
        .into_response())
}

#[derive(Deserialize)]
struct OwnerRow {
    customer_id: String,
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
    let db = env.d1("DB")?;
    // Outside the caller's scope is the same 404 as not existing.
    let customer = store::access::customer(&crate::store(&env)?, caller.access(), &customer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if customer.contract_ended() {
        return Err(AppError::ContractEnded);
    }
    let taken = AppError::Conflict {
        message: "this device id is registered to another customer",
    };
    let owner = db
        .prepare("SELECT customer_id FROM devices WHERE id = ?1")
        .bind(&[new.device_id.as_str().into()])?
        .first::<OwnerRow>(None)
        .await?;
    if owner.is_some_and(|o| o.customer_id != customer_id) {
        return Err(taken);
    }

    let now = Utc::now();
    let code = enrollment::code_from_random(random::<{ enrollment::RANDOM_BYTES }>()?);
    let code_hash = sha256_hex(&enrollment::normalize(&code));
    let expires_at = enrollment::expires_at(now);
    let device_id = new.device_id.as_str();
    let results = db
        .batch(vec![
            // The WHERE keeps a concurrent registration by another customer from taking
            // the row over; the code below is then not issued either.
            db.prepare(
                "INSERT INTO devices (id, customer_id, name, created_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name \
                 WHERE devices.customer_id = excluded.customer_id",
            )
            .bind(&[
                device_id.into(),
                customer_id.as_str().into(),
                new.name.as_str().into(),
                (now.timestamp_millis() as f64).into(),
            ])?,
            db.prepare(
                "INSERT INTO enrollment_codes (code_hash, device_id, expires_at, created_at) \
                 SELECT ?1, ?2, ?3, ?4 \
                 WHERE EXISTS (SELECT 1 FROM devices WHERE id = ?2 AND customer_id = ?5)",
            )
            .bind(&[
                code_hash.into(),
                device_id.into(),
                (expires_at.timestamp_millis() as f64).into(),
                (now.timestamp_millis() as f64).into(),
                customer_id.as_str().into(),
            ])?,
        ])
        .await?;
    let issued = changes(results.get(1));
    if issued == 0 {
        return Err(taken);
    }
    let body = json!({
        "enrollment_code": code,
        "expires_at": domain::jst::rfc3339(expires_at),
    });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}
