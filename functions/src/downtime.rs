//! The appliance-down part of the cron sweep: the watched appliances (enabled, of a
//! running contract) that a check would change now (`domain::downtime::Due`), at most
//! [`DECIDED_PER_TICK`] of them per tick — the rest are still due at the next tick — each
//! decided by `domain::downtime` (first notice, daily re-notice, recovery) and stored
//! with its queued mail and its outage (opened by the first notice, closed by the
//! recovery) in one transaction (`store::downtime::save`), so a notice is never lost or
//! sent twice and the portal's outage history matches the mails. The mails go out with the send queue (`notify::send_queued`), after
//! the tick's alert mail, so a wave of silent appliances cannot hold up an alert.

use chrono::{DateTime, Utc};
use domain::downtime::{Due, decide};
use domain::mail::appliance_notice;
use store::cron::Cron;
use store::downtime::Change;
use store::mails::{Kind, Outgoing};
use worker::Env;

use crate::config;
use crate::delivery::new_mail_id;
use crate::error::AppError;

/// Appliances decided per tick at most: one read, and one D1 batch per 50 of them.
pub const DECIDED_PER_TICK: usize = 500;

/// Decides the appliances that are due; returns how many notices were queued.
pub async fn sweep(env: &Env, cron: &Cron, now: DateTime<Utc>) -> Result<usize, AppError> {
    let db = crate::store(env)?;
    let config = config::get(env);
    let due = Due::at(&config.downtime, now);
    let mut changes = Vec::new();
    for device in store::downtime::due(&db, cron, &due, DECIDED_PER_TICK).await? {
        let decision = decide(&config.downtime, device.state, device.last_seen, now);
        if !decision.changes(device.state) {
            continue;
        }
        let notice = match decision.notice {
            None => None,
            Some(n) => Some(Outgoing {
                id: new_mail_id()?,
                owner: device.owner.clone(),
                kind: Kind::from(n),
                mail: appliance_notice(
                    &device.company,
                    &device.name,
                    &device.device_id,
                    device.last_seen,
                    n,
                    now,
                    &config.mail.portal,
                ),
            }),
        };
        changes.push(Change {
            device_id: device.device_id,
            owner: device.owner,
            state: decision.state,
            notice,
        });
    }
    store::downtime::save(&db, &changes, now).await?;
    Ok(changes.iter().filter(|c| c.notice.is_some()).count())
}
