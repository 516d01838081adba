//! 2段階認証 at sign-in: the code of the account's factor, or a recovery code, in the
//! order `domain::signin::code_checks` gives. Each code is counted before it is checked:
//! against this sign-in (at most `MAX_CODE_FAILURES`), against the login id's lockout —
//! so signing in again with the password brings no fresh guesses — and against the
//! address. Too many wrong codes, or a lockout, end the sign-in.

use app::tenant::{Caller, Visitor};
use axum::Extension;
use axum::extract::Form;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use domain::access::Stage;
use domain::account::{PER_ADDRESS, PER_LOGIN_ID};
use domain::keyed::Kind;
use domain::signin::{AuditEvent, CodeCheck, FormError, RELEASE_AFTER_CODE, Release, code_checks};
use domain::{onetime, totp};
use store::accounts::AccountRow;
use store::audit::insert;
use store::throttle::{release, reserve};
use worker::Env;

use super::{Answer, CodeForm, back, form_caller, full_session, go, unavailable};
use crate::audit::{self, Entry};
use crate::error::AppError;
use crate::session::{self, Origin};
use crate::throttle;
use crate::web::{origin, set_cookies};

/// Why a sign-in ends at the second step.
#[derive(Clone, Copy)]
enum Ended {
    /// The session used up its codes.
    TooManyCodes,
    /// The login id is locked; its count stands.
    LoginIdLocked,
    /// The address is locked: the attempt counted against the login id was never
    /// checked, so it is taken back.
    AddressLocked,
}

async fn end_sign_in(
    db: &store::Db,
    caller: &Caller,
    origin: &Origin,
    key: &str,
    ended: Ended,
    now: DateTime<Utc>,
) -> Result<Answer, AppError> {
    let (why, error) = match ended {
        Ended::TooManyCodes => ("2段階目: 確認コードの誤りが上限に到達", FormError::Codes),
        Ended::LoginIdLocked | Ended::AddressLocked => ("2段階目: ロック中", FormError::Locked),
    };
    let entry = Entry {
        detail: Some(why.into()),
        ..Entry::by(caller, origin, AuditEvent::SigninFailure)
    };
    let mut batch = vec![
        store::sessions::revoke(&caller.session, now),
        insert(&entry, now),
    ];
    if let Ended::AddressLocked = ended {
        batch.push(release(key, Release::ThisAttempt, PER_LOGIN_ID));
    }
    db.batch(batch).await?;
    let mut r = back("/login", error);
    set_cookies(&mut r, &[session::clear_cookie()]);
    Ok(r)
}

/// Whether `typed` passes `check` for `account`; a code that passes is used up.
async fn passes(
    env: &Env,
    db: &store::Db,
    account: &AccountRow,
    check: CodeCheck,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    match check {
        CodeCheck::Totp => {
            let seal_key = &crate::config::get(env).totp_seal_key;
            let secret = account
                .totp_secret
                .as_deref()
                .and_then(|s| app::sealing::open_totp(seal_key, &account.id, s));
            let step = secret
                .and_then(|s| totp::verify(&s, typed, now.timestamp(), account.totp_last_step));
            let Some(step) = step else {
                return Ok(false);
            };
            Ok(db
                .run(store::accounts::use_totp_step(&account.id, step))
                .await?
                > 0)
        }
        CodeCheck::Sms => match &account.sms_phone {
            Some(phone) => super::sms::check_code(env, db, &account.id, phone, typed, now).await,
            None => Ok(false),
        },
        CodeCheck::RecoveryCode => {
            let Some(normal) = onetime::normalize_recovery(typed) else {
                return Ok(false);
            };
            let seal_key = &crate::config::get(env).totp_seal_key;
            let digest = app::sealing::code_digest(seal_key, Kind::Recovery, &account.id, &normal)
                .ok_or(AppError::Unavailable { retry_after_s: 60 })?;
            let spend = store::recovery::spend(&account.id, &digest, now);
            Ok(db.run(spend).await? > 0)
        }
    }
}

#[worker::send]
pub async fn verify(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Answer {
    let caller = match form_caller(&visitor, &[Stage::Verify], &form.csrf, "/login/verify") {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let origin = origin(&headers);
    let now = crate::clock::now(&env).await;
    let result = async {
        let db = crate::store(&env)?;
        let key = throttle::login_id_key(&caller.login_id);
        let address_key = origin.ip.as_deref().map(throttle::address_key);
        let over = |ended| end_sign_in(&db, caller, &origin, &key, ended, now);
        let Some(tries) = store::sessions::count_code(&db, &caller.session).await? else {
            return over(Ended::TooManyCodes).await;
        };
        if reserve(&db, &key, PER_LOGIN_ID, now).await?.is_none() {
            return over(Ended::LoginIdLocked).await;
        }
        if let Some(k) = &address_key
            && reserve(&db, k, PER_ADDRESS, now).await?.is_none()
        {
            return over(Ended::AddressLocked).await;
        }
        let account = store::accounts::usable_by_id(&db, &caller.account_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut how = None;
        for check in code_checks(account.second_factor) {
            if passes(&env, &db, &account, *check, form.code(), now).await? {
                how = Some(*check);
                break;
            }
        }
        let Some(how) = how else {
            let entry = Entry {
                detail: Some("2段階目: 確認コードの誤り".into()),
                ..Entry::by(caller, &origin, AuditEvent::SigninFailure)
            };
            audit::record(&db, &entry, now).await;
            if tries >= domain::session::MAX_CODE_FAILURES {
                return over(Ended::TooManyCodes).await;
            }
            return Ok(back("/login/verify", FormError::Code));
        };
        let entry = Entry {
            detail: Some(format!("2段階目: {}", how.label())),
            ..Entry::by(caller, &origin, AuditEvent::SigninSuccess)
        };
        let mut batch = vec![
            release(&key, RELEASE_AFTER_CODE, PER_LOGIN_ID),
            insert(&entry, now),
        ];
        batch.extend(
            address_key
                .as_deref()
                .map(|k| release(k, Release::ThisAttempt, PER_ADDRESS)),
        );
        db.batch(batch).await?;
        go(&env, &db, full_session(caller, &origin), how.landing(), now).await
    }
    .await;
    result.unwrap_or_else(|e| unavailable("/login/verify", e))
}
