//! The portal's answer while a required setting is missing or unusable
//! (`Config::problems`): one 503 page that says so in Japanese and names each key for the
//! operator, instead of sign-in forms that can only fail with 「しばらくしてから」.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use worker::Env;

/// The page, when the configuration has a problem.
pub fn misconfigured(env: &Env) -> Option<Response<Body>> {
    let problems = crate::config::get(env).problems();
    if problems.is_empty() {
        return None;
    }
    // Keys and texts are the program's own constants: nothing here needs escaping.
    let items: String = problems
        .iter()
        .map(|p| format!("<li><code>{}</code>: {}</li>", p.key, p.problem))
        .collect();
    let html = format!(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>ただいまご利用いただけません — 見守りサービス</title></head><body><main>\
         <h1>ただいまご利用いただけません</h1>\
         <p>サービスの設定に不備があるため、ポータルにサインインできません。\
         運営者が設定を直すまでお待ちください。</p>\
         <h2>運営者の方へ</h2><p>次の設定を確認してください（<code>/api/v1/health</code> \
         にも表示されます）。</p><ul>{items}</ul></main></body></html>"
    );
    let mut response = Response::new(Body::from(html));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::RETRY_AFTER, HeaderValue::from(300));
    Some(response)
}
