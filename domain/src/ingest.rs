//! How an accepted [`Report`] is laid out for storage. The Worker hands D1 one JSON array
//! per table and inserts it with a single `INSERT … SELECT … FROM json_each(?)`, so a
//! report of 1000 events costs a handful of statements, not a thousand.
//!
//! Each row is a JSON array whose positions are named by [`THREAT_COLUMNS`] and
//! [`USAGE_COLUMNS`]; the SQL is generated from those lists, so the order lives in one place.
//!
//! Repetition is stored compactly: threat events with the same [`CompactKey`] (appliance,
//! signature, source, action, direction, [`COMPACT_WINDOW`]) become one stored row with a
//! count and first/last times. Every event id is still remembered (for idempotency) until
//! the parser would refuse the event anyway.

use std::collections::HashSet;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::jst;
use crate::report::{Direction, Endpoint, Event, Report, ThreatEvent, UsageEvent};
use crate::severity::{Rating, RuleSet, Severity};

/// Repeats of one threat from one source within this window are one stored row.
pub const COMPACT_WINDOW: TimeDelta = TimeDelta::minutes(10);

/// The positions of a threat row, as the storage SQL reads them.
pub const THREAT_COLUMNS: [&str; 27] = [
    "event_id",
    "occurred_at",
    "bucket",
    "day",
    "function",
    "action",
    "direction",
    "sig_key",
    "src_key",
    "name",
    "signature_id",
    "category",
    "vendor_severity",
    "src_ip",
    "src_port",
    "src_mac",
    "dst_ip",
    "dst_port",
    "protocol",
    "url",
    "file_name",
    "file_sha256",
    "host",
    "severity",
    "rank",
    "rule",
    "notice",
];

/// The positions of a usage row.
pub const USAGE_COLUMNS: [&str; 10] = [
    "event_id",
    "period_start",
    "period_end",
    "day",
    "kind",
    "name",
    "hits",
    "bytes",
    "client_ip",
    "client_mac",
];

/// What one compacted row stands for: the same signature from the same source, handled
/// the same way, within one window.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompactKey {
    pub bucket: DateTime<Utc>,
    pub sig_key: String,
    pub src_key: String,
    pub action: &'static str,
    pub direction: &'static str,
}

impl CompactKey {
    pub fn of(t: &ThreatEvent) -> CompactKey {
        CompactKey {
            bucket: bucket(t.occurred_at),
            sig_key: match &t.threat.signature_id {
                Some(sid) => format!("sid:{sid}"),
                None => format!("name:{}", t.threat.name),
            },
            src_key: t.src.as_ref().map(source).unwrap_or_default(),
            action: t.action.as_str(),
            direction: t.direction.as_str(),
        }
    }
}

/// The start of the compaction window holding `t`.
pub fn bucket(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(COMPACT_WINDOW)
        .expect("a ten-minute window fits every representable time")
}

/// Where a threat came from, as a key: the IP address, else the MAC, else nothing.
fn source(e: &Endpoint) -> String {
    match (&e.ip, &e.mac) {
        (Some(ip), _) => ip.to_string(),
        (None, Some(mac)) => mac.as_str().to_owned(),
        (None, None) => String::new(),
    }
}

/// The Asia/Tokyo calendar day of `t`, `YYYY-MM-DD`: the unit of the daily rollups.
pub fn day(t: DateTime<Utc>) -> String {
    t.with_timezone(&jst::tokyo())
        .format("%Y-%m-%d")
        .to_string()
}

/// A report ready for the storage statements.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    /// Every distinct event id of the report, as a JSON array of strings.
    pub event_ids: String,
    /// Threat rows ([`THREAT_COLUMNS`]), as a JSON array of arrays.
    pub threats: String,
    /// Usage rows ([`USAGE_COLUMNS`]), as a JSON array of arrays.
    pub usage: String,
    /// Events whose id came earlier in the same report; they count as duplicates.
    pub repeated_in_report: usize,
    /// The most urgent rating among the threats (★★★ is mailed at once).
    pub most_urgent: Option<Severity>,
}

impl Rows {
    /// The rows of a report, threats rated by the built-in rule table in force.
    pub fn of(report: &Report) -> Rows {
        Rows::rated(report, &RuleSet::current())
    }

