//! The HTTP email API of api-v1 (Resend-shaped `POST {MAIL_API_URL}/emails`): its
//! settings, the request body, and one bounded attempt to hand a mail over. What a failed
//! attempt means (retry later, or refuse to issue an account) is the caller's rule.

use std::time::Duration;

use domain::mail::Mail;
use futures_util::future::{Either, select};
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::{Delay, Env, Fetch, Headers, Method, Request, RequestInit};

/// How long one call of the mail API may take before it counts as failed.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The mail settings of api-v1 (`domain::config::Mail`).
pub use domain::config::Mail as MailApi;

/// Sends one mail now, outside the queue: for mails that must not be stored, such as
/// temporary credentials. `key` is the idempotency key. The caller decides what a failure
/// means (for credentials: the account is not issued and the API answers 503).
pub async fn send_now(env: &Env, key: &str, to: &[&str], mail: &Mail) -> Result<(), String> {
    let api = crate::config::get(env).mail.clone();
    post(&api, key, &request_body(&api, to, mail)).await
}

/// The body of `POST {MAIL_API_URL}/emails` (Resend-shaped, api-v1).
pub fn request_body<T: serde::Serialize>(api: &MailApi, to: &[T], mail: &Mail) -> String {
    json!({
        "from": api.from,
        "to": to,
        "subject": mail.subject,
        "text": mail.text,
        "html": mail.html,
    })
    .to_string()
}

/// `POST {MAIL_API_URL}/emails`; any answer but 2xx, or no answer within the timeout, is
/// an error described in a few words (kept in the delivery log).
pub async fn post(api: &MailApi, mail_id: &str, body: &str) -> Result<(), String> {
    let attempt = async {
        let headers = Headers::new();
        headers
            .set("content-type", "application/json")
            .map_err(|e| e.to_string())?;
        headers
            .set("authorization", &format!("Bearer {}", api.key.expose()))
            .map_err(|e| e.to_string())?;
        headers
            .set("idempotency-key", mail_id)
            .map_err(|e| e.to_string())?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(JsValue::from_str(body)));
        let request = Request::new_with_init(&format!("{}/emails", api.url), &init)
            .map_err(|e| format!("bad mail API URL: {e}"))?;
        let mut response = Fetch::Request(request)
            .send()
            .await
            .map_err(|e| format!("mail API unreachable: {e}"))?;
        let status = response.status_code();
        // Read the body so the connection is released either way.
        let _ = response.text().await;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("mail API answered HTTP {status}"))
        }
    };
    let attempt = Box::pin(attempt);
    let timeout = Box::pin(Delay::from(SEND_TIMEOUT));
    match select(attempt, timeout).await {
        Either::Left((outcome, _)) => outcome,
        Either::Right(_) => Err(format!(
            "mail API did not answer within {} s",
            SEND_TIMEOUT.as_secs()
        )),
    }
}
