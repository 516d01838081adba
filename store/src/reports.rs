//! A device report as stored: one batch — a single transaction, so a rejected or failed
//! report leaves nothing behind — whose statements each check that the token is still
//! valid when it runs.
//!
//! Idempotency: the batch first inserts the report id with the caller's random `batch`
//! number. Every later statement acts only on rows carrying that number, so a re-sent
//! report (or one racing its own retry) stores nothing new, and an event id already stored
//! is neither stored nor counted again. The report is a heartbeat even when re-sent.
//! The daily rollups (threats by vendor severity and by ★ tier, usage per appliance and
//! per internal host) are written from the same new events.

use chrono::{DateTime, Utc};
use domain::incident::Timing;
use domain::ingest::{Rows, THREAT_COLUMNS, USAGE_COLUMNS};
use domain::ratelimit::Bucket;
use domain::report::Report;

use crate::devices::{Reporter, TOKEN_VALID};
use crate::{Db, Error, Query};

/// Everything one report stores, laid out by `domain`.
#[derive(Debug, Clone)]
pub struct Ingest<'a> {
    /// SHA-256 of the device token the report came with.
    pub token_hash: &'a str,
    pub report: &'a Report,
    pub rows: &'a Rows,
    /// This request's random number (52 bits, exact in a JS number).
    pub batch: i64,
    /// The rate bucket after this report.
    pub bucket: Bucket,
    pub rules_version: u32,
    pub timing: Timing,
    pub now: DateTime<Utc>,
}

/// What the batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// This request stored the report: not a re-send, and the token was valid.
    pub report: bool,
    /// Events stored (not seen before).
    pub accepted: usize,
}

/// `(SELECT value->>0 AS event_id, … FROM json_each(:threats))`: a JSON array of rows,
/// bound as the parameter `param`, read as a table.
fn rows_of(columns: &[&str], param: &str) -> String {
    let cols: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("value->>{i} AS {c}"))
        .collect();
    format!("(SELECT {} FROM json_each(:{param}))", cols.join(", "))
}

/// Only the events this request stored (not those already there). A correlated EXISTS,
/// not a join: it keeps the report's rows the outer loop and probes the primary key once
/// per row, where a join may let SQLite scan the device's whole event history instead.
const NEW_EVENTS: &str = "WHERE EXISTS (SELECT 1 FROM device_events e \
     WHERE e.device_id = :device AND e.event_id = r.event_id AND e.batch = :batch)";
/// Only when this request stored the report (not a re-send).
const NEW_REPORT: &str = "EXISTS (SELECT 1 FROM device_reports \
     WHERE device_id = :device AND report_id = :report AND batch = :batch)";

