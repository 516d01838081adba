//! Where a request comes from, as kept with sessions and in the audit log: the client's
//! address (Cloudflare's `CF-Connecting-IP`) and browser, each cut to 300 characters.

use axum::http::HeaderMap;

use crate::session::Origin;

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
