//! Deleting what `domain::retention` says is due, table by table, in chunks: each
//! statement deletes at most `chunk` rows, a table gets at most `max_chunks` statements
//! per tick and the whole sweep at most [`STATEMENTS_PER_TICK`], so one tick's work (and
//! a D1 write lock) stays bounded however much is due; whatever is left goes at the next
//! tick. What each table keeps and why is in docs/retention.md.
//!
//! Rows go in dependency order: an incident's notifications and reviews before the
//! incident. Rows of a customer that is gone (a tombstone in `erased_customers`, left by
//! the trigger on `customers`) go whatever their age, then the tombstone.
//! [`erase_customer`] deletes one customer's rows in every table at once.
//!
//! Every statement walks an index: per-customer tables by (customer_id, time) — the
//! `IN (SELECT id FROM customers)` lets SQLite probe each customer's range — id tables by
//! received time, a tombstoned customer's rows by customer.

use domain::config::Retention;
use domain::retention::Cutoffs;

use crate::cron::Cron;
use crate::{Arg, Db, Error, Query, Tenant};

/// Delete statements per tick at most, over all tables.
pub const STATEMENTS_PER_TICK: u32 = 100;

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
    /// Rows of erased customers, whatever their age.
    Erased,
}

/// Customers deleted whose rows are still there (a subquery, for `concat!`).
macro_rules! erased {
    () => {
        "(SELECT id FROM erased_customers WHERE id NOT IN (SELECT id FROM customers))"
    };
}

/// Incidents past the retention by their last activity (a subquery, for `concat!`).
macro_rules! old_incidents {
    () => {
        "(SELECT id FROM incidents \
           WHERE customer_id IN (SELECT id FROM customers) AND last_at < :cutoff)"
    };
}

/// Rows of a customer that is gone.
const OF_ERASED: &str = concat!("customer_id IN ", erased!());

/// Rows of an incident of a customer that is gone.
const OF_ERASED_INCIDENT: &str = concat!(
    "incident_id IN (SELECT id FROM incidents WHERE customer_id IN ",
    erased!(),
    ")"
);

/// An incident no notification or review refers to any more.
macro_rules! unreferenced {
    () => {
        " AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.incident_id = incidents.id) \
          AND NOT EXISTS (SELECT 1 FROM incident_reviews r WHERE r.incident_id = incidents.id)"
    };
}

const fn rule(table: &'static str, key: &'static str, due: &'static str, cutoff: Cutoff) -> Rule {
    Rule {
        table,
        key,
        due,
        cutoff,
    }
}

