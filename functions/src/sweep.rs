//! The cron sweep, `sweep(env, now)`: load every appliance's last-seen time, ask `domain`
//! which are offline, delete what retention says is due, store the outcome. Later issues add the mail it triggers; for now
//! the summary is kept in KV and shown by the health endpoint, which proves the trigger,
//! D1 and KV are wired.

use chrono::{DateTime, Utc};
use domain::offline::count_offline;
use serde::{Deserialize, Serialize};
use worker::Env;

use crate::{config, downtime, notify, retention};

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
    /// Session, code and throttle rows cleared or deleted (see `session::cleanup`).
    #[serde(default)]
    pub identity_cleaned: usize,
}

#[derive(Deserialize)]
struct Row {
    last_seen_at: Option<i64>,
}

pub async fn sweep(env: &Env, now: DateTime<Utc>) -> worker::Result<Summary> {
    let db = env.d1("DB")?;
    let rows: Vec<Row> = db
        .prepare("SELECT last_seen_at FROM devices")
        .all()
        .await?
        .results()?;
    let last_seen = rows
        .iter()
        .map(|r| r.last_seen_at.and_then(DateTime::from_timestamp_millis));
    let offline = count_offline(last_seen, now, config::get(env).downtime.threshold);
    let summary = Summary {
        at: domain::jst::rfc3339(now),
        devices: rows.len(),
        offline,
        deleted: retention::sweep(&db, config::get(env).retention, now).await?,
        appliance_notices: downtime::sweep(env, now).await?,
        mails_sent: notify::run(env, now).await?,
        identity_cleaned: store::sessions::cleanup(&store::Db::d1(env.d1("DB")?), now)
            .await
            .map_err(|e| worker::Error::RustError(e.to_string()))?,
    };
    env.kv("KV")?
        .put(LAST_SWEEP_KEY, serde_json::to_string(&summary)?)?
        .execute()
        .await?;
    Ok(summary)
}

pub async fn last(env: &Env) -> worker::Result<Option<Summary>> {
    Ok(env.kv("KV")?.get(LAST_SWEEP_KEY).json().await?)
}
