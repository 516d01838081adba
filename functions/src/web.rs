//! What every portal request goes through before and after the portal itself: the
//! visitor's session, the anti-forgery token, the page gate of `domain::access`, and the
//! security headers of every answer (API answers included).

use app::tenant::{Caller, Visitor};
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, Uri, header};
use chrono::{DateTime, Utc};
use domain::access::{Gate, gate};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use worker::Env;

use crate::error::AppError;
use crate::secret::{hex, random};
use crate::session::{self, Origin};

/// `__Host-`: Secure, whole site, no Domain — no sibling subdomain can set or shadow it.
pub const CSRF_COOKIE: &str = "__Host-mm_csrf";

/// The visitor of a portal request, and the cookies the answer must set.
pub struct Visit {
    pub visitor: Visitor,
    pub set_cookies: Vec<String>,
    /// The CSP nonce of this answer's scripts.
    pub nonce: String,
}

pub async fn visit(env: &Env, headers: &HeaderMap, now: DateTime<Utc>) -> Result<Visit, AppError> {
    let cookies = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
    let mut set_cookies = Vec::new();
    let current = session::current(env, session::cookie(cookies, session::COOKIE), now).await?;
    let caller = current.map(|c| {
        set_cookies.extend(c.renew);
        c.caller
    });
    // The anti-forgery secret: a random cookie of the browser; forms carry a MAC of it.
    let csrf_secret = match session::cookie(cookies, CSRF_COOKIE) {
        Some(v) if v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()) => v.to_owned(),
        _ => {
            let v = hex(&random::<16>()?);
            set_cookies.push(session::browser_cookie(CSRF_COOKIE, &v));
            v
        }
    };
    Ok(Visit {
        visitor: Visitor {
            caller,
            csrf: csrf_token(env, &csrf_secret),
        },
        set_cookies,
        nonce: hex(&random::<16>()?),
    })
}

fn csrf_token(env: &Env, secret: &str) -> String {
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
/// time by `auth::same_secret`). `visit` made `visitor.csrf` from that cookie; without a
/// well-formed cookie it is made from a fresh secret this request's browser never had,
/// so no form can carry it.
pub fn csrf_ok(visitor: &Visitor, presented: &str) -> bool {
    !visitor.csrf.is_empty() && crate::auth::same_secret(&visitor.csrf, presented)
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

/// What the page gate says for a portal request: `None` lets it through (possibly with
/// its path rewritten to a page that does not exist, for a 404), `Some` answers at once.
pub fn guard(parts: &mut Parts, caller: Option<&Caller>) -> Option<Response<Body>> {
    let path = parts.uri.path();
    let is_page = matches!(parts.method, Method::GET | Method::HEAD)
        && !path.starts_with(app::SERVER_FN_PREFIX)
        && !path.starts_with("/auth/")
        && !path.starts_with("/pkg/");
    if !is_page {
        return None;
    }
    match gate(path, caller.map(|c| (c.stage, c.scope()))) {
        Gate::Allow => None,
        Gate::Redirect(to) => Some(see_other(to)),
        Gate::NotFound => {
            // Rendered by the portal's not-found page with status 404, like any unknown
            // address: whether the page exists for somebody else is not told.
            if let Ok(uri) = Uri::builder().path_and_query("/__not_found").build() {
                parts.uri = uri;
            }
            None
        }
    }
}

/// 303 See Other to `to` (a path of this site).
pub fn see_other(to: &str) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// The caller's address and browser, for sessions and the audit log.
pub fn origin(headers: &HeaderMap) -> Origin {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(300).collect::<String>())
    };
    Origin {
        ip: get("cf-connecting-ip").or_else(|| {
            get("x-forwarded-for")
                .map(|v| v.split(',').next().unwrap_or_default().trim().to_owned())
        }),
        user_agent: get("user-agent"),
    }
}

/// Headers every answer carries. HTML pages get a Content-Security-Policy whose only
/// inline scripts are the ones Leptos writes with this answer's nonce; nothing may frame
/// the portal; pages with personal data are not cached.
pub fn secure(response: &mut Response<Body>, nonce: Option<&str>) {
    let headers = response.headers_mut();
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let csp = match (is_html, nonce) {
        (true, Some(nonce)) => format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
             base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ),
        _ => "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
            .to_owned(),
    };
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, csp),
        (
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains".to_owned(),
        ),
        (header::X_FRAME_OPTIONS, "DENY".to_owned()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (header::REFERRER_POLICY, "same-origin".to_owned()),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()".to_owned(),
        ),
    ];
    for (name, value) in fixed {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    if is_html || nonce.is_some() {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// Adds `Set-Cookie` headers.
pub fn set_cookies(response: &mut Response<Body>, cookies: &[String]) {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}