pub(crate) const RULES: &[Rule] = &[
    rule(
        "threats",
        "id",
        "customer_id IN (SELECT id FROM customers) AND last_at < :cutoff",
        Cutoff::Raw,
    ),
    rule(
        "usage_records",
        "device_id, event_id",
        "customer_id IN (SELECT id FROM customers) AND period_end < :cutoff",
        Cutoff::Raw,
    ),
    rule(
        "device_report_hours",
        "device_id, hour",
        "device_id IN (SELECT id FROM devices) AND hour < :cutoff",
        Cutoff::Raw,
    ),
    rule(
        "threat_days",
        "customer_id, day, device_id, function, vendor_severity",
        "customer_id IN (SELECT id FROM customers) AND day < :cutoff",
        Cutoff::Day,
    ),
    rule(
        "threat_tier_days",
        "customer_id, day, device_id, function, severity",
        "customer_id IN (SELECT id FROM customers) AND day < :cutoff",
        Cutoff::Day,
    ),
    rule(
        "usage_days",
        "customer_id, day, device_id, kind, name",
        "customer_id IN (SELECT id FROM customers) AND day < :cutoff",
        Cutoff::Day,
    ),
    rule(
        "usage_host_days",
        USAGE_HOST_DAYS_KEY,
        "customer_id IN (SELECT id FROM customers) AND day < :cutoff",
        Cutoff::Day,
    ),
    rule(
        "peer_members",
        "customer_id, day, function",
        "customer_id IN (SELECT id FROM customers) AND day < :cutoff",
        Cutoff::Day,
    ),
    rule(
        "monthly_reports",
        "customer_id, month",
        "customer_id IN (SELECT id FROM customers) AND created_at < :cutoff",
        Cutoff::Raw,
    ),
    // The all-company figures hold no customer's data; past the history no page reads them.
    rule("peer_days", "day, function", "day < :cutoff", Cutoff::Day),
    // An outage goes a retention after it ended; an open one stays while it is open.
    rule(
        "device_outages",
        "id",
        "customer_id IN (SELECT id FROM customers) AND back_at < :cutoff",
        Cutoff::Raw,
    ),
    rule(
        "device_events",
        "device_id, event_id",
        "received_at < :cutoff",
        Cutoff::Ids,
    ),
    rule(
        "device_reports",
        "device_id, report_id",
        "received_at < :cutoff",
        Cutoff::Ids,
    ),
    // An old incident's notifications and reviews first, then the incident.
    rule(
        "notifications",
        "id",
        concat!("incident_id IN ", old_incidents!()),
        Cutoff::Raw,
    ),
    rule(
        "incident_reviews",
        "id",
        concat!("incident_id IN ", old_incidents!()),
        Cutoff::Raw,
    ),
    rule(
        "incidents",
        "id",
        concat!(
            "customer_id IN (SELECT id FROM customers) AND last_at < :cutoff",
            unreferenced!()
        ),
        Cutoff::Raw,
    ),
    rule(
        "mails",
        "id",
        // A mail still queued is still to be sent, however old.
        "customer_id IN (SELECT id FROM customers) AND created_at < :cutoff \
         AND status <> 'queued'",
        Cutoff::Raw,
    ),
    rule(
        "device_down",
        "device_id",
        "last_notice_at < :cutoff",
        Cutoff::Raw,
    ),
    // The rows of customers that are gone, in the same order.
    rule("notifications", "id", OF_ERASED_INCIDENT, Cutoff::Erased),
    rule("incident_reviews", "id", OF_ERASED_INCIDENT, Cutoff::Erased),
    rule(
        "incidents",
        "id",
        concat!("customer_id IN ", erased!(), unreferenced!()),
        Cutoff::Erased,
    ),
    rule("mails", "id", OF_ERASED, Cutoff::Erased),
    rule("threats", "id", OF_ERASED, Cutoff::Erased),
    rule(
        "usage_records",
        "device_id, event_id",
        OF_ERASED,
        Cutoff::Erased,
    ),
    rule(
        "threat_days",
        "customer_id, day, device_id, function, vendor_severity",
        OF_ERASED,
        Cutoff::Erased,
    ),
    rule(
        "threat_tier_days",
        "customer_id, day, device_id, function, severity",
        OF_ERASED,
        Cutoff::Erased,
    ),
    rule(
        "usage_days",
        "customer_id, day, device_id, kind, name",
        OF_ERASED,
        Cutoff::Erased,
    ),
    rule(
        "usage_host_days",
        USAGE_HOST_DAYS_KEY,
        OF_ERASED,
        Cutoff::Erased,
    ),
    rule("device_outages", "id", OF_ERASED, Cutoff::Erased),
    rule(
        "peer_members",
        "customer_id, day, function",
        OF_ERASED,
        Cutoff::Erased,
    ),
    rule(
        "monthly_reports",
        "customer_id, month",
        OF_ERASED,
        Cutoff::Erased,
    ),
];

const USAGE_HOST_DAYS_KEY: &str = "customer_id, day, device_id, host, kind, name";

