//! The portal's server side of signing in, through the store: the signed-in user's live
//! sessions, a new authenticator's seed (kept sealed and unconfirmed; one made a moment
//! ago is shown again, `domain::totp::pending_reusable`), and the recovery codes a new
//! session shows once.

use chrono::Utc;
use domain::access::Stage;
use domain::totp;
use leptos::prelude::*;

use super::{NewAuthenticator, SessionView};
use crate::tenant::{caller_at, db, signed_in, with_env};

pub async fn my_sessions() -> Result<Vec<SessionView>, ServerFnError> {
    let (caller, _) = signed_in()?;
    let account = caller.account_id.clone();
    let rows = with_env("sessions", |env| async move {
        store::sessions::signed_in(&db(&env)?, &account, Utc::now()).await
    })
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionView {
            current: r.id_hash == caller.session,
            signed_in: domain::jst::format_minute(r.created_at),
            last_seen: domain::jst::format_minute(r.last_seen_at),
            ip: r.ip,
            user_agent: r.user_agent,
        })
        .collect())
}

pub async fn totp_setup() -> Result<NewAuthenticator, ServerFnError> {
    let (caller, csrf) = caller_at(&[Stage::Choose, Stage::Full])?;
    let mut fresh = [0u8; totp::SECRET_BYTES];
    getrandom::fill(&mut fresh).map_err(|e| ServerFnError::new(e.to_string()))?;
    let account = caller.account_id.clone();
    let seal_key = crate::tenant::config()
        .map_err(|e| ServerFnError::new(e.to_string()))?
        .totp_seal_key
        .clone();
    let secret = with_env("new authenticator", |env| async move {
        let db = db(&env)?;
        let now = Utc::now();
        let row = store::accounts::by_id(&db, &account).await?;
        let reuse = row.and_then(|a| match (a.totp_pending, a.totp_pending_at) {
            (Some(s), Some(made)) if totp::pending_reusable(made, now) => {
                crate::sealing::open_totp(&seal_key, &account, &s)
            }
            _ => None,
        });
        if let Some(s) = reuse {
            return Ok(s);
        }
        let secret = totp::Secret::new(fresh);
        let sealed = crate::sealing::seal_totp(&seal_key, &account, &secret)
            .ok_or_else(|| store::Error::Bug("TOTP_SEAL_KEY is not set".into()))?;
        db.run(store::accounts::set_pending_totp(&account, &sealed, now))
            .await?;
        Ok(secret)
    })
    .await?;
    let uri = totp::otpauth_uri(&secret, &caller.login_id, "見守り");
    Ok(NewAuthenticator {
        csrf,
        qr_svg: totp::qr_svg(&uri).unwrap_or_default(),
        manual_key: secret.manual_key(),
    })
}

pub async fn recovery_codes() -> Result<Vec<String>, ServerFnError> {
    let (caller, _) = signed_in()?;
    let seal_key = crate::tenant::config()
        .map_err(|e| ServerFnError::new(e.to_string()))?
        .totp_seal_key
        .clone();
    let session = caller.session.clone();
    let reveal = with_env("recovery codes", |env| async move {
        store::sessions::take_reveal(&db(&env)?, &session).await
    })
    .await?;
    Ok(reveal
        .and_then(|r| crate::sealing::open_reveal(&seal_key, &caller.account_id, &r))
        .and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or_default())
}
