//! API tokens through the API (operator only): issued once — the answer is the only copy
//! of the token, only its SHA-256 is stored — and revoked with effect on the next request.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::access::Scope;
use domain::account::parse_new_token;
use domain::signin::AuditEvent;
use serde_json::json;
use store::audit::insert;
use worker::Env;

use crate::audit::Entry;
use crate::auth::{api_caller, require_json};
use crate::error::AppError;
use crate::secret::{hex, random, sha256_hex};

use super::require_reseller;

/// `POST /api/v1/admin/tokens` → 201 `{"token_id", "token"}` (operator only). The token
/// is shown once; only its SHA-256 is kept.
#[worker::send]
pub async fn create_token(
    Extension(env): Extension<Env>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let caller = api_caller(&headers, &env, &Method::POST, "/api/v1/admin/tokens").await?;
    crate::auth::operator(&caller)?;
    require_json(&headers)?;
    let new = parse_new_token(&body)?;
    let db = crate::store(&env)?;
    if let Some(r) = &new.reseller_id {
        require_reseller(&db, r.as_str()).await?;
    }
    let now = Utc::now();
    let id = format!("tok_{}", hex(&random::<8>()?));
    let token = format!("mmt_{}", hex(&random::<32>()?));
    let scope = match &new.reseller_id {
        Some(r) => Scope::Reseller(r.as_str().to_owned()),
        None => Scope::Operator,
    };
    let token_hash = sha256_hex(&token);
    let issued = store::tokens::NewToken {
        id: &id,
        token_hash: &token_hash,
        scope: &scope,
        name: new.name.as_str(),
    };
    let entry = Entry {
        token_id: Some(&caller.token_id),
        scope: Some(&scope),
        detail: Some(format!("{id} （{}、{}）", new.name, scope.label())),
        ..Entry::of(AuditEvent::TokenIssued)
    };
    db.batch(vec![
        store::tokens::create(&issued, now),
        insert(&entry, now),
    ])
    .await?;
    let body = json!({ "token_id": id, "token": token, "scope": scope.role() });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// `DELETE /api/v1/admin/tokens/{token_id}` → 204 (operator only). Takes effect on the
/// token's next request.
#[worker::send]
pub async fn revoke_token(
    Extension(env): Extension<Env>,
    Path(token_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let caller = api_caller(&headers, &env, &Method::DELETE, "/api/v1/admin/tokens/{id}").await?;
    crate::auth::operator(&caller)?;
    let db = crate::store(&env)?;
    let now = Utc::now();
    let entry = Entry {
        token_id: Some(&caller.token_id),
        detail: Some(token_id.clone()),
        ..Entry::of(AuditEvent::TokenRevoked)
    };
    let changed = db
        .batch(vec![
            store::tokens::revoke(&token_id, now),
            insert(&entry, now),
        ])
        .await?;
    if changed.first().copied().unwrap_or(0) == 0 {
        return Err(AppError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
