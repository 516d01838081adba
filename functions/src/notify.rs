//! Alert mail out of the outbox, and the send queue. A flush claims the pending
//! notifications of one customer for a new mail (`store::notifications::claim`: one
//! transaction, so each notification goes into exactly one mail), writes the texts from
//! `domain::mail` — the most urgent incidents listed, the rest counted — and hands the
//! mail to `delivery`. The `mails` table is the customer's delivery log and send queue.
//!
//! ★★★ is flushed right after the report that raised it (`wait_until`), the other tiers
//! when their batch window has passed (cron), and once a customer's mails of the day are
//! used up (`domain::outbox::MAILS_PER_DAY`) on the next mail day's morning. A flush first
//! leaves out what `domain::noise` judges untargeted mass activity: those incidents stay
//! recorded, marked `mass`, and their notifications are dropped, not mailed.
//!
//! Each cron step has its own budget of D1 queries and subrequests (about 1,000 of each
//! per invocation on the paid plan): [`FLUSHES_PER_TICK`] flushes, [`SENT_PER_TICK`]
//! queued mails; what is left waits for the next tick, the longest waiting first.

use chrono::{DateTime, Utc};
use domain::noise;
use domain::outbox::mail_day_start;
use store::Owner;
use store::cron::Cron;
use store::mails::Attempt;
use worker::Env;

use crate::alert_mail;
use crate::delivery::{self, new_mail_id};
use crate::error::AppError;

/// Customers flushed per cron tick at most: each flush costs about seven D1 queries and
/// one subrequest.
pub const FLUSHES_PER_TICK: usize = 40;

/// Queued mails (appliance notices, retries) handed to the mail API per tick at most: one
/// subrequest each, and two D1 queries per page of [`SEND_PAGE`].
pub const SENT_PER_TICK: usize = 400;

/// Queued mails read (and their attempts recorded) at once.
const SEND_PAGE: usize = 25;

/// Failed attempts in a row after which the queue waits for the next tick: the mail API
/// is down, and each attempt may take its whole timeout.
const FAILURES_BEFORE_PAUSE: usize = 5;

/// The cron's alert step: flush every customer with a notification that is due, the
/// longest waiting first, [`FLUSHES_PER_TICK`] at most. Returns the mails sent.
pub async fn flush_due(env: &Env, cron: &Cron, now: DateTime<Utc>) -> Result<usize, AppError> {
    let db = crate::store(env)?;
    let pending = store::notifications::pending(&db, cron, mail_day_start(now)).await?;
    let mut sent = 0;
    for owner in pending.due(now).into_iter().take(FLUSHES_PER_TICK) {
        if flush_customer(env, &owner, now).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

/// The cron's queue step: hand the queued mails whose next attempt is due to the mail API,
/// oldest first, [`SENT_PER_TICK`] at most. Returns the mails sent.
pub async fn send_queued(env: &Env, cron: &Cron, now: DateTime<Utc>) -> Result<usize, AppError> {
    let db = crate::store(env)?;
    let (mut sent, mut failures, mut left) = (0, 0, SENT_PER_TICK);
    while left > 0 && failures < FAILURES_BEFORE_PAUSE {
        let page = store::mails::due(&db, cron, now, left.min(SEND_PAGE)).await?;
        if page.is_empty() {
            break;
        }
        left -= page.len();
        let mut attempts = Vec::new();
        for m in page {
            match delivery::attempt(env, &db, m, now).await? {
                Some(a @ Attempt::Sent { .. }) => {
                    (sent, failures) = (sent + 1, 0);
                    attempts.push(a);
                }
                Some(a @ Attempt::Failed { .. }) => {
                    failures += 1;
                    attempts.push(a);
                }
                None => {}
            }
            if failures >= FAILURES_BEFORE_PAUSE {
                break;
            }
        }
        store::mails::record(&db, &attempts, now).await?;
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
