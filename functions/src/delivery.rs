//! Handing queued mails to the HTTP email API (`mail_api`): one attempt per call, with the
//! mail's id as `Idempotency-Key`. A failed or timed-out attempt stays queued and is
//! retried by the cron with backoff (`domain::delivery`); nothing is dropped. An alert
//! mail claimed but never written (a flush that stopped between claiming and writing) is
//! written first, so a claimed notification is always mailed.

use chrono::{DateTime, Utc};
use domain::delivery::retry_delay;
use domain::mail::Mail;
use worker::Env;

use crate::alert_mail;
use crate::error::AppError;
use crate::mail_api::{post, request_body};
use crate::secret::{hex, random};

/// A fresh mail id, also the mail API's `Idempotency-Key`.
pub(crate) fn new_mail_id() -> Result<String, AppError> {
    Ok(format!("ml_{}", hex(&random::<16>()?)))
}

/// One attempt to hand queued mail `mail_id` to the mail API. True when it was accepted.
pub async fn send(
    env: &Env,
    db: &store::Db,
    mail_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let Some(mut m) = store::mails::queued(db, mail_id).await? else {
        return Ok(false);
    };
    if m.unwritten_alert() {
        alert_mail::write(env, db, mail_id).await?;
        m = match store::mails::queued(db, mail_id).await? {
            Some(m) => m,
            None => return Ok(false),
        };
    }
    let recipients = m.recipients();
    if recipients.is_empty() {
        store::mails::no_recipients(db, mail_id).await?;
        return Ok(false);
    }
    let api = crate::config::get(env).mail.clone();
    let attempts = m.attempts + 1;
    let mail = Mail {
        subject: m.subject.unwrap_or_default(),
        text: m.text.unwrap_or_default(),
        html: m.html.unwrap_or_default(),
    };
    match post(&api, mail_id, &request_body(&api, &recipients, &mail)).await {
        Ok(()) => {
            store::mails::sent(db, mail_id, attempts, now).await?;
            Ok(true)
        }
        Err(error) => {
            worker::console_warn!("mail {mail_id}: attempt {attempts} failed: {error}");
            store::mails::retry_at(db, mail_id, attempts, now + retry_delay(attempts), &error)
                .await?;
            Ok(false)
        }
    }
}
