//! Two-step verification codes by SMS, through the Twilio-shaped Messages API of api-v1:
//! `POST {SMS_API_URL}/2010-04-01/Accounts/{SMS_ACCOUNT_SID}/Messages.json`, basic auth,
//! form fields `To`, `From`, `Body`. A code that could not be sent is reported to the
//! user, who asks for a new one; codes are never queued for later.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use worker::{Env, Fetch, Headers, Method, Request, RequestInit};

const TIMEOUT_MS: u32 = 10_000;

pub async fn send(env: &Env, to: &str, body: &str) -> Result<(), String> {
    let config = crate::config::get(env);
    let sms = &config.sms;
    let (url, sid, token, from) = (
        &sms.url,
        &sms.account_sid,
        sms.auth_token.expose(),
        &sms.from,
    );
    if url.is_empty() || sid.is_empty() {
        return Err("SMS_API_URL or SMS_ACCOUNT_SID is not set".into());
    }
    let endpoint = format!("{url}/2010-04-01/Accounts/{sid}/Messages.json");
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("To", to)
        .append_pair("From", from)
        .append_pair("Body", body)
        .finish();
    let attempt = async {
        let headers = Headers::new();
        headers
            .set("content-type", "application/x-www-form-urlencoded")
            .map_err(|e| e.to_string())?;
        headers
            .set(
                "authorization",
                &format!("Basic {}", STANDARD.encode(format!("{sid}:{token}"))),
            )
            .map_err(|e| e.to_string())?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(form.into()));
        let request = Request::new_with_init(&endpoint, &init).map_err(|e| e.to_string())?;
        let response = Fetch::Request(request)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        match response.status_code() {
            200..=299 => Ok(()),
            status => Err(format!("SMS API answered {status}")),
        }
    };
    let timeout = async {
        worker::Delay::from(std::time::Duration::from_millis(TIMEOUT_MS.into())).await;
        Err::<(), String>(format!("no answer from the SMS API within {TIMEOUT_MS} ms"))
    };
    futures_util::pin_mut!(attempt, timeout);
    match futures_util::future::select(attempt, timeout).await {
        futures_util::future::Either::Left((r, _))
        | futures_util::future::Either::Right((r, _)) => r,
    }
}
