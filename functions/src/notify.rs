//! Alert mail out of the outbox. A flush claims every pending notification of one customer
//! for a new mail (`store::notifications::claim`: one transaction, so each notification
//! goes into exactly one mail), writes the texts from `domain::mail`, and hands the mail
//! to `delivery`. The `mails` table is the customer's delivery log.
//!
//! ★★★ is flushed right after the report that raised it (`wait_until`), the other tiers
//! when their batch window has passed (cron), and once a customer's mails of the day are
//! used up (`domain::outbox::MAILS_PER_DAY`) on the next mail day's morning. A flush first
//! leaves out what `domain::noise` judges untargeted mass activity: those incidents stay
//! recorded, marked `mass`, and their notifications are dropped, not mailed.

use chrono::{DateTime, Utc};
use domain::noise;
use domain::outbox::mail_day_start;
use store::Owner;
use store::cron::Cron;
use worker::Env;

use crate::alert_mail;
use crate::delivery::{self, new_mail_id};
use crate::error::AppError;

/// Customers flushed per cron tick at most: each flush costs about five D1 queries and one
/// subrequest, and one invocation may make about a thousand of each (paid plan).
const FLUSHES_PER_TICK: usize = 100;

/// The cron part: flush every customer with a notification that is due, then retry the
/// queued mails whose next attempt is due. Returns the mails sent.
pub async fn run(env: &Env, cron: &Cron, now: DateTime<Utc>) -> Result<usize, AppError> {
    let db = crate::store(env)?;
    let pending = store::notifications::pending(&db, cron, mail_day_start(now)).await?;
    let mut sent = 0;
    // Bounded per tick (D1 queries and subrequests per invocation are limited); the rest
    // are flushed at the next tick, earliest due first.
    for owner in pending.due(now).into_iter().take(FLUSHES_PER_TICK) {
        if flush_customer(env, &owner, now).await? {
            sent += 1;
        }
    }
    for mail_id in store::mails::due(&db, cron, now).await? {
        if delivery::send(env, &db, &mail_id, now).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

/// Claims the pending notifications of `owner` for one new mail, writes it and sends it;
/// true when the mail API took it. Those judged untargeted mass activity are left out
/// (their incidents marked `mass`). Does nothing when nothing is left to mail (another
/// flush got there first, or all of it was mass activity).
pub async fn flush_customer(
    env: &Env,
    owner: &Owner,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let db = crate::store(env)?;
    let due = store::notifications::due(&db, owner, now - noise::LOOKBACK).await?;
    let sorted = noise::sort(&due);
    let mail_id = new_mail_id()?;
    if !store::notifications::claim(&db, owner, &mail_id, &sorted, now).await? {
        return Ok(false);
    }
    alert_mail::write(env, &db, &mail_id).await?;
    delivery::send(env, &db, &mail_id, now).await
}
