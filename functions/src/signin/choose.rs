//! 2段階認証の選択: the authenticator app or SMS (each set up on its own page), or none.
//! A signed-in user changing it must have given the password recently, or give it here.

use app::tenant::{Caller, Visitor};
use axum::Extension;
use axum::extract::Form;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use domain::access::Stage;
use domain::signin::{AuditEvent, FormError, SecondFactor};
use serde::Deserialize;
use worker::Env;

use super::{Answer, back, form_caller, full_session, go, stale, unavailable};
use crate::audit::Entry;
use crate::error::AppError;
use crate::session::Origin;
use crate::web::{origin, see_other};

#[derive(Deserialize)]
pub struct ChooseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    method: String,
    /// Asked for when a signed-in user's session is not fresh.
    #[serde(default)]
    password: String,
}

#[worker::send]
pub async fn choose(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<ChooseForm>,
) -> Answer {
    let caller = match form_caller(
        &visitor,
        &[Stage::Choose, Stage::Full],
        &form.csrf,
        "/setup/2fa",
    ) {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let now = crate::clock::now(&env).await;
    let origin = origin(&headers);
    let mut reauthenticated;
    let caller = if stale(caller, now) {
        match super::password::reauthenticate(&env, caller, &origin, &form.password, now).await {
            Ok(true) => {
                // The password was given just now, and the new session says so.
                reauthenticated = caller.clone();
                reauthenticated.authenticated_at = now;
                &reauthenticated
            }
            Ok(false) => return back("/setup/2fa", FormError::Reauth),
            Err(e) => return unavailable("/setup/2fa", e),
        }
    } else {
        caller
    };
    match SecondFactor::parse(&form.method) {
        Some(SecondFactor::Totp) => see_other("/setup/totp"),
        Some(SecondFactor::Sms) => see_other("/setup/sms"),
        Some(SecondFactor::None) => match choose_none(&env, caller, &origin, now).await {
            Ok(answer) => answer,
            Err(e) => unavailable("/setup/2fa", e),
        },
        None => back("/setup/2fa", FormError::Choose),
    }
}

async fn choose_none(
    env: &Env,
    caller: &Caller,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<Answer, AppError> {
    let db = crate::store(env)?;
    let mut batch = store::accounts::choose_no_factor(&caller.account_id);
    batch.push(store::sessions::revoke_others(
        &caller.account_id,
        &caller.session,
        now,
    ));
    let entry = Entry {
        detail: caller
            .second_factor
            .map(|f| format!("変更前: {}", f.label())),
        ..Entry::by(caller, origin, AuditEvent::FactorNone)
    };
    batch.push(store::audit::insert(&entry, now));
    batch.extend(super::factor::completed(caller, origin, now));
    db.batch(batch).await?;
    go(
        env,
        &db,
        full_session(caller, origin),
        "/?done=2fa_none",
        now,
    )
    .await
}
