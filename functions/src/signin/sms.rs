//! SMS codes: sent to a phone being set up (confirming one code makes SMS the account's
//! factor) and at each sign-in of an account that uses SMS. Sending is refused while the
//! last code is recent (`store::sms::offer`) and once the number or the service has sent
//! its codes for the hour (`store::sms::count_send`, `SMS_PER_NUMBER_PER_HOUR`,
//! `SMS_PER_HOUR`); a phone is set up only under `SMS_ALLOWED_PREFIXES`. A code that
//! could not be sent is withdrawn and the user asks again. Codes are stored as keyed
//! digests (`domain::keyed`).

use app::tenant::Visitor;
use axum::Extension;
use axum::extract::Form;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use domain::access::Stage;
use domain::keyed::Kind;
use domain::onetime;
use domain::signin::{AuditEvent, FormError};
use serde::Deserialize;
use worker::Env;

use super::{Answer, CodeForm, TokenForm, back, factor_caller, form_caller, unavailable};
use crate::audit::{self, Entry};
use crate::error::AppError;
use crate::secret::random;
use crate::web::{origin, see_other};

/// Sends a new SMS code to `phone`, replacing any earlier one. `Err` holds the problem
/// to show (`SmsWait`, `SmsFailed`).
pub(super) async fn send_code(
    env: &Env,
    db: &store::Db,
    account: &str,
    phone: &str,
    now: DateTime<Utc>,
) -> Result<Result<(), FormError>, AppError> {
    let code = onetime::sms_code(random::<4>()?);
    let digest = sms_digest(env, account, &code)?;
    if db
        .run(store::sms::offer(account, phone, &digest, now))
        .await?
        == 0
    {
        return Ok(Err(FormError::SmsWait));
    }
    let identity = &crate::config::get(env).identity;
    let caps = store::sms::Caps {
        per_number: identity.sms_per_number,
        overall: identity.sms_per_hour,
    };
    if !store::sms::count_send(db, phone, caps, now).await? {
        db.run(store::sms::withdraw(account)).await?;
        return Ok(Err(FormError::SmsLimit));
    }
    let sent = crate::sms::send(env, phone, &onetime::sms_body(&code)).await;
    let entry = |event, detail: String| Entry {
        account_id: Some(account),
        detail: Some(detail),
        ..Entry::of(event)
    };
    if let Err(e) = sent {
        worker::console_error!("sending an SMS code: {e}");
        let detail = format!("to {}: {e}", onetime::mask_phone(phone));
        db.batch(vec![
            store::sms::withdraw(account),
            store::audit::insert(&entry(AuditEvent::SmsFailed, detail), now),
        ])
        .await?;
        return Ok(Err(FormError::SmsFailed));
    }
    let to = format!("宛先 {}", onetime::mask_phone(phone));
    audit::record(db, &entry(AuditEvent::SmsSent, to), now).await;
    Ok(Ok(()))
}

/// Checks a typed SMS code against the live challenge of `account` for `phone`. The
/// attempt is counted before the comparison; a right code is used once.
pub(super) async fn check_code(
    env: &Env,
    db: &store::Db,
    account: &str,
    phone: &str,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let Some(code_hash) = store::sms::attempt(db, account, phone, now).await? else {
        return Ok(false);
    };
    let digits = onetime::normalize_code(typed).unwrap_or_default();
    if !crate::secret::same_secret(&sms_digest(env, account, &digits)?, &code_hash) {
        return Ok(false);
    }
    Ok(db.run(store::sms::consume(account, &code_hash)).await? == 1)
}

/// The stored form of an SMS code of `account` (`domain::keyed`).
fn sms_digest(env: &Env, account: &str, code: &str) -> Result<String, AppError> {
    let seal_key = &crate::config::get(env).totp_seal_key;
    app::sealing::code_digest(seal_key, Kind::Sms, account, code)
        .ok_or(AppError::Unavailable { retry_after_s: 60 })
}

#[derive(Deserialize)]
pub struct PhoneForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
}

/// The phone to set up: a code is sent to it.
#[worker::send]
pub async fn send_phone_code(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    Form(form): Form<PhoneForm>,
) -> Answer {
    let now = crate::clock::now(&env).await;
    let caller = match factor_caller(&visitor, &form.csrf, "/setup/sms", now) {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let typed = domain::bounds::within(&form.phone, domain::bounds::PHONE_CHARS);
    let Some(Ok(phone)) = typed.map(onetime::parse_phone) else {
        return back("/setup/sms", FormError::Phone);
    };
    if !onetime::phone_allowed(&phone, &crate::config::get(&env).identity.sms_prefixes) {
        return back("/setup/sms", FormError::PhoneRegion);
    }
    let result = async {
        let db = crate::store(&env)?;
        db.run(store::accounts::set_pending_phone(
            &caller.account_id,
            &phone,
        ))
        .await?;
        Ok::<_, AppError>(
            match send_code(&env, &db, &caller.account_id, &phone, now).await? {
                Ok(()) => see_other("/setup/sms?sent=1"),
                Err(code) => back("/setup/sms", code),
            },
        )
    }
    .await;
    result.unwrap_or_else(|e| unavailable("/setup/sms", e))
}

/// The code sent to the phone being set up: SMS becomes the factor.
#[worker::send]
pub async fn confirm_sms(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Answer {
    let now = crate::clock::now(&env).await;
    let caller = match factor_caller(&visitor, &form.csrf, "/setup/sms", now) {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let origin = origin(&headers);
    let result = async {
        let db = crate::store(&env)?;
        let account = store::accounts::usable_by_id(&db, &caller.account_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let Some(phone) = account.sms_pending_phone else {
            return Ok(back("/setup/sms", FormError::SmsStart));
        };
        if !check_code(&env, &db, &caller.account_id, &phone, form.code(), now).await? {
            return Ok(see_other("/setup/sms?sent=1&e=code"));
        }
        let update = store::accounts::enable_sms(&caller.account_id, &phone);
        let event = AuditEvent::SmsEnabled;
        super::factor::enable(&env, &db, caller, &origin, update, event, now).await
    }
    .await;
    result.unwrap_or_else(|e| unavailable("/setup/sms", e))
}

/// Sends the sign-in SMS code again.
#[worker::send]
pub async fn resend(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    Form(form): Form<TokenForm>,
) -> Answer {
    let caller = match form_caller(&visitor, &[Stage::Verify], &form.csrf, "/login/verify") {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let Some(phone) = caller.sms_phone.clone() else {
        return back("/login/verify", FormError::Code);
    };
    let now = crate::clock::now(&env).await;
    let result = async {
        let db = crate::store(&env)?;
        Ok::<_, AppError>(
            match send_code(&env, &db, &caller.account_id, &phone, now).await? {
                Ok(()) => see_other("/login/verify?sent=1"),
                Err(code) => back("/login/verify", code),
            },
        )
    }
    .await;
    result.unwrap_or_else(|e| unavailable("/login/verify", e))
}
