//! Sample appliance traffic for the store's tests: an enrolled appliance of the fixture,
//! events of the kinds the ingest batch sees (a ★★★ beacon, an inbound scan, usage), and a
//! report sent through the real ingest batch — shared by the tests of reports, incidents,
//! notifications, mails, devices and retention.

use chrono::{DateTime, TimeDelta, Utc};
use domain::config::Alerts;
use domain::incident::timing;
use domain::ingest::Rows;
use domain::ratelimit::Bucket;
use domain::report::parse_report;
use domain::severity::RuleSet;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::devices::{self, Reporter};
use crate::reports::{Ingest, Stored, store};
use crate::testing::{Fixture, block_on};
use crate::{Error, Query};

pub(crate) mod portal;

pub(crate) const ALERTS: Alerts = Alerts {
    batch_window: TimeDelta::minutes(5),
    incident_window: TimeDelta::minutes(60),
};

pub(crate) fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a time")
}

/// The appliance `device` of the fixture, enrolled with token hash `h-{device}`.
pub(crate) fn reporter(f: &Fixture, device: &str) -> Reporter {
    f.db.execute_script(&format!(
        "INSERT INTO device_tokens (token_hash, device_id, issued_at) VALUES ('h-{device}', '{device}', 0);"
    ))
    .expect("token");
    block_on(devices::by_token(&f.db, &format!("h-{device}")))
        .expect("reads")
        .expect("live")
        .reporter
}

/// An outbound C2 beacon (★★★) from `host`, at `at`.
pub(crate) fn beacon(id: &str, at: &str, host: &str) -> Value {
    json!({
        "type": "threat", "event_id": id, "occurred_at": at, "function": "ips",
        "action": "detected", "direction": "outbound",
        "threat": {"name": "ET MALWARE Win32/Emotet CnC Beacon", "signature_id": "2030361",
                   "category": "c2", "vendor_severity": "critical"},
        "src": {"ip": host, "port": 50122}, "dst": {"ip": "203.0.113.9", "port": 443},
    })
}

/// An inbound scan (a lower tier) of `port`.
pub(crate) fn scan(id: &str, at: &str, sid: &str, port: u16) -> Value {
    json!({
        "type": "threat", "event_id": id, "occurred_at": at, "function": "ips",
        "action": "blocked", "direction": "inbound",
        "threat": {"name": format!("ET SCAN Suspicious inbound to port {port}"), "signature_id": sid,
                   "category": "scan", "vendor_severity": "medium"},
        "src": {"ip": "198.51.100.77", "port": 40000}, "dst": {"ip": "192.168.1.10", "port": port},
    })
}

pub(crate) fn usage(id: &str, at: &str) -> Value {
    json!({
        "type": "usage", "event_id": id, "period_start": "2026-12-01T09:00:00Z", "period_end": at,
        "kind": "web_category", "name": "sns", "hits": 4, "bytes": 100,
    })
}

/// Stores report `id` with `events` as received at `now`, under batch number `batch`.
pub(crate) fn send(
    f: &Fixture,
    reporter: &Reporter,
    id: &str,
    events: Vec<Value>,
    now: &str,
    batch: i64,
) -> Result<Stored, Error> {
    with_ingest(reporter, id, events, at(now), batch, |ingest| {
        block_on(store(&f.db, reporter, ingest))
    })
}

/// Hands `then` the ingest batch of report `id` with `events`, parsed and rated as the
/// Worker does, received at `now` under batch number `batch`.
pub(crate) fn with_ingest<T>(
    reporter: &Reporter,
    id: &str,
    events: Vec<Value>,
    now: DateTime<Utc>,
    batch: i64,
    then: impl FnOnce(&Ingest<'_>) -> T,
) -> T {
    let body = json!({"report_id": id, "sent_at": now.to_rfc3339(), "events": events});
    let report = parse_report(body.to_string().as_bytes(), now).expect("a valid report");
    let rules = RuleSet::current();
    let rows = Rows::rated(&report, &rules);
    let ingest = Ingest {
        token_hash: &format!("h-{}", reporter.device_id()),
        report: &report,
        rows: &rows,
        batch,
        bucket: Bucket {
            tokens: 5.0,
            at: now,
        },
        rules_version: rules.version,
        timing: timing(&ALERTS, now),
        now,
    };
    then(&ingest)
}

pub(crate) fn count(f: &Fixture, sql: &str) -> i64 {
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    block_on(f.db.first::<N>(Query::new(sql.to_owned())))
        .expect("reads")
        .expect("a row")
        .n
}

pub(crate) const NOW_TIME: &str = "2026-12-01T10:00:00Z";
pub(crate) const EARLIER_TIME: &str = "2026-12-01T09:59:00Z";
