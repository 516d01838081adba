//! Handing queued mails to the HTTP email API (`mail_api`): one attempt per call, with the
//! mail's id as `Idempotency-Key`. A failed or timed-out attempt stays queued and is
//! retried by the cron with backoff (`domain::delivery`); nothing is dropped. An alert
//! mail claimed but never written (a flush that stopped between claiming and writing) is
//! written first, so a claimed notification is always mailed.

use chrono::{DateTime, Utc};
use domain::delivery::retry_delay;
use domain::mail::Mail;
use store::mails::{Attempt, Queued};
use worker::Env;

use crate::alert_mail;
use crate::error::AppError;
use crate::mail_api::{post, request_body};
use crate::secret::{hex, random};

/// A fresh mail id, also the mail API's `Idempotency-Key`.
pub(crate) fn new_mail_id() -> Result<String, AppError> {
    Ok(format!("ml_{}", hex(&random::<16>()?)))
}

/// One attempt to hand queued mail `mail_id` to the mail API, recorded. True when it was
/// accepted.
pub async fn send(
    env: &Env,
    db: &store::Db,
    mail_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let Some(m) = store::mails::queued(db, mail_id).await? else {
        return Ok(false);
    };
    let Some(attempt) = attempt(env, db, m, now).await? else {
        return Ok(false);
    };
    store::mails::record(db, std::slice::from_ref(&attempt), now).await?;
    Ok(matches!(attempt, Attempt::Sent { .. }))
}

/// One attempt to hand queued mail `m` to the mail API, for the caller to record (a page
/// of them at once). `None` when nothing was attempted: nobody to send it to (the mail is
/// marked failed), or it is no longer queued.
pub async fn attempt(
    env: &Env,
    db: &store::Db,
    mut m: Queued,
    now: DateTime<Utc>,
) -> Result<Option<Attempt>, AppError> {
    if m.unwritten_alert() {
        alert_mail::write(env, db, &m.id).await?;
        m = match store::mails::queued(db, &m.id).await? {
            Some(m) => m,
            None => return Ok(None),
        };
    }
    let recipients = m.recipients();
    if recipients.is_empty() {
        store::mails::no_recipients(db, &m.id).await?;
        return Ok(None);
    }
    let api = crate::config::get(env).mail.clone();
    let attempts = m.attempts + 1;
    let mail = Mail {
        subject: m.subject.unwrap_or_default(),
        text: m.text.unwrap_or_default(),
        html: m.html.unwrap_or_default(),
    };
    Ok(Some(
        match post(&api, &m.id, &request_body(&api, &recipients, &mail)).await {
            Ok(()) => Attempt::Sent { id: m.id, attempts },
            Err(error) => {
                worker::console_warn!("mail {}: attempt {attempts} failed: {error}", m.id);
                Attempt::Failed {
                    id: m.id,
                    attempts,
                    next: now + retry_delay(attempts),
                    error,
                }
            }
        },
    ))
}
