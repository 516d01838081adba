//! The retention part of the cron sweep: deletes rows older than `domain::retention`'s
//! cutoffs, table by table, in chunks of `chunk` rows and at most `max_chunks` statements
//! per table and tick, so one tick's work (and a D1 write lock) stays bounded however much
//! is due; whatever is left goes at the next tick.
//!
//! Every statement walks an index: per-customer tables by (customer_id, time), id tables by
//! received time.

use chrono::{DateTime, Utc};
use domain::retention::cutoffs;
use wasm_bindgen::JsValue;
use worker::D1Database;

use crate::d1::{changes, ms};
use domain::config::Retention;

/// One table's rule: the rows a chunk deletes, selected by key columns.
struct Rule {
    table: &'static str,
    key: &'static str,
    /// Condition on the rows to delete; `?1` is the cutoff.
    due: &'static str,
    cutoff: Cutoff,
}

#[derive(Clone, Copy)]
enum Cutoff {
    Raw,
    Day,
    Ids,
}

const RULES: &[Rule] = &[
    Rule {
        table: "threats",
        key: "id",
        due: "customer_id IN (SELECT id FROM customers) AND last_at < ?1",
        cutoff: Cutoff::Raw,
    },
    Rule {
        table: "usage_records",
        key: "device_id, event_id",
        due: "customer_id IN (SELECT id FROM customers) AND period_end < ?1",
        cutoff: Cutoff::Raw,
    },
    Rule {
        table: "device_report_hours",
        key: "device_id, hour",
        due: "device_id IN (SELECT id FROM devices) AND hour < ?1",
        cutoff: Cutoff::Raw,
    },
    Rule {
        table: "threat_days",
        key: "customer_id, day, device_id, function, vendor_severity",
        due: "customer_id IN (SELECT id FROM customers) AND day < ?1",
        cutoff: Cutoff::Day,
    },
    Rule {
        table: "usage_days",
        key: "customer_id, day, device_id, kind, name",
        due: "customer_id IN (SELECT id FROM customers) AND day < ?1",
        cutoff: Cutoff::Day,
    },
    Rule {
        table: "device_events",
        key: "device_id, event_id",
        due: "received_at < ?1",
        cutoff: Cutoff::Ids,
    },
    Rule {
        table: "device_reports",
        key: "device_id, report_id",
        due: "received_at < ?1",
        cutoff: Cutoff::Ids,
    },
];

/// Deletes what is due at `now`; returns the number of rows deleted.
pub async fn sweep(
    db: &D1Database,
    config: Retention,
    now: DateTime<Utc>,
) -> worker::Result<usize> {
    let Some(c) = cutoffs(config.days, now) else {
        return Ok(0);
    };
    let mut deleted = 0;
    for rule in RULES {
        let cutoff = match rule.cutoff {
            Cutoff::Raw => ms(c.raw_before),
            Cutoff::Day => JsValue::from(c.day_before.as_str()),
            Cutoff::Ids => ms(c.ids_before),
        };
        let (table, key, due) = (rule.table, rule.key, rule.due);
        let sql = format!(
            "DELETE FROM {table} WHERE ({key}) IN \
             (SELECT {key} FROM {table} WHERE {due} LIMIT ?2)"
        );
        for _ in 0..config.max_chunks {
            let result = db
                .prepare(&sql)
                .bind(&[cutoff.clone(), f64::from(config.chunk).into()])?
                .run()
                .await?;
            let n = changes(Some(&result));
            deleted += n;
            if n < config.chunk as usize {
                break;
            }
        }
    }
    Ok(deleted)
}