    /// The rows of a report, threats rated by `rules`.
    pub fn rated(report: &Report, rules: &RuleSet) -> Rows {
        let mut seen = HashSet::new();
        let (mut ids, mut threats, mut usage) = (Vec::new(), Vec::new(), Vec::new());
        let mut ratings = Vec::new();
        for event in &report.events {
            if !seen.insert(event.event_id().as_str()) {
                continue;
            }
            ids.push(Value::from(event.event_id().as_str()));
            match event {
                Event::Threat(t) => {
                    let rating = rules.rate(t);
                    threats.push(threat_row(t, &rating));
                    ratings.push(rating.severity);
                }
                Event::Usage(u) => usage.push(usage_row(u)),
            }
        }
        Rows {
            repeated_in_report: report.events.len() - ids.len(),
            most_urgent: Severity::most_urgent(ratings),
            event_ids: Value::Array(ids).to_string(),
            threats: Value::Array(threats).to_string(),
            usage: Value::Array(usage).to_string(),
        }
    }
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The customer's own machine involved in a threat: the source of outbound and internal
/// traffic, the destination of inbound traffic (IP, else MAC, else nothing).
pub fn internal_host(t: &ThreatEvent) -> String {
    let side = match t.direction {
        Direction::Inbound => t.dst.as_ref(),
        Direction::Outbound | Direction::Internal => t.src.as_ref(),
    };
    side.map(source).unwrap_or_default()
}

fn threat_row(t: &ThreatEvent, rating: &Rating) -> Value {
    let key = CompactKey::of(t);
    let src = t.src.as_ref();
    let dst = t.dst.as_ref();
    let file = t.file.as_ref();
    json!([
        t.event_id.as_str(),
        ms(t.occurred_at),
        ms(key.bucket),
        day(t.occurred_at),
        t.function.as_str(),
        key.action,
        key.direction,
        key.sig_key,
        key.src_key,
        t.threat.name,
        t.threat.signature_id,
        t.threat.category,
        t.threat.vendor_severity.as_str(),
        src.and_then(|e| e.ip).map(|ip| ip.to_string()),
        src.and_then(|e| e.port),
        src.and_then(|e| e.mac.as_ref()).map(|m| m.as_str()),
        dst.and_then(|e| e.ip).map(|ip| ip.to_string()),
        dst.and_then(|e| e.port),
        t.protocol,
        t.url,
        file.and_then(|f| f.name.as_deref()),
        file.and_then(|f| f.sha256.as_deref()),
        internal_host(t),
        rating.severity.as_str(),
        rating.severity as u8,
        rating.rule,
        rating.notice.as_str(),
    ])
}

fn usage_row(u: &UsageEvent) -> Value {
    let client = u.client.as_ref();
    // SQLite integers are signed 64-bit; a counter beyond that is clamped, not wrapped.
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    json!([
        u.event_id.as_str(),
        ms(u.period_start),
        ms(u.period_end),
        day(u.period_start),
        u.kind.as_str(),
        u.name,
        clamp(u.hits),
        clamp(u.bytes),
        client.and_then(|e| e.ip).map(|ip| ip.to_string()),
        client.and_then(|e| e.mac.as_ref()).map(|m| m.as_str()),
    ])
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::report::parse_report;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-25T10:00:00+09:00")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn threat(id: &str, at: &str, sid: Option<&str>, src_ip: Option<&str>) -> Value {
        let mut t = json!({
            "type": "threat", "event_id": id, "occurred_at": at,
            "function": "ips", "action": "blocked", "direction": "inbound",
            "threat": {"name": "ET SCAN Nmap", "vendor_severity": "low"},
        });
        if let Some(sid) = sid {
            t["threat"]["signature_id"] = json!(sid);
        }
        if let Some(ip) = src_ip {
            t["src"] = json!({"ip": ip, "port": 4444});
        }
        t
    }

    fn report(events: Vec<Value>) -> Report {
        let body =
            json!({"report_id": "r-1", "sent_at": "2026-11-25T10:00:00+09:00", "events": events});
        parse_report(body.to_string().as_bytes(), now()).unwrap()
    }

    fn key(v: &Value) -> CompactKey {
        let r = report(vec![v.clone()]);
        let Event::Threat(t) = &r.events[0] else {
            panic!("a threat")
        };
        CompactKey::of(t)
    }

    #[test]
    fn the_same_signature_from_the_same_source_in_one_window_shares_a_key() {
        let a = threat(
            "e-1",
            "2026-11-25T09:40:01+09:00",
            Some("2001219"),
            Some("198.51.100.7"),
        );
        let b = threat(
            "e-2",
            "2026-11-25T09:49:59+09:00",
            Some("2001219"),
            Some("198.51.100.7"),
        );
        assert_eq!(key(&a), key(&b));
    }

    #[test]
    fn a_new_window_a_new_source_or_a_new_signature_is_a_new_key() {
        let a = threat(
            "e-1",
            "2026-11-25T09:49:59+09:00",
            Some("2001219"),
            Some("198.51.100.7"),
        );
        let next_window = threat(
            "e-2",
            "2026-11-25T09:50:00+09:00",
            Some("2001219"),
            Some("198.51.100.7"),
        );
        let other_source = threat(
            "e-3",
            "2026-11-25T09:49:00+09:00",
            Some("2001219"),
            Some("198.51.100.8"),
        );
        let other_sig = threat(
            "e-4",
            "2026-11-25T09:49:00+09:00",
            Some("2001220"),
            Some("198.51.100.7"),
        );
        for other in [next_window, other_source, other_sig] {
            assert_ne!(key(&a), key(&other));
        }
    }

    #[test]
    fn without_a_signature_id_the_name_is_the_signature() {
        let k = key(&threat("e-1", "2026-11-25T09:40:00+09:00", None, None));
        assert_eq!(k.sig_key, "name:ET SCAN Nmap");
        assert_eq!(k.src_key, "");
    }

