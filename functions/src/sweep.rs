//! The cron sweep, `sweep(env, now)`: count the appliances that are offline (by
//! `domain::offline` with the configured threshold), delete what `domain::retention` says
//! is due, flush due alert notifications (`notify`), decide appliance-down notices
//! (`downtime`), send the queued mails, clean up expired sign-in state, old audit entries
//! and rate counters; then keep the summary in KV, where the health endpoint shows it.
//!
//! Each step has its own budget so that together they stay within one invocation's
//! limits (about 1,000 D1 queries and 1,000 subrequests on the paid plan; a D1 batch is
//! one query), and carries the rest over to the next tick:
//!
//! | step | at most per tick | D1 queries | subrequests |
//! |---|---|---|---|
//! | fleet | one COUNT | 1 | |
//! | retention | `store::retention::STATEMENTS_PER_TICK` deletes | 100 | |
//! | alerts | `notify::FLUSHES_PER_TICK` flushes | ~280 | 40 |
//! | downtime | `downtime::DECIDED_PER_TICK` appliances | 11 | |
//! | queue | `notify::SENT_PER_TICK` mails, in pages of 25 | ~35 | 400 |
//! | identity | one batch, 10 audit-log chunks, the rate counters | 12 | |
//! | peers | today, yesterday and `store::peers::MISSING_PER_TICK` days without figures | 1 + 4 a day | |
//! | monthly | `monthly::PER_TICK` customers' reports of last month, from the 1st | ~16 each | |
//!
//! The alert flush runs before the appliance notices so that a wave of silent appliances
//! cannot starve it. A step that fails is logged and named in the summary's `failed`; the
//! others still run.

use chrono::{DateTime, Utc};
use domain::offline::offline_before;
use domain::retention::cutoffs;
use serde::{Deserialize, Serialize};
use worker::Env;

use crate::error::AppError;
use crate::{config, downtime, notify};

const LAST_SWEEP_KEY: &str = "sweep:last";

#[derive(Debug, Serialize, Deserialize)]
pub struct Summary {
    /// The cron tick the sweep stood for, in Asia/Tokyo.
    pub at: String,
    pub devices: usize,
    pub offline: usize,
    /// Rows the retention rule deleted in this tick.
    #[serde(default)]
    pub deleted: usize,
    /// Alert mails handed to the mail API in this tick (batches and retries).
    #[serde(default)]
    pub mails_sent: usize,
    /// Appliance notices (down, still down, recovered) queued in this tick.
    #[serde(default)]
    pub appliance_notices: usize,
    /// Session, code, throttle and rate-counter rows cleared or deleted.
    #[serde(default)]
    pub identity_cleaned: usize,
    /// Monthly reports made (and their mails queued) in this tick.
    #[serde(default)]
    pub monthly_reports: usize,
    /// Days whose 参加企業平均 figures were refreshed in this tick.
    #[serde(default)]
    pub peer_days: usize,
    /// The steps that failed in this tick (their error is in the log).
    #[serde(default)]
    pub failed: Vec<String>,
}

/// One cron tick as of `now`.
pub async fn sweep(env: &Env, now: DateTime<Utc>) -> Result<Summary, AppError> {
    let db = crate::store(env)?;
    let cron = store::cron::tick();
    let config = config::get(env);
    let mut failed = Vec::new();
    let offline_bound = offline_before(now, config.downtime.threshold);
    let fleet = store::devices::fleet(&db, &cron, offline_bound).await;
    let fleet = ran(&mut failed, "fleet", now, fleet.map_err(AppError::from));
    let deleted = match cutoffs(config.retention.days, now) {
        Some(c) => store::retention::sweep(&db, &cron, &c, config.retention)
            .await
            .map_err(AppError::from),
        None => Ok(0),
    };
    let deleted = ran(&mut failed, "retention", now, deleted);
    let alerts = notify::flush_due(env, &cron, now).await;
    let alerts = ran(&mut failed, "alerts", now, alerts);
    let notices = downtime::sweep(env, &cron, now).await;
    let appliance_notices = ran(&mut failed, "downtime", now, notices);
    let queued = notify::send_queued(env, &cron, now).await;
    let queued = ran(&mut failed, "queue", now, queued);
    let cleaned = match store::sessions::cleanup(&db, now, config.identity.audit_days).await {
        Ok(n) => store::rates::sweep(&db, now).await.map(|m| n + m),
        Err(e) => Err(e),
    };
    let identity_cleaned = ran(
        &mut failed,
        "identity",
        now,
        cleaned.map_err(AppError::from),
    );
    let peers = peers(&db, &cron, now, config.retention.days).await;
    let peer_days = ran(&mut failed, "peers", now, peers.map_err(AppError::from));
    // The reports compare with the figures just refreshed; their mails go at the next
    // tick's send.
    let reports = crate::monthly::send_due(env, &cron, now).await;
    let monthly_reports = ran(&mut failed, "monthly", now, reports);
    let summary = Summary {
        at: domain::jst::rfc3339(now),
        devices: fleet.devices,
        offline: fleet.offline,
        deleted,
        mails_sent: alerts + queued,
        appliance_notices,
        identity_cleaned,
        peer_days,
        monthly_reports,
        failed,
    };
    keep(env, &summary).await?;
    Ok(summary)
}

/// Refreshes the 参加企業平均 figures of the days due (`store::peers::due`) within the kept
/// history; the days refreshed.
async fn peers(
    db: &store::Db,
    cron: &store::cron::Cron,
    now: DateTime<Utc>,
    kept_days: u32,
) -> Result<usize, store::Error> {
    let today = domain::period::today(now);
    let first = domain::period::first_kept(today, kept_days);
    let days = store::peers::due(db, cron, today, first).await?;
    for day in &days {
        store::peers::refresh(db, std::slice::from_ref(db), cron, *day, now).await?;
    }
    Ok(days.len())
}

/// What step `name` returned, or nothing when it failed: then it is logged and named in
/// `failed`, and the sweep goes on.
fn ran<T: Default>(
    failed: &mut Vec<String>,
    name: &str,
    now: DateTime<Utc>,
    result: Result<T, AppError>,
) -> T {
    result.unwrap_or_else(|e| {
        worker::console_error!("cron sweep at {now}: step {name} failed: {e:?}");
        failed.push(name.to_owned());
        T::default()
    })
}

async fn keep(env: &Env, summary: &Summary) -> worker::Result<()> {
    env.kv("KV")?
        .put(LAST_SWEEP_KEY, serde_json::to_string(summary)?)?
        .execute()
        .await?;
    Ok(())
}

pub async fn last(env: &Env) -> worker::Result<Option<Summary>> {
    Ok(env.kv("KV")?.get(LAST_SWEEP_KEY).json().await?)
}
