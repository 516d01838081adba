//! Forged requests: a form's anti-forgery token is a MAC (keyed by `SESSION_SECRET`) of a
//! random cookie of the browser, compared in constant time; a state-changing request from
//! another site is refused before anything runs.

use app::tenant::Visitor;
use axum::http::request::Parts;
use axum::http::{Method, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use worker::Env;

use crate::secret::{hex, same_secret};

/// `__Host-`: Secure, whole site, no Domain — no sibling subdomain can set or shadow it.
pub const CSRF_COOKIE: &str = "__Host-mm_csrf";

/// The token every form of this browser posts back.
pub fn token(env: &Env, secret: &str) -> String {
    let config = crate::config::get(env);
    let key = config.session_secret.expose();
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(b"csrf:");
    mac.update(secret.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Whether a form's token matches the browser's anti-forgery cookie (compared in constant
/// time by `secret::same_secret`). `visit` made `visitor.csrf` from that cookie; without a
/// well-formed cookie it is made from a fresh secret this request's browser never had,
/// so no form can carry it.
pub fn csrf_ok(visitor: &Visitor, presented: &str) -> bool {
    !visitor.csrf.is_empty() && same_secret(&visitor.csrf, presented)
}

/// A state-changing request from another site is refused before anything runs. Browsers
/// send `Origin` (and `Sec-Fetch-Site`) with every POST; a request without them is not
/// from a browser and still needs the form token.
pub fn cross_site(parts: &Parts) -> bool {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let site = parts
        .headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok());
    if matches!(site, Some("cross-site" | "same-site")) {
        return true;
    }
    let Some(origin) = parts
        .headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or_default();
    let origin_host = origin.split_once("://").map_or("", |(_, h)| h);
    origin == "null" || !origin_host.eq_ignore_ascii_case(host)
}
