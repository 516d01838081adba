//! Plain settings read once per request from `[vars]` / `.dev.vars`, typed. A value that
//! does not parse falls back to the default with a logged warning: a typo must never turn
//! a limit off or delete data early.

use chrono::{NaiveTime, TimeDelta};
use domain::downtime::Policy;
use domain::ratelimit::Limit;
use domain::retention;
use worker::Env;

#[derive(Debug, Clone, Copy)]
pub struct Ingest {
    /// `REPORT_RATE_PER_S` / `REPORT_BURST`: the per-device report rate.
    pub limit: Limit,
}

#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// `RETENTION_DAYS`: raw rows and rollups older than this are deleted.
    pub days: u32,
    /// `RETENTION_CHUNK`: rows deleted per statement.
    pub chunk: u32,
    /// `RETENTION_MAX_CHUNKS`: statements per table per cron tick, so a tick's work is bounded.
    pub max_chunks: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct Alerts {
    /// `ALERT_BATCH_WINDOW_S`: how long lower-tier alerts wait to be mailed together.
    pub batch_window: TimeDelta,
    /// `INCIDENT_WINDOW_MIN`: repeats closer than this belong to one incident.
    pub incident_window: TimeDelta,
}

impl Alerts {
    pub fn from_env(env: &Env) -> Alerts {
        Alerts {
            batch_window: TimeDelta::seconds(number(env, "ALERT_BATCH_WINDOW_S", 300i64).max(0)),
            incident_window: TimeDelta::minutes(number(env, "INCIDENT_WINDOW_MIN", 60i64).max(1)),
        }
    }
}

/// `OFFLINE_AFTER_MIN` (5) and `OFFLINE_DAILY_AT` (`09:00`, Asia/Tokyo): when an
/// appliance counts as down, and when the daily re-notice goes out.
pub fn downtime(env: &Env) -> Policy {
    let d = Policy::default();
    let daily_at = env
        .var("OFFLINE_DAILY_AT")
        .ok()
        .and_then(|v| NaiveTime::parse_from_str(v.to_string().trim(), "%H:%M").ok())
        .unwrap_or(d.daily_at);
    Policy {
        threshold: TimeDelta::minutes(number(env, "OFFLINE_AFTER_MIN", 5i64).max(1)),
        daily_at,
        ..d
    }
}

fn number<T: std::str::FromStr>(env: &Env, key: &str, default: T) -> T {
    let Ok(var) = env.var(key) else {
        return default;
    };
    let raw = var.to_string();
    if raw.trim().is_empty() {
        return default;
    }
    raw.trim().parse().unwrap_or_else(|_| {
        worker::console_warn!("config: {key}={raw:?} is not a number; using the default");
        default
    })
}

impl Ingest {
    pub fn from_env(env: &Env) -> Ingest {
        let d = Limit::DEFAULT;
        let per_second = number(env, "REPORT_RATE_PER_S", d.per_second);
        let burst = number(env, "REPORT_BURST", d.burst);
        let limit = Limit::new(per_second, burst).unwrap_or_else(|| {
            worker::console_warn!(
                "config: report rate {per_second}/s burst {burst} is not usable; using the default"
            );
            d
        });
        Ingest { limit }
    }
}

impl Retention {
    pub fn from_env(env: &Env) -> Retention {
        Retention {
            days: number(env, "RETENTION_DAYS", retention::DEFAULT_DAYS),
            chunk: number(env, "RETENTION_CHUNK", 1000u32).max(1),
            max_chunks: number(env, "RETENTION_MAX_CHUNKS", 20u32).max(1),
        }
    }
}
