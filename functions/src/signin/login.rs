//! ログイン: a login id and password. Every attempt is counted before it is checked, per
//! login id and per address, and a right one takes its count back as
//! `domain::signin::release_after_password` says; an unknown id costs the same work and
//! gets the same answer as a wrong password (`domain::signin::login_verdict`), and so
//! does an id or password longer than its bound (`domain::bounds`). A locked id or
//! address is written in the audit log once per lock, not once per refused attempt.

use app::tenant::Visitor;
use axum::Extension;
use axum::extract::Form;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use domain::access::Stage;
use domain::account::{PER_ADDRESS, PER_LOGIN_ID};
use domain::signin::{
    AuditEvent, FormError, Found, Release, SecondFactor, login_verdict, release_after_password,
};
use domain::{bounds, password};
use serde::Deserialize;
use store::accounts::AccountRow;
use store::audit::insert;
use store::throttle::{first_refusal, release, reserve};
use worker::Env;

use super::{Answer, back, go, unavailable};
use crate::audit::{self, Entry};
use crate::error::AppError;
use crate::secret::random;
use crate::session::{self, Origin, Since};
use crate::throttle;
use crate::web::{csrf_ok, origin};

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login_id: String,
    #[serde(default)]
    password: String,
}

#[worker::send]
pub async fn login(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Answer {
    if !csrf_ok(&visitor, &form.csrf) {
        return back("/login", FormError::Expired);
    }
    let origin = origin(&headers);
    let now = crate::clock::now(&env).await;
    match login_inner(&env, &visitor, &origin, &form, now).await {
        Ok(answer) => answer,
        Err(e) => unavailable("/login", e),
    }
}

async fn login_inner(
    env: &Env,
    visitor: &Visitor,
    origin: &Origin,
    form: &LoginForm,
    now: DateTime<Utc>,
) -> Result<Answer, AppError> {
    let db = crate::store(env)?;
    let typed_id = form.login_id.trim();
    // Over its bound, an id or password is never looked at: no account can have it, so it
    // is counted and answered like a wrong password, under the key of its first part.
    let login_id = bounds::within(typed_id, bounds::LOGIN_ID_CHARS);
    let password = bounds::within(&form.password, bounds::PASSWORD_CHARS);
    let counted_id = login_id.unwrap_or_else(|| bounds::cut(typed_id, bounds::LOGIN_ID_CHARS));
    let fail = |reason: &'static str| Entry {
        login_id: Some(counted_id),
        origin: Some(origin),
        detail: Some(reason.to_owned()),
        ..Entry::of(AuditEvent::SigninFailure)
    };
    let key = throttle::login_id_key(counted_id);
    let Some(after) = reserve(&db, &key, PER_LOGIN_ID, now).await? else {
        if first_refusal(&db, &key, now).await? {
            audit::record(&db, &fail("ユーザIDがロック中"), now).await;
        }
        return Ok(back("/login", FormError::Locked));
    };
    let address_key = origin.ip.as_deref().map(throttle::address_key);
    if let Some(k) = &address_key
        && reserve(&db, k, PER_ADDRESS, now).await?.is_none()
    {
        let mut batch = vec![release(&key, Release::ThisAttempt, PER_LOGIN_ID)];
        if first_refusal(&db, k, now).await? {
            batch.push(insert(&fail("送信元アドレスがロック中"), now));
        }
        db.batch(batch).await?;
        return Ok(back("/login", FormError::Locked));
    }
    let account = match (login_id, password) {
        (Some(id), Some(_)) => store::accounts::usable_by_login_id(&db, id).await?,
        _ => None,
    };
    let password = password.unwrap_or_default();
    // The same work whether the id is unknown or the password wrong.
    let found = match &account {
        None => {
            password::verify_dummy(password);
            None
        }
        Some(a) => Some(Found {
            password_ok: password::verify(password, &a.password_hash),
            temporary_until: a.temp_expires_at,
        }),
    };
    let verdict = login_verdict(found, now);
    let scope = account.as_ref().and_then(AccountRow::scope);
    let (Ok(()), Some(account), Some(scope)) = (verdict, account.as_ref(), scope.as_ref()) else {
        let why = match (login_id, verdict) {
            (None, _) => "長すぎるユーザID",
            (Some(_), Err(refusal)) => refusal.detail(),
            (Some(_), Ok(())) => "アカウントの設定の不整合",
        };
        let entry = Entry {
            account_id: account.as_ref().map(|a| a.id.as_str()),
            scope: scope.as_ref(),
            ..fail(why)
        };
        audit::record(&db, &entry, now).await;
        let code = if after.check(now).is_err() {
            FormError::Locked
        } else {
            FormError::Invalid
        };
        return Ok(back("/login", code));
    };
    let stage = account.stage_after_password();
    let event = if stage == Stage::Full {
        AuditEvent::SigninSuccess
    } else {
        AuditEvent::SigninPasswordOk
    };
    let entry = Entry {
        account_id: Some(&account.id),
        login_id: Some(&account.login_id),
        scope: Some(scope),
        origin: Some(origin),
        detail: Some(format!("次の手順: {}", stage.label())),
        ..Entry::of(event)
    };
    let mut batch = vec![
        release(&key, release_after_password(stage), PER_LOGIN_ID),
        insert(&entry, now),
    ];
    batch.extend(
        address_key
            .as_deref()
            .map(|k| release(k, Release::ThisAttempt, PER_ADDRESS)),
    );
    if password::needs_rehash(&account.password_hash) {
        // Made under earlier parameters: replaced now that the password is at hand.
        let fresh = password::hash(password, random::<{ password::SALT_BYTES }>()?);
        batch.push(store::accounts::rehash(
            &account.id,
            &account.password_hash,
            &fresh,
        ));
    }
    db.batch(batch).await?;
    if stage == Stage::Verify
        && account.second_factor == Some(SecondFactor::Sms)
        && let Some(phone) = &account.sms_phone
    {
        // A failed send is shown on the next page, which offers to send again.
        let _ = super::sms::send_code(env, &db, &account.id, phone, now).await;
    }
    let new = session::New {
        account: &account.id,
        stage,
        since: Since::Password {
            replaces: visitor.caller.as_ref().map(|c| c.session.as_str()),
        },
        origin,
        reveal: None,
    };
    go(env, &db, new, stage.home(), now).await
}
