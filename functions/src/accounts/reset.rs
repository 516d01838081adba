//! Resets through the API: new temporary credentials by mail (put back as they were when
//! the mail is refused), or a second factor to choose again; either ends every session.
//! Who may reset whom is `domain::access::manages`'s rule, applied by `store::managed`.

use axum::Extension;
use axum::extract::Path;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use domain::signin::AuditEvent;
use serde_json::json;
use store::audit::insert;
use store::managed::Managed;
use worker::Env;

use crate::audit::Entry;
use crate::auth::{ApiCaller, api_caller};
use crate::error::AppError;

use super::{mail_credentials, temporary};

/// An account to reset through the API, with who asked and when.
struct Reset {
    caller: ApiCaller,
    db: store::Db,
    account: Managed,
    now: DateTime<Utc>,
}

impl Reset {
    /// The audit entry of this reset: the account, who asked, from where.
    fn entry(&self, event: AuditEvent, detail: Option<String>) -> Entry<'_> {
        Entry {
            account_id: Some(self.account.id()),
            login_id: Some(&self.account.row().login_id),
            scope: Some(self.account.scope()),
            token_id: Some(&self.caller.token_id),
            origin: Some(&self.caller.origin),
            detail,
            ..Entry::of(event)
        }
    }
}

/// Authenticates a reset (`what`: its route) and finds the account if the caller may
/// manage it.
async fn reset(
    env: &Env,
    headers: &HeaderMap,
    account_id: &str,
    what: &str,
) -> Result<Reset, AppError> {
    let caller = api_caller(headers, env, &Method::POST, what).await?;
    let db = crate::store(env)?;
    let account = store::managed::managed(&db, caller.access(), account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Reset {
        caller,
        db,
        account,
        now: Utc::now(),
    })
}

/// `POST /api/v1/admin/accounts/{account_id}/reset-password` → 200 `{"account_id"}`:
/// new temporary credentials by mail (the login id stays); every session ends.
#[worker::send]
pub async fn reset_password(
    Extension(env): Extension<Env>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let r = reset(
        &env,
        &headers,
        &account_id,
        "/api/v1/admin/accounts/{id}/reset-password",
    )
    .await?;
    let (db, account, now) = (&r.db, &r.account, r.now);
    let t = temporary(Some(account.row().login_id.clone()), now)?;
    let entry = |event, detail: String| r.entry(event, Some(detail));
    let detail = format!("仮パスワードを {} へ送信", account.row().email);
    db.batch(vec![
        store::managed::set_temporary_password(account, &t.hash, t.expires),
        store::sessions::revoke_all(&account_id, now),
        insert(&entry(AuditEvent::PasswordReset, detail), now),
    ])
    .await?;
    let key = format!("{account_id}-reset-{}", now.timestamp_millis());
    if let Err(e) = mail_credentials(&env, &key, &account.row().email, "ご利用者", &t).await {
        worker::console_error!("mailing a reset of {account_id}: {e}");
        // Put the old password back as it was (temporary ones with their expiry): a reset
        // nobody received must not lock the user out, nor make a temporary password
        // permanent.
        let detail = format!("メールが受け付けられず、元のパスワードに戻した: {e}");
        db.batch(vec![
            store::managed::restore_password(account),
            insert(&entry(AuditEvent::PasswordResetFailed, detail), now),
        ])
        .await?;
        return Err(AppError::Unavailable { retry_after_s: 30 });
    }
    Ok(axum::Json(json!({ "account_id": account_id })).into_response())
}

/// `POST /api/v1/admin/accounts/{account_id}/reset-second-factor` → 200: the user
/// chooses a second factor again at the next sign-in; every session ends.
#[worker::send]
pub async fn reset_second_factor(
    Extension(env): Extension<Env>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let r = reset(
        &env,
        &headers,
        &account_id,
        "/api/v1/admin/accounts/{id}/reset-second-factor",
    )
    .await?;
    let mut batch = store::managed::reset_second_factor(&r.account);
    batch.push(store::sessions::revoke_all(&account_id, r.now));
    batch.push(insert(&r.entry(AuditEvent::SecondFactorReset, None), r.now));
    r.db.batch(batch).await?;
    Ok(axum::Json(json!({ "account_id": account_id })).into_response())
}