/// The batch's statements, in order: the report id first, its events second (their
/// changes are the events accepted), the heartbeat last.
pub fn statements(reporter: &Reporter, ingest: &Ingest<'_>) -> Vec<Query> {
    let owner = reporter.owner();
    let report = ingest.report;
    let statement = |sql: String| {
        Query::new(sql)
            .bind("token", ingest.token_hash)
            .bind("device", reporter.device_id())
            .bind("report", report.report_id.as_str())
            .bind("batch", ingest.batch)
            .bind("now", ingest.now)
            .bind("customer", owner.id())
            .bind("events", report.events.len())
            .bind("event_ids", ingest.rows.event_ids.as_str())
            .bind("threats", ingest.rows.threats.as_str())
            .bind("usage", ingest.rows.usage.as_str())
            .bind("tokens", ingest.bucket.tokens)
            .bind("firmware", &report.firmware)
            .bind("definitions", &report.definitions)
            .bind("clients", report.clients)
            .bind("rules_version", ingest.rules_version)
            .bind("quiet_before", ingest.timing.quiet_before)
            .bind("due_urgent", ingest.timing.due_urgent)
            .bind("due_later", ingest.timing.due_later)
    };
    let mut statements = vec![statement(format!(
        "INSERT OR IGNORE INTO device_reports (device_id, report_id, batch, received_at, events) \
         SELECT :device, :report, :batch, :now, :events WHERE {TOKEN_VALID}"
    ))];
    if !report.events.is_empty() {
        let (threats, usage) = (
            rows_of(&THREAT_COLUMNS, "threats"),
            rows_of(&USAGE_COLUMNS, "usage"),
        );
        let rollup = |table: &str, rated: &str| {
            statement(format!(
                "INSERT INTO {table} (customer_id, day, device_id, function, {rated}, events) \
                 SELECT :customer, r.day, :device, r.function, r.{rated}, count(*) \
                 FROM {threats} r {NEW_EVENTS} \
                 GROUP BY r.day, r.function, r.{rated} \
                 ON CONFLICT DO UPDATE SET events = events + excluded.events"
            ))
        };
        statements.extend([
            statement(format!(
                "INSERT OR IGNORE INTO device_events (device_id, event_id, batch, received_at) \
                 SELECT :device, value, :batch, :now FROM json_each(:event_ids) WHERE {NEW_REPORT}"
            )),
            statement(format!(
                "INSERT INTO threats (customer_id, device_id, bucket, sig_key, src_key, action, \
                   direction, function, day, first_event_id, first_at, last_at, count, name, \
                   signature_id, category, vendor_severity, src_ip, src_port, src_mac, dst_ip, \
                   dst_port, protocol, url, file_name, file_sha256, severity, rule, host) \
                 SELECT :customer, :device, r.bucket, r.sig_key, r.src_key, r.action, r.direction, \
                   r.function, r.day, r.event_id, r.occurred_at, r.occurred_at, 1, r.name, \
                   r.signature_id, r.category, r.vendor_severity, r.src_ip, r.src_port, \
                   r.src_mac, r.dst_ip, r.dst_port, r.protocol, r.url, r.file_name, r.file_sha256, \
                   r.severity, r.rule, r.host \
                 FROM {threats} r {NEW_EVENTS} \
                 ON CONFLICT (device_id, bucket, sig_key, src_key, action, direction) DO UPDATE SET \
                   count = count + 1, \
                   first_at = min(first_at, excluded.first_at), \
                   last_at = max(last_at, excluded.last_at)"
            )),
            // The daily rollups of the new events: by the vendor's severity, and by
            // mimamori's tier for the portal's counts by ★.
            rollup("threat_days", "vendor_severity"),
            rollup("threat_tier_days", "severity"),
            // Incidents: close this appliance's quiet ones, then add the new events to the
            // open incident of their threat and host, or open one (`domain::incident`).
            statement(
                "UPDATE incidents SET closed_at = :now \
                 WHERE device_id = :device AND closed_at IS NULL AND last_at < :quiet_before"
                    .into(),
            ),
            statement(format!(
                "INSERT INTO incidents (customer_id, device_id, sig_key, host, name, function, \
                   action, direction, url, file_name, severity_rank, rule, notice, rules_version, \
                   first_at, last_at, count, batch, created_at) \
                 SELECT :customer, :device, r.sig_key, r.host, r.name, r.function, r.action, \
                   r.direction, r.url, r.file_name, min(r.rank), r.rule, r.notice, :rules_version, \
                   min(r.occurred_at), max(r.occurred_at), count(*), :batch, :now \
                 FROM {threats} r {NEW_EVENTS} \
                 GROUP BY r.sig_key, r.host \
                 ON CONFLICT (device_id, sig_key, host) WHERE closed_at IS NULL DO UPDATE SET \
                   count = count + excluded.count, \
                   first_at = min(first_at, excluded.first_at), \
                   last_at = max(last_at, excluded.last_at), \
                   rule = CASE WHEN excluded.severity_rank < severity_rank \
                          THEN excluded.rule ELSE rule END, \
                   notice = CASE WHEN excluded.severity_rank < severity_rank \
                            THEN excluded.notice ELSE notice END, \
                   severity_rank = min(severity_rank, excluded.severity_rank)"
            )),
            // The outbox, in the same transaction: each incident this report opened that
            // may be mailed (not a recorded-only one), due as `domain::incident` says.
            statement(
                "INSERT INTO notifications (customer_id, incident_id, rank, due_at, created_at) \
                 SELECT customer_id, id, severity_rank, \
                   CASE WHEN severity_rank = 0 THEN :due_urgent ELSE :due_later END, :now \
                 FROM incidents \
                 WHERE device_id = :device AND batch = :batch AND closed_at IS NULL \
                   AND notice <> 'record'"
                    .into(),
            ),
            statement(format!(
                "INSERT OR IGNORE INTO usage_records (device_id, event_id, customer_id, \
                   period_start, period_end, kind, name, hits, bytes, client_ip, client_mac) \
                 SELECT :device, r.event_id, :customer, r.period_start, r.period_end, r.kind, \
                   r.name, r.hits, r.bytes, r.client_ip, r.client_mac \
                 FROM {usage} r {NEW_EVENTS}"
            )),
            statement(format!(
                "INSERT INTO usage_days (customer_id, day, device_id, kind, name, hits, bytes) \
                 SELECT :customer, r.day, :device, r.kind, r.name, sum(r.hits), sum(r.bytes) \
                 FROM {usage} r {NEW_EVENTS} \
                 GROUP BY r.day, r.kind, r.name \
                 ON CONFLICT DO UPDATE SET hits = hits + excluded.hits, bytes = bytes + excluded.bytes"
            )),
            // The same per internal host, for /usage (migration 0019).
            statement(format!(
                "INSERT INTO usage_host_days (customer_id, day, device_id, host, kind, name, \
                   hits, bytes) \
                 SELECT :customer, r.day, :device, coalesce(r.client_ip, r.client_mac, ''), \
                   r.kind, r.name, sum(r.hits), sum(r.bytes) \
                 FROM {usage} r {NEW_EVENTS} \
                 GROUP BY r.day, coalesce(r.client_ip, r.client_mac, ''), r.kind, r.name \
                 ON CONFLICT DO UPDATE SET hits = hits + excluded.hits, bytes = bytes + excluded.bytes"
            )),
        ]);
    }
    statements.extend([
        statement(format!(
            "UPDATE devices SET last_seen_at = max(coalesce(last_seen_at, 0), :now), \
               rate_tokens = :tokens, rate_at = :now, firmware = coalesce(:firmware, firmware), \
               definitions = coalesce(:definitions, definitions), clients = coalesce(:clients, clients) \
             WHERE id = :device AND {TOKEN_VALID}"
        )),
        statement(format!(
            "INSERT INTO device_report_hours (device_id, hour, reports) \
             SELECT :device, CAST(:now AS INTEGER) / 3600000 * 3600000, 1 WHERE {NEW_REPORT} \
             ON CONFLICT DO UPDATE SET reports = reports + 1"
        )),
    ]);
    statements
}

/// Stores the report in one transaction.
pub async fn store(db: &Db, reporter: &Reporter, ingest: &Ingest<'_>) -> Result<Stored, Error> {
    let results = db.batch(statements(reporter, ingest)).await?;
    let report = results.first() == Some(&1);
    let accepted = match (report, ingest.report.events.is_empty()) {
        (true, false) => results.get(1).copied().unwrap_or(0),
        _ => 0,
    };
    Ok(Stored { report, accepted })
}

#[cfg(test)]
pub(crate) mod tests;
