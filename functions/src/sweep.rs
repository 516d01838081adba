//! The cron sweep, `sweep(env, now)`: count the appliances that are offline (by
//! `domain::offline` with the configured threshold), delete what `domain::retention` says
//! is due, mail appliance-down notices (`downtime`), flush due alert notifications and
//! retry queued mails (`notify`), clean up expired sign-in state; then keep the summary in
//! KV, where the health endpoint shows it.

use chrono::{DateTime, Utc};
use domain::offline::count_offline;
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
}

/// One cron tick as of `now`.
pub async fn sweep(env: &Env, now: DateTime<Utc>) -> Result<Summary, AppError> {
    let db = crate::store(env)?;
    let cron = store::cron::tick();
    let config = config::get(env);
    let last_seen = store::devices::last_seen(&db, &cron).await?;
    let offline = count_offline(last_seen.iter().copied(), now, config.downtime.threshold);
    let deleted = match cutoffs(config.retention.days, now) {
        Some(c) => store::retention::sweep(&db, &cron, &c, config.retention).await?,
        None => 0,
    };
    let summary = Summary {
        at: domain::jst::rfc3339(now),
        devices: last_seen.len(),
        offline,
        deleted,
        appliance_notices: downtime::sweep(env, &cron, now).await?,
        mails_sent: notify::run(env, &cron, now).await?,
        identity_cleaned: store::sessions::cleanup(&db, now, config.identity.audit_days).await?
            + store::rates::sweep(&db, now).await?,
    };
    keep(env, &summary).await?;
    Ok(summary)
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
