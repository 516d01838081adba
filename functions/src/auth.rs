//! Who is calling the operator and reseller API (api-v1). A bearer token is either the
//! bootstrap `OPERATOR_TOKEN` secret or a token issued through `POST /api/v1/admin/tokens`
//! (only its SHA-256 is stored; revoking it takes effect on the next request). Each
//! resolves to a `domain::access::Scope`; every use is written to the audit log. A
//! missing, malformed, wrong or revoked token is 401, with the same answer for every
//! case, and secrets are compared in constant time.

use axum::http::{HeaderMap, Method, header};
use chrono::Utc;
pub use store::tokens::ApiCaller;
use worker::Env;

use crate::error::AppError;
use crate::secret::{same_secret, sha256_hex};

/// Operator-only endpoints answer a reseller token with 403.
pub fn operator(caller: &ApiCaller) -> Result<(), AppError> {
    if caller.is_operator() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The bearer token of the request; 401 when there is none.
pub fn bearer(headers: &HeaderMap) -> Result<&str, AppError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AppError::Unauthenticated)
}

/// Authenticates the request, counts it against the token's rate (`ADMIN_API_PER_MIN`,
/// 429 over it) and records the use of its token (`what`: the method and route, for the
/// audit log).
pub async fn api_caller(
    headers: &HeaderMap,
    env: &Env,
    method: &Method,
    what: &str,
) -> Result<ApiCaller, AppError> {
    let presented = bearer(headers)?;
    // An unset or empty secret means no bootstrap operator, never that anyone is one.
    let config = crate::config::get(env);
    let bootstrap = config.operator_token.expose();
    let db = crate::store(env)?;
    let origin = crate::web::origin(headers);
    let caller = if !bootstrap.is_empty() && same_secret(presented, bootstrap) {
        store::tokens::bootstrap(origin)
    } else {
        store::tokens::resolve(&db, &sha256_hex(presented), origin)
            .await?
            .ok_or(AppError::Unauthenticated)?
    };
    // Over the token's rate: 429, and not written to the audit log (a flood of refused
    // requests must not fill it).
    crate::rate::per_token(&db, config.rates.api, "api", &caller.token_id, Utc::now()).await?;
    store::tokens::record_use(&db, &caller, format!("{method} {what}"), Utc::now()).await?;
    Ok(caller)
}

/// api-v1: a body that is not `application/json` is refused with 415.
pub fn require_json(headers: &HeaderMap) -> Result<(), AppError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType)
    }
}
