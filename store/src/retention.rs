//! Deleting what `domain::retention` says is due, table by table, in chunks: each
//! statement deletes at most `chunk` rows older than the cutoff, and a table gets at most
//! `max_chunks` statements per tick, so one tick's work (and a D1 write lock) stays
//! bounded however much is due; whatever is left goes at the next tick.
//!
//! Every statement walks an index: per-customer tables by (customer_id, time) — the
//! `IN (SELECT id FROM customers)` lets SQLite probe each customer's range — id tables by
//! received time.

use domain::config::Retention;
use domain::retention::Cutoffs;

use crate::cron::Cron;
use crate::{Arg, Db, Error, Query};

/// One table's rule: the rows a chunk deletes, selected by key columns.
pub(crate) struct Rule {
    pub(crate) table: &'static str,
    key: &'static str,
    /// Condition on the rows to delete; `:cutoff` is the cutoff.
    due: &'static str,
    cutoff: Cutoff,
}

#[derive(Clone, Copy)]
enum Cutoff {
    Raw,
    Day,
    Ids,
}

pub(crate) const RULES: &[Rule] = &[
    Rule {
        table: "threats",
        key: "id",
        due: "customer_id IN (SELECT id FROM customers) AND last_at < :cutoff",
        cutoff: Cutoff::Raw,
    },
    Rule {
        table: "usage_records",
        key: "device_id, event_id",
        due: "customer_id IN (SELECT id FROM customers) AND period_end < :cutoff",
        cutoff: Cutoff::Raw,
    },
    Rule {
        table: "device_report_hours",
        key: "device_id, hour",
        due: "device_id IN (SELECT id FROM devices) AND hour < :cutoff",
        cutoff: Cutoff::Raw,
    },
    Rule {
        table: "threat_days",
        key: "customer_id, day, device_id, function, vendor_severity",
        due: "customer_id IN (SELECT id FROM customers) AND day < :cutoff",
        cutoff: Cutoff::Day,
    },
    Rule {
        table: "usage_days",
        key: "customer_id, day, device_id, kind, name",
        due: "customer_id IN (SELECT id FROM customers) AND day < :cutoff",
        cutoff: Cutoff::Day,
    },
    Rule {
        table: "device_events",
        key: "device_id, event_id",
        due: "received_at < :cutoff",
        cutoff: Cutoff::Ids,
    },
    Rule {
        table: "device_reports",
        key: "device_id, report_id",
        due: "received_at < :cutoff",
        cutoff: Cutoff::Ids,
    },
];

/// One chunk of `rule`'s deletes.
pub(crate) fn chunk_query(rule: &Rule, cutoffs: &Cutoffs, chunk: u32) -> Query {
    let cutoff = match rule.cutoff {
        Cutoff::Raw => Arg::from(cutoffs.raw_before),
        Cutoff::Day => Arg::from(cutoffs.day_before.as_str()),
        Cutoff::Ids => Arg::from(cutoffs.ids_before),
    };
    let (table, key, due) = (rule.table, rule.key, rule.due);
    Query::new(format!(
        "DELETE FROM {table} WHERE ({key}) IN \
         (SELECT {key} FROM {table} WHERE {due} LIMIT :chunk)"
    ))
    .bind("cutoff", cutoff)
    .bind("chunk", chunk)
}

/// Deletes what is due by `cutoffs` in every customer's tables; the rows deleted.
pub async fn sweep(
    db: &Db,
    _cron: &Cron,
    cutoffs: &Cutoffs,
    config: Retention,
) -> Result<usize, Error> {
    let mut deleted = 0;
    for rule in RULES {
        let query = chunk_query(rule, cutoffs, config.chunk);
        for _ in 0..config.max_chunks {
            let n = db.run(query.clone()).await?;
            deleted += n;
            if n < config.chunk as usize {
                break;
            }
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests;
