//! 認証アプリ (TOTP): the seed shown as a QR code (sealed, `app::sealing`) becomes the
//! account's factor once one of its codes is typed, while the seed is still fresh
//! (`domain::totp::pending_confirmable`).

use app::tenant::Visitor;
use axum::Extension;
use axum::extract::Form;
use axum::http::HeaderMap;
use domain::signin::{AuditEvent, FormError};
use domain::totp;
use worker::Env;

use super::{Answer, CodeForm, back, factor_caller, unavailable};
use crate::audit::{self, Entry};
use crate::error::AppError;
use crate::web::origin;

#[worker::send]
pub async fn confirm_totp(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Answer {
    let now = crate::clock::now(&env).await;
    let caller = match factor_caller(&visitor, &form.csrf, "/setup/totp", now) {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let origin = origin(&headers);
    let result = async {
        let db = crate::store(&env)?;
        let account = store::accounts::usable_by_id(&db, &caller.account_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let fresh = account
            .totp_pending_at
            .is_some_and(|at| totp::pending_confirmable(at, now));
        let pending = account.totp_pending.clone().filter(|_| fresh);
        let secret = pending.as_deref().and_then(|p| {
            app::sealing::open_totp(&crate::config::get(&env).totp_seal_key, &account.id, p)
        });
        let (Some(secret), Some(pending)) = (secret, pending) else {
            return Ok(back("/setup/totp", FormError::TotpExpired));
        };
        let Some(step) = totp::verify(&secret, form.code(), now.timestamp(), None) else {
            let entry = Entry::by(caller, &origin, AuditEvent::TotpConfirmFailed);
            audit::record(&db, &entry, now).await;
            return Ok(back("/setup/totp", FormError::Code));
        };
        let update = store::accounts::enable_totp(&caller.account_id, step, &pending);
        let event = AuditEvent::TotpEnabled;
        super::factor::enable(&env, &db, caller, &origin, update, event, now).await
    }
    .await;
    result.unwrap_or_else(|e| unavailable("/setup/totp", e))
}