/// One chunk of `rule`'s deletes.
pub(crate) fn chunk_query(rule: &Rule, cutoffs: &Cutoffs, chunk: u32) -> Query {
    let cutoff = match rule.cutoff {
        Cutoff::Raw | Cutoff::Erased => Arg::from(cutoffs.raw_before),
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

/// Tombstones whose customer has no rows left (or exists again).
pub(crate) fn buried_query() -> Query {
    let none_in = [
        "incidents",
        "mails",
        "threats",
        "usage_records",
        "threat_days",
        "threat_tier_days",
        "usage_days",
        "usage_host_days",
        "device_outages",
        "peer_members",
        "monthly_reports",
    ]
    .map(|t| format!("NOT EXISTS (SELECT 1 FROM {t} WHERE customer_id = erased_customers.id)"))
    .join(" AND ");
    Query::new(format!(
        "DELETE FROM erased_customers WHERE id IN (SELECT id FROM customers) OR ({none_in})"
    ))
}

/// Deletes what is due by `cutoffs` in every customer's tables, and the rows of erased
/// customers; the rows deleted.
pub async fn sweep(
    db: &Db,
    _cron: &Cron,
    cutoffs: &Cutoffs,
    config: Retention,
) -> Result<usize, Error> {
    let mut deleted = 0;
    let mut budget = STATEMENTS_PER_TICK;
    for rule in RULES {
        let query = chunk_query(rule, cutoffs, config.chunk);
        for _ in 0..config.max_chunks {
            if budget == 0 {
                return Ok(deleted);
            }
            budget -= 1;
            let n = db.run(query.clone()).await?;
            deleted += n;
            if n < config.chunk as usize {
                break;
            }
        }
    }
    db.run(buried_query()).await?;
    Ok(deleted)
}

/// The statements deleting every row of customer `id`, children before parents. The
/// audit log is kept: it is the record of who did what (erasing included), with a
/// retention of its own.
pub(crate) fn erase_queries(id: &str) -> Vec<Query> {
    const DEVICES: &str = "SELECT id FROM devices WHERE customer_id = :customer";
    const ACCOUNTS: &str = "SELECT id FROM accounts WHERE customer_id = :customer";
    let statements = [
        "DELETE FROM notifications WHERE incident_id IN \
         (SELECT id FROM incidents WHERE customer_id = :customer)"
            .to_owned(),
        "DELETE FROM incident_reviews WHERE incident_id IN \
         (SELECT id FROM incidents WHERE customer_id = :customer)"
            .to_owned(),
        "DELETE FROM incidents WHERE customer_id = :customer".to_owned(),
        "DELETE FROM mails WHERE customer_id = :customer".to_owned(),
        "DELETE FROM threats WHERE customer_id = :customer".to_owned(),
        "DELETE FROM usage_records WHERE customer_id = :customer".to_owned(),
        "DELETE FROM threat_days WHERE customer_id = :customer".to_owned(),
        "DELETE FROM threat_tier_days WHERE customer_id = :customer".to_owned(),
        "DELETE FROM usage_days WHERE customer_id = :customer".to_owned(),
        "DELETE FROM usage_host_days WHERE customer_id = :customer".to_owned(),
        "DELETE FROM device_outages WHERE customer_id = :customer".to_owned(),
        "DELETE FROM peer_members WHERE customer_id = :customer".to_owned(),
        "DELETE FROM monthly_reports WHERE customer_id = :customer".to_owned(),
        format!("DELETE FROM device_events WHERE device_id IN ({DEVICES})"),
        format!("DELETE FROM device_reports WHERE device_id IN ({DEVICES})"),
        format!("DELETE FROM device_report_hours WHERE device_id IN ({DEVICES})"),
        format!("DELETE FROM device_down WHERE device_id IN ({DEVICES})"),
        format!("DELETE FROM enrollment_codes WHERE device_id IN ({DEVICES})"),
        format!("DELETE FROM device_tokens WHERE device_id IN ({DEVICES})"),
        "DELETE FROM devices WHERE customer_id = :customer".to_owned(),
        "DELETE FROM alert_recipients WHERE customer_id = :customer".to_owned(),
        "DELETE FROM customer_changes WHERE customer_id = :customer".to_owned(),
        format!("DELETE FROM sessions WHERE account_id IN ({ACCOUNTS})"),
        format!("DELETE FROM sms_challenges WHERE account_id IN ({ACCOUNTS})"),
        format!("DELETE FROM recovery_codes WHERE account_id IN ({ACCOUNTS})"),
        "DELETE FROM accounts WHERE customer_id = :customer".to_owned(),
        "DELETE FROM customers WHERE id = :customer".to_owned(),
        // Nothing is left to sweep: no tombstone.
        "DELETE FROM erased_customers WHERE id = :customer".to_owned(),
    ];
    statements
        .into_iter()
        .map(|sql| Query::new(sql).bind("customer", id))
        .collect()
}

/// Deletes every row of `customer` in every table (but the audit log), in dependency
/// order and in one transaction: what the end of a contract needs. Other customers' rows
/// are not touched.
pub async fn erase_customer(db: &Db, customer: Tenant) -> Result<usize, Error> {
    let changed = db.batch(erase_queries(customer.id())).await?;
    Ok(changed.iter().sum())
}

#[cfg(test)]
mod tests;