    #[test]
    fn the_internal_host_is_the_source_going_out_and_the_destination_coming_in() {
        let mut out = threat(
            "e-1",
            "2026-11-25T09:40:00+09:00",
            None,
            Some("192.168.1.23"),
        );
        out["direction"] = json!("outbound");
        out["dst"] = json!({"ip": "203.0.113.9"});
        let mut inbound = out.clone();
        inbound["direction"] = json!("inbound");
        let r = report(vec![out, inbound]);
        let hosts: Vec<String> = r
            .events
            .iter()
            .map(|e| match e {
                Event::Threat(t) => internal_host(t),
                Event::Usage(_) => unreachable!(),
            })
            .collect();
        assert_eq!(hosts, ["192.168.1.23", "203.0.113.9"]);
    }

    #[test]
    fn the_rollup_day_is_the_tokyo_calendar_day() {
        let t = DateTime::parse_from_rfc3339("2026-11-24T15:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(day(t), "2026-11-25");
        assert_eq!(day(t - TimeDelta::seconds(1)), "2026-11-24");
    }

    #[test]
    fn rows_follow_the_column_lists() {
        let r = report(vec![
            threat(
                "e-1",
                "2026-11-25T09:41:00+09:00",
                Some("2001219"),
                Some("198.51.100.7"),
            ),
            json!({"type": "usage", "event_id": "u-1", "period_start": "2026-11-25T09:00:00+09:00",
                   "period_end": "2026-11-25T10:00:00+09:00", "kind": "application", "name": "zoom",
                   "hits": 3, "bytes": 1024, "client": {"mac": "3C:22:FB:01:02:03"}}),
        ]);
        let rows = Rows::of(&r);
        let threats: Value = serde_json::from_str(&rows.threats).unwrap();
        let t = &threats[0];
        assert_eq!(t.as_array().unwrap().len(), THREAT_COLUMNS.len());
        let col = |name: &str| &t[THREAT_COLUMNS.iter().position(|c| *c == name).unwrap()];
        assert_eq!(col("event_id"), "e-1");
        assert_eq!(col("bucket"), &json!(ms(now() - TimeDelta::minutes(20))));
        assert_eq!(col("day"), "2026-11-25");
        assert_eq!(col("src_key"), "198.51.100.7");
        assert_eq!(col("src_port"), 4444);
        assert_eq!(col("dst_ip"), &Value::Null);
        // An inbound scan: the customer's host is the destination, unknown here.
        assert_eq!(col("host"), "");
        assert_eq!(col("severity"), "low");
        assert_eq!(col("rank"), 2);
        assert_eq!(col("rule"), "scan-seen");
        assert_eq!(col("notice"), "mail_unless_mass");
        let usage: Value = serde_json::from_str(&rows.usage).unwrap();
        let u = &usage[0];
        assert_eq!(u.as_array().unwrap().len(), USAGE_COLUMNS.len());
        assert_eq!(
            u[USAGE_COLUMNS
                .iter()
                .position(|c| *c == "client_mac")
                .unwrap()],
            "3c:22:fb:01:02:03"
        );
        assert_eq!(rows.event_ids, r#"["e-1","u-1"]"#);
    }

    #[test]
    fn an_event_id_repeated_within_one_report_is_stored_once_and_counted_as_duplicate() {
        let a = threat("e-1", "2026-11-25T09:41:00+09:00", None, None);
        let rows = Rows::of(&report(vec![a.clone(), a]));
        assert_eq!(rows.event_ids, r#"["e-1"]"#);
        assert_eq!(rows.repeated_in_report, 1);
    }

    #[test]
    fn a_heartbeat_has_no_rows() {
        let rows = Rows::of(&report(vec![]));
        assert_eq!(
            (
                rows.event_ids.as_str(),
                rows.threats.as_str(),
                rows.usage.as_str()
            ),
            ("[]", "[]", "[]")
        );
    }

    proptest! {
        #[test]
        fn every_distinct_event_becomes_exactly_one_row(ids in proptest::collection::vec(0u8..20, 0..60)) {
            let events: Vec<Value> = ids.iter().enumerate().map(|(i, id)| {
                if i % 3 == 0 {
                    json!({"type": "usage", "event_id": format!("x-{id}"), "period_start": "2026-11-25T09:00:00+09:00",
                           "period_end": "2026-11-25T10:00:00+09:00", "kind": "web_category", "name": "sns",
                           "hits": 1, "bytes": 1})
                } else {
                    threat(&format!("x-{id}"), "2026-11-25T09:41:00+09:00", None, None)
                }
            }).collect();
            let rows = Rows::of(&report(events));
            let n = |s: &str| serde_json::from_str::<Vec<Value>>(s).unwrap().len();
            let distinct: HashSet<_> = ids.iter().collect();
            prop_assert_eq!(n(&rows.event_ids), distinct.len());
            prop_assert_eq!(n(&rows.threats) + n(&rows.usage), distinct.len());
            prop_assert_eq!(rows.repeated_in_report + distinct.len(), ids.len());
        }
    }
}
