//! Resellers through the API: the operator creates them; naming one that does not exist
//! is a field error.

use axum::Extension;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::account::parse_new_reseller;
use serde_json::json;
use worker::Env;

use crate::auth::{api_caller, require_json};
use crate::error::AppError;
use crate::secret::{hex, random};

/// `InvalidField` on `$.reseller_id` unless the reseller `id` exists.
pub(crate) async fn require_reseller(db: &store::Db, id: &str) -> Result<(), AppError> {
    if !store::resellers::exists(db, id).await? {
        let (path, message) = ("$.reseller_id".into(), "no such reseller".into());
        return Err(AppError::InvalidField { path, message });
    }
    Ok(())
}

/// `POST /api/v1/admin/resellers` `{"name"}` → 201 `{"reseller_id"}` (operator only).
#[worker::send]
pub async fn create_reseller(
    Extension(env): Extension<Env>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let caller = api_caller(&headers, &env, &Method::POST, "/api/v1/admin/resellers").await?;
    crate::auth::operator(&caller)?;
    require_json(&headers)?;
    let name = parse_new_reseller(&body)?;
    let db = crate::store(&env)?;
    let id = format!("rsl_{}", hex(&random::<8>()?));
    db.run(store::resellers::create(&id, &name, Utc::now()))
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "reseller_id": id })),
    )
        .into_response())
}
