//! What every answer carries: redirects, cookies, and the security headers of every
//! answer (API answers included).

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};

/// 303 See Other to `to` (a path of this site).
pub fn see_other(to: &str) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// A refused console form's page to draw again, with what was typed.
#[derive(Clone)]
pub struct Redraw {
    pub page: String,
    pub draft: app::draft::Draft,
}

/// The answer of a refused console form: the Worker draws `page` again with `draft`
/// (`redrawn`), so the visitor sees what they typed and what is wrong.
pub fn redraw(page: &str, draft: app::draft::Draft) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response.extensions_mut().insert(Redraw {
        page: page.to_owned(),
        draft,
    });
    response
}

/// The page at `path` drawn by `router` (whose visitor carries the draft), answered 400.
pub async fn redrawn(
    mut router: axum::Router,
    path: &str,
) -> Result<Response<Body>, std::convert::Infallible> {
    use tower_service::Service;
    let req = axum::http::Request::get(path)
        .body(Body::empty())
        .unwrap_or_default();
    let mut response = router.call(req).await?;
    *response.status_mut() = StatusCode::BAD_REQUEST;
    Ok(response)
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
