//! Who is calling the API. For now there is one operator, whose bearer token is the
//! `OPERATOR_TOKEN` secret; reseller-scoped and further operator tokens come with the
//! identity work. A missing, malformed or wrong token is 401, with the same answer for
//! every case, and tokens are compared in constant time.

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};
use worker::Env;

use crate::error::AppError;

/// The operator, authenticated.
pub struct Operator;

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

pub fn operator(headers: &HeaderMap, env: &Env) -> Result<Operator, AppError> {
    let presented = bearer(headers)?;
    // An unset or empty secret means no operator can sign in, never that anyone can.
    let expected = env
        .secret("OPERATOR_TOKEN")
        .map(|s| s.to_string())
        .unwrap_or_default();
    if expected.is_empty() || !same_secret(presented, &expected) {
        return Err(AppError::Unauthenticated);
    }
    Ok(Operator)
}

/// Compares digests, so neither the content nor the length of the secret leaks through
/// timing.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
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
