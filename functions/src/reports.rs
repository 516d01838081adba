//! `POST /api/v1/device/reports`: load the device behind the token (remembered for a
//! minute, `device_cache`), decide (rate limit, parse into `domain` types, lay out rows),
//! store the whole report in one D1 batch — a single transaction, so a rejected or failed
//! report leaves nothing behind. The batch itself checks that the token is still valid.
//!
//! Idempotency: the batch first inserts the report id with a random `batch` number drawn
//! here. Every later statement acts only on rows carrying that number, so a re-sent report
//! (or one racing its own retry) stores nothing new, and an event id already stored is
//! neither stored nor counted again.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use domain::enrollment;
use domain::ingest::{Rows, THREAT_COLUMNS, USAGE_COLUMNS};
use domain::outbox;
use domain::ratelimit::{self, Bucket};
use domain::report::{ReportError, parse_report};
use domain::severity::{RuleSet, Severity};
use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::{Context, D1Database, Env};

use crate::auth::{bearer, require_json};
use crate::config;
use crate::d1::{changes, ms, named, time};
use crate::device_cache::{self, Known};
use crate::error::AppError;
use crate::notify;
use crate::secret::{random, sha256_hex};

/// The device behind a token, with what the rate limit needs.
#[derive(Deserialize)]
struct Device {
    id: String,
    customer_id: String,
    disabled: f64,
    contract_ended_at: Option<f64>,
    rate_tokens: Option<f64>,
    rate_at: Option<f64>,
}

impl Device {
    fn bucket(&self) -> Option<Bucket> {
        let at = time(self.rate_at?)?;
        Some(Bucket {
            tokens: self.rate_tokens?,
            at,
        })
    }
}

/// The device a token (by its hash) belongs to: 401 for a token that is unknown or
/// revoked, 403 when the device is disabled or its customer's contract has ended.
async fn load_device(db: &D1Database, token_hash: &str) -> Result<Device, AppError> {
    let device = db
        .prepare(
            "SELECT d.id, d.customer_id, d.disabled, c.contract_ended_at, d.rate_tokens, d.rate_at \
             FROM device_tokens t \
             JOIN devices d ON d.id = t.device_id \
             JOIN customers c ON c.id = d.customer_id \
             WHERE t.token_hash = ?1 AND t.revoked_at IS NULL",
        )
        .bind(&[token_hash.into()])?
        .first::<Device>(None)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if device.contract_ended_at.is_some() {
        return Err(AppError::ContractEnded);
    }
    if device.disabled != 0.0 {
        return Err(AppError::DeviceDisabled);
    }
    Ok(device)
}

/// The device of a token: from this isolate's memory when loaded in the last minute.
async fn device(db: &D1Database, token_hash: &str, now: DateTime<Utc>) -> Result<Known, AppError> {
    if let Some(known) = device_cache::get(token_hash, now) {
        return Ok(known);
    }
    let d = load_device(db, token_hash).await?;
    let known = Known::new(d.id.clone(), d.customer_id.clone(), d.bucket(), now);
    device_cache::put(token_hash, known.clone());
    Ok(known)
}

/// The token is valid at the moment the batch runs: not revoked, its device enabled, its
/// customer's contract running.
const TOKEN_VALID: &str = "EXISTS (SELECT 1 FROM device_tokens t \
     JOIN devices d ON d.id = t.device_id JOIN customers c ON c.id = d.customer_id \
     WHERE t.token_hash = :token AND t.device_id = :device AND t.revoked_at IS NULL \
       AND d.disabled = 0 AND c.contract_ended_at IS NULL)";

