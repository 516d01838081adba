//! The appliance-down part of the cron sweep: for every watched appliance (enabled, of a
//! running contract) ask `domain::downtime` whether to mail (first notice, daily
//! re-notice, recovery), and store the new state together with the queued mail in one
//! batch (`store::downtime`), so a notice is never lost or sent twice; then hand the mail
//! to `delivery` (failed sends are retried by `notify::run`).

use chrono::{DateTime, Utc};
use domain::downtime::{Decision, decide};
use domain::mail::appliance_notice;
use store::cron::Cron;
use store::mails::{Kind, Outgoing};
use worker::Env;

use crate::config;
use crate::delivery::{self, new_mail_id};
use crate::error::AppError;

/// Checks every appliance; returns how many notices were queued.
pub async fn sweep(env: &Env, cron: &Cron, now: DateTime<Utc>) -> Result<usize, AppError> {
    let db = crate::store(env)?;
    let config = config::get(env);
    let mut queued = Vec::new();
    for device in store::downtime::watched(&db, cron).await? {
        let decision = decide(&config.downtime, device.state, device.last_seen, now);
        if !decision.changes(device.state) {
            continue;
        }
        let Decision { notice, state } = decision;
        let mut notices = Vec::new();
        if let Some(n) = notice {
            let mail = appliance_notice(
                &device.company,
                &device.name,
                &device.device_id,
                device.last_seen,
                n,
                now,
                &config.mail.portal,
            );
            notices.push(Outgoing {
                id: new_mail_id()?,
                owner: device.owner.clone(),
                kind: Kind::from(n),
                mail,
            });
        }
        match &state {
            None => store::downtime::up(&db, &device, &notices, now).await?,
            Some(down) => store::downtime::down(&db, &device, down, &notices, now).await?,
        }
        queued.extend(notices.into_iter().map(|n| n.id));
    }
    for mail_id in &queued {
        delivery::send(env, &db, mail_id, now).await?;
    }
    Ok(queued.len())
}
