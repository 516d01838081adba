//! What every portal request goes through before and after the portal itself: the
//! visitor (`visit`: session and anti-forgery cookie), forged requests (`csrf`), the page
//! gate (`gate`), the request's origin (`origin`) and what every answer carries
//! (`answer`: redirects, cookies, security headers).

mod answer;
mod csrf;
mod gate;
mod misconfigured;
mod origin;

pub use answer::{Redraw, redraw, redrawn, secure, see_other, set_cookies};
pub use csrf::{CSRF_COOKIE, cross_site, csrf_ok};
pub use gate::guard;
pub use misconfigured::misconfigured;
pub use origin::origin;

use app::tenant::Visitor;
use axum::http::{HeaderMap, header};
use chrono::{DateTime, Utc};
use worker::Env;

use crate::error::AppError;
use crate::secret::{hex, random};
use crate::session;

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
            csrf: csrf::token(env, &csrf_secret),
            now,
            draft: None,
        },
        set_cookies,
        nonce: hex(&random::<16>()?),
    })
}