impl From<ReportError> for AppError {
    fn from(e: ReportError) -> AppError {
        match e {
            ReportError::InvalidJson => AppError::InvalidJson,
            ReportError::InvalidField(f) => AppError::InvalidField {
                path: f.path,
                message: f.message,
            },
            ReportError::TooManyEvents(_) => AppError::PayloadTooLarge,
        }
    }
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

/// `POST /api/v1/device/reports` → 202 `{"report_id", "accepted", "duplicates"}`.
#[worker::send]
pub async fn post(
    Extension(env): Extension<Env>,
    Extension(ctx): Extension<Arc<Context>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let now = Utc::now();
    let db = env.d1("DB")?;
    let token = bearer(&headers)?;
    if !enrollment::is_device_token(token) {
        return Err(AppError::Unauthenticated);
    }
    let token_hash = sha256_hex(token);
    let device = device(&db, &token_hash, now).await?;
    require_json(&headers)?;
    let limit = config::get(&env).ingest.limit;
    let bucket = ratelimit::take(limit, device.bucket, now)
        .map_err(|retry_after_s| AppError::RateLimited { retry_after_s })?;
    device_cache::set_bucket(&token_hash, bucket);
    let report = parse_report(&body, now)?;
    let rules = RuleSet::current();
    let rows = Rows::rated(&report, &rules);
    let alerts = config::get(&env).alerts;

    let batch = (u64::from_le_bytes(random::<8>()?) >> 12) as f64; // 52 bits: exact in a JS number
    let device_id = JsValue::from(device.device_id.as_str());
    let report_id = JsValue::from(report.report_id.as_str());
    let customer_id = JsValue::from(device.customer_id.as_str());
    let (batch, now_ms) = (JsValue::from(batch), ms(now));
    let optional = |v: &Option<String>| v.as_deref().map_or(JsValue::NULL, JsValue::from);
    let (event_ids, threat_rows, usage_rows) = (
        JsValue::from(rows.event_ids.as_str()),
        JsValue::from(rows.threats.as_str()),
        JsValue::from(rows.usage.as_str()),
    );
    let events = JsValue::from(report.events.len() as f64);
    let (firmware, definitions) = (optional(&report.firmware), optional(&report.definitions));
    let clients = report
        .clients
        .map_or(JsValue::NULL, |c| f64::from(c).into());
    let tokens = JsValue::from(bucket.tokens);
    let rules_version = JsValue::from(f64::from(rules.version));
    let incident_window = JsValue::from(alerts.incident_window.num_milliseconds() as f64);
    let due = |s: Severity| ms(outbox::due_at(s, now, alerts.batch_window));
    let (due_high, due_later) = (due(Severity::High), due(Severity::Medium));
    let token_hash_arg = JsValue::from(token_hash.as_str());
    let args = [
        ("token", &token_hash_arg),
        ("device", &device_id),
        ("report", &report_id),
        ("batch", &batch),
        ("now", &now_ms),
        ("customer", &customer_id),
        ("events", &events),
        ("event_ids", &event_ids),
        ("threats", &threat_rows),
        ("usage", &usage_rows),
        ("tokens", &tokens),
        ("firmware", &firmware),
        ("definitions", &definitions),
        ("clients", &clients),
        ("rules_version", &rules_version),
        ("incident_window", &incident_window),
        ("due_high", &due_high),
        ("due_later", &due_later),
    ];
    let statement = |sql: &str| named(&db, sql, &args);

    let mut statements = vec![statement(&format!(
        "INSERT OR IGNORE INTO device_reports (device_id, report_id, batch, received_at, events) \
             SELECT :device, :report, :batch, :now, :events WHERE {TOKEN_VALID}"
    ))?];
    let has_events = !report.events.is_empty();
    if has_events {
        let (threats, usage) = (
            rows_of(&THREAT_COLUMNS, "threats"),
            rows_of(&USAGE_COLUMNS, "usage"),
        );
        statements.extend([
            statement(&format!(
                "INSERT OR IGNORE INTO device_events (device_id, event_id, batch, received_at) \
                 SELECT :device, value, :batch, :now FROM json_each(:event_ids) WHERE {NEW_REPORT}"
            ))?,
            statement(&format!(
                "INSERT INTO threats (customer_id, device_id, bucket, sig_key, src_key, action, \
                   direction, function, day, first_event_id, first_at, last_at, count, name, \
                   signature_id, category, vendor_severity, src_ip, src_port, src_mac, dst_ip, \
                   dst_port, protocol, url, file_name, file_sha256, severity, rule) \
                 SELECT :customer, :device, r.bucket, r.sig_key, r.src_key, r.action, r.direction, \
                   r.function, r.day, r.event_id, r.occurred_at, r.occurred_at, 1, r.name, \
                   r.signature_id, r.category, r.vendor_severity, r.src_ip, r.src_port, \
                   r.src_mac, r.dst_ip, r.dst_port, r.protocol, r.url, r.file_name, r.file_sha256, \
                   r.severity, r.rule \
                 FROM {threats} r {NEW_EVENTS} \
                 ON CONFLICT (device_id, bucket, sig_key, src_key, action, direction) DO UPDATE SET \
                   count = count + 1, \
                   first_at = min(first_at, excluded.first_at), \
                   last_at = max(last_at, excluded.last_at)"
            ))?,
            statement(&format!(
                "INSERT INTO threat_days (customer_id, day, device_id, function, vendor_severity, events) \
                 SELECT :customer, r.day, :device, r.function, r.vendor_severity, count(*) \
                 FROM {threats} r {NEW_EVENTS} \
                 GROUP BY r.day, r.function, r.vendor_severity \
                 ON CONFLICT DO UPDATE SET events = events + excluded.events"
            ))?,
            // Incidents: close this appliance's quiet ones, then add the new events to the
            // open incident of their threat and host, or open one.
            statement(
                "UPDATE incidents SET closed_at = :now \
                 WHERE device_id = :device AND closed_at IS NULL AND last_at < :now - :incident_window",
            )?,
            statement(&format!(
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
            ))?,
            // The outbox, in the same transaction: each incident this report opened that
            // may be mailed (not a recorded-only one). ★★★ is due at once; the rest wait
            // for the customer's batch window.
            statement(
                "INSERT INTO notifications (customer_id, incident_id, rank, due_at, created_at) \
                 SELECT customer_id, id, severity_rank, \
                   CASE WHEN severity_rank = 0 THEN :due_high ELSE :due_later END, :now \
                 FROM incidents \
                 WHERE device_id = :device AND batch = :batch AND closed_at IS NULL \
                   AND notice <> 'record'",
            )?,
            statement(&format!(
                "INSERT OR IGNORE INTO usage_records (device_id, event_id, customer_id, \
                   period_start, period_end, kind, name, hits, bytes, client_ip, client_mac) \
                 SELECT :device, r.event_id, :customer, r.period_start, r.period_end, r.kind, \
                   r.name, r.hits, r.bytes, r.client_ip, r.client_mac \
                 FROM {usage} r {NEW_EVENTS}"
            ))?,
            statement(&format!(
                "INSERT INTO usage_days (customer_id, day, device_id, kind, name, hits, bytes) \
                 SELECT :customer, r.day, :device, r.kind, r.name, sum(r.hits), sum(r.bytes) \
                 FROM {usage} r {NEW_EVENTS} \
                 GROUP BY r.day, r.kind, r.name \
                 ON CONFLICT DO UPDATE SET hits = hits + excluded.hits, bytes = bytes + excluded.bytes"
            ))?,
        ]);
    }
    // The report is a heartbeat even when it is a re-send: the device is alive.
    statements.extend([
        statement(&format!(
            "UPDATE devices SET last_seen_at = max(coalesce(last_seen_at, 0), :now), \
               rate_tokens = :tokens, rate_at = :now, firmware = coalesce(:firmware, firmware), \
               definitions = coalesce(:definitions, definitions), clients = coalesce(:clients, clients) \
             WHERE id = :device AND {TOKEN_VALID}"
        ))?,
        statement(&format!(
            "INSERT INTO device_report_hours (device_id, hour, reports) \
             SELECT :device, CAST(:now AS INTEGER) / 3600000 * 3600000, 1 WHERE {NEW_REPORT} \
             ON CONFLICT DO UPDATE SET reports = reports + 1"
        ))?,
    ]);

    let results = db.batch(statements).await?;
    let stored_report = changes(results.first()) == 1;
    if !stored_report {
        // A re-sent report, or a token revoked (device disabled, contract ended) since this
        // isolate remembered it: ask D1 which, so the latter gets its 401/403.
        device_cache::forget(&token_hash);
        load_device(&db, &token_hash).await?;
    }
    let accepted = if stored_report && has_events {
        changes(results.get(1))
    } else {
        0
    };
    if stored_report && rows.most_urgent == Some(Severity::High) {
        // ★★★ is mailed now, not at the next cron tick; the device need not wait for it.
        let (env, customer) = (env.clone(), device.customer_id.clone());
        ctx.wait_until(async move {
            if let Err(e) = notify::flush_customer(&env, &customer, Utc::now())
                .await
                .map(drop)
            {
                worker::console_error!("mailing the ★★★ alert of {customer}: {e}");
            }
        });
    }
    let body = json!({
        "report_id": report.report_id,
        "accepted": accepted,
        "duplicates": report.events.len() - accepted,
    });
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}
