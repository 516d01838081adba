//! Passwords given again: a signed-in user re-enters theirs to change the second factor
//! (re-authentication) or to change the password itself. Each try counts towards the
//! login id's lockout like a sign-in, and a right one takes its count back; a new
//! password must keep `domain::account`'s rules.

use app::tenant::{Caller, Visitor};
use axum::Extension;
use axum::extract::Form;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use domain::access::Stage;
use domain::account::{PER_LOGIN_ID, password_problems};
use domain::signin::{AuditEvent, FormError, Release};
use domain::{bounds, password};
use serde::Deserialize;
use store::audit::insert;
use store::sessions;
use worker::Env;

use super::{Answer, back, form_caller, full_session, go, unavailable};
use crate::audit::{self, Entry};
use crate::error::AppError;
use crate::secret::random;
use crate::session::{self, Origin, Since};
use crate::throttle;
use crate::web::{origin, see_other};

/// A new password that breaks a rule (or does not match its confirmation) sends the
/// visitor back to `page` with the rules it breaks.
pub(super) fn refused(page: &str, password: &str, confirm: &str, login_id: &str) -> Option<Answer> {
    if password != confirm {
        return Some(back(page, FormError::Mismatch));
    }
    let problems = password_problems(password, login_id);
    if problems.is_empty() {
        return None;
    }
    let codes: Vec<&str> = problems.iter().map(|p| p.code()).collect();
    Some(see_other(&format!(
        "{}&p={}",
        FormError::Password.on(page),
        codes.join(",")
    )))
}

/// Checks the password a signed-in user typed again. A wrong one is audited as
/// `failed_event`.
async fn again(
    db: &store::Db,
    caller: &Caller,
    origin: &Origin,
    given: &str,
    failed_event: AuditEvent,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let key = throttle::login_id_key(&caller.login_id);
    let failed = |detail: &str| Entry {
        detail: Some(detail.to_owned()),
        ..Entry::by(caller, origin, failed_event)
    };
    if store::throttle::reserve(db, &key, PER_LOGIN_ID, now)
        .await?
        .is_none()
    {
        if store::throttle::first_refusal(db, &key, now).await? {
            audit::record(db, &failed("ユーザIDがロック中"), now).await;
        }
        return Ok(false);
    }
    let account = store::accounts::usable_by_id(db, &caller.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    // Over its bound a password is wrong without being hashed.
    let given = bounds::within(given, bounds::PASSWORD_CHARS);
    if !given.is_some_and(|g| password::verify(g, &account.password_hash)) {
        audit::record(db, &failed("パスワードの誤り"), now).await;
        return Ok(false);
    }
    db.run(store::throttle::release(
        &key,
        Release::ThisAttempt,
        PER_LOGIN_ID,
    ))
    .await?;
    Ok(true)
}

/// Checks the password a signed-in user gave again; a right one makes the session fresh.
pub(super) async fn reauthenticate(
    env: &Env,
    caller: &Caller,
    origin: &Origin,
    given: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    if given.is_empty() {
        return Ok(false);
    }
    let db = crate::store(env)?;
    if !again(
        &db,
        caller,
        origin,
        given,
        AuditEvent::PasswordReauthFailed,
        now,
    )
    .await?
    {
        return Ok(false);
    }
    db.batch(vec![
        sessions::reauthenticated(&caller.session, now),
        insert(&Entry::by(caller, origin, AuditEvent::PasswordReauth), now),
    ])
    .await?;
    Ok(true)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// パスワード変更: the current password, then a new one; every other session ends.
#[worker::send]
pub async fn change_password(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Answer {
    let caller = match form_caller(&visitor, &[Stage::Full], &form.csrf, "/account") {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    if let Some(answer) = refused(
        "/account",
        &form.password,
        &form.password_confirm,
        &caller.login_id,
    ) {
        return answer;
    }
    let origin = origin(&headers);
    let now = crate::clock::now(&env).await;
    let result = async {
        let db = crate::store(&env)?;
        let current_ok = again(
            &db,
            caller,
            &origin,
            &form.current,
            AuditEvent::PasswordChangeFailed,
            now,
        )
        .await?;
        if !current_ok {
            return Ok(back("/account", FormError::Current));
        }
        let hash = password::hash(&form.password, random::<{ password::SALT_BYTES }>()?);
        db.batch(vec![
            store::accounts::set_password(&caller.account_id, &hash, now),
            sessions::revoke_others(&caller.account_id, &caller.session, now),
            insert(
                &Entry::by(caller, &origin, AuditEvent::PasswordChanged),
                now,
            ),
        ])
        .await?;
        // The password was given just now; the sign-in keeps its start.
        let new = session::New {
            since: Since::Continues {
                previous: &caller.session,
                signed_in: caller.created_at,
                authenticated: now,
            },
            ..full_session(caller, &origin)
        };
        go(&env, &db, new, "/account?done=password", now).await
    }
    .await;
    result.unwrap_or_else(|e| unavailable("/account", e))
}
