//! A device report (api-v1 `POST /api/v1/device/reports`) becomes a [`Report`] here or is
//! refused with the first field at fault. Past [`parse_report`] every id, enum, address,
//! length and time window of api-v1 holds, so storage and triage never re-check them.
//!
//! Unknown fields are ignored (forward compatibility); an unknown event `type` is refused.
//! `null` counts as absent for optional fields. Paths name the field as JSONPath
//! (`$.events[3].threat.name`).

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fields::{FieldError, Obj};
pub use crate::id::Id;

/// api-v1: at most this many events in one report (413 above it).
pub const MAX_EVENTS: usize = 1000;
/// Events may be this old at the most.
pub const MAX_AGE: TimeDelta = TimeDelta::days(7);
/// Events may lie this far ahead of the server's clock at the most.
pub const MAX_SKEW: TimeDelta = TimeDelta::minutes(5);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("the body is not valid JSON")]
    InvalidJson,
    #[error(transparent)]
    InvalidField(#[from] FieldError),
    #[error("a report carries at most {MAX_EVENTS} events, this one has {0}")]
    TooManyEvents(usize),
}

/// A MAC address, normalised to lowercase `xx:xx:xx:xx:xx:xx`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Mac(String);

impl Mac {
    pub fn parse(s: &str) -> Result<Mac, &'static str> {
        let parts: Vec<&str> = s.split(':').collect();
        let well_formed = parts.len() == 6
            && parts
                .iter()
                .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()));
        if !well_formed {
            return Err("must be a MAC address xx:xx:xx:xx:xx:xx");
        }
        Ok(Mac(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $wire)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// The value of its wire name; `None` for any other text.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }

            fn expected() -> String {
                let names: Vec<&str> = vec![$($wire),+];
                format!("must be one of {}", names.join(", "))
            }
        }
    };
}

wire_enum!(
    /// The appliance function that saw the threat.
    Function {
        Antivirus = "antivirus",
        Ips = "ips",
        WebGuard = "web_guard",
        UrlFilter = "url_filter",
        AppGuard = "app_guard",
        AntiPhishing = "anti_phishing",
        Other = "other",
    }
);

wire_enum!(
    /// What the appliance did about it.
    Action { Blocked = "blocked", Detoxified = "detoxified", Detected = "detected" }
);

wire_enum!(
    /// Which way the traffic went, seen from the customer's network.
    Direction { Inbound = "inbound", Outbound = "outbound", Internal = "internal" }
);

wire_enum!(
    /// The appliance vendor's own rating, an input to mimamori's severity.
    VendorSeverity { Critical = "critical", High = "high", Medium = "medium", Low = "low", Info = "info" }
);

wire_enum!(
    /// What a usage record counts.
    UsageKind { WebCategory = "web_category", Application = "application" }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub report_id: Id,
    pub sent_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definitions: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clients: Option<u32>,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Threat(ThreatEvent),
    Usage(UsageEvent),
}

impl Event {
    pub fn event_id(&self) -> &Id {
        match self {
            Event::Threat(t) => &t.event_id,
            Event::Usage(u) => &u.event_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThreatEvent {
    pub event_id: Id,
    pub occurred_at: DateTime<Utc>,
    pub function: Function,
    pub action: Action,
    pub direction: Direction,
    pub threat: Threat,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<File>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Threat {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub vendor_severity: VendorSeverity,
}

/// One side of a connection. Every part is optional: an AV detection may know only the
/// internal host's MAC, a web block only the destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<Mac>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct File {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageEvent {
    pub event_id: Id,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub kind: UsageKind,
    pub name: String,
    pub hits: u64,
    pub bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<Endpoint>,
}

/// Parses a report body received at `now`.
pub fn parse_report(body: &[u8], now: DateTime<Utc>) -> Result<Report, ReportError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| ReportError::InvalidJson)?;
    let root = Obj::root(&value)?;
    let events = match root.get("events") {
        None => return Err(root.invalid("events", "is required").into()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(root.invalid("events", "must be an array").into()),
    };
    if events.len() > MAX_EVENTS {
        return Err(ReportError::TooManyEvents(events.len()));
    }
    let report = Report {
        report_id: root.parsed("report_id", Id::parse)?,
        sent_at: root.time("sent_at")?,
        firmware: root.opt_text("firmware", 64)?,
        definitions: root.opt_text("definitions", 64)?,
        clients: root
            .opt_uint("clients", u64::from(u32::MAX))?
            .map(|n| n as u32),
        events: events
            .iter()
            .enumerate()
            .map(|(i, v)| parse_event(&root.path_to(&format!("events[{i}]")), v, now))
            .collect::<Result<_, _>>()?,
    };
    Ok(report)
}

/// When an event happened: within the last 7 days and at most 5 minutes ahead of `now`.
fn event_time(obj: &Obj<'_>, key: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, FieldError> {
    let t = obj.time(key)?;
    if t < now - MAX_AGE {
        return Err(obj.invalid(key, "is older than 7 days"));
    }
    if t > now + MAX_SKEW {
        return Err(obj.invalid(key, "is more than 5 minutes ahead of the server clock"));
    }
    Ok(t)
}

fn parse_event(path: &str, value: &Value, now: DateTime<Utc>) -> Result<Event, ReportError> {
    let obj = Obj::new(path, value)?;
    match obj.str("type")? {
        "threat" => Ok(Event::Threat(parse_threat(&obj, now)?)),
        "usage" => Ok(Event::Usage(parse_usage(&obj, now)?)),
        _ => Err(obj.invalid("type", "must be threat or usage").into()),
    }
}

fn parse_threat(obj: &Obj<'_>, now: DateTime<Utc>) -> Result<ThreatEvent, ReportError> {
    let threat = obj.obj("threat")?;
    let category = threat.opt_text("category", 64)?;
    if category
        .as_deref()
        .is_some_and(|c| c.chars().any(char::is_uppercase))
    {
        return Err(threat.invalid("category", "must be lowercase").into());
    }
    Ok(ThreatEvent {
        event_id: obj.parsed("event_id", Id::parse)?,
        occurred_at: event_time(obj, "occurred_at", now)?,
        function: obj.wire("function", Function::parse, Function::expected)?,
        action: obj.wire("action", Action::parse, Action::expected)?,
        direction: obj.wire("direction", Direction::parse, Direction::expected)?,
        threat: Threat {
            name: threat.text("name", 256)?,
            signature_id: threat.opt_text("signature_id", 64)?,
            category,
            vendor_severity: threat.wire(
                "vendor_severity",
                VendorSeverity::parse,
                VendorSeverity::expected,
            )?,
        },
        src: opt_endpoint(obj, "src")?,
        dst: opt_endpoint(obj, "dst")?,
        protocol: obj.opt_text("protocol", 16)?,
        url: obj.opt_text("url", 2048)?,
        file: match obj.opt_obj("file")? {
            None => None,
            Some(file) => Some(File {
                name: file.opt_text("name", 255)?,
                sha256: file.opt_text("sha256", 128)?,
            }),
        },
    })
}

fn parse_usage(obj: &Obj<'_>, now: DateTime<Utc>) -> Result<UsageEvent, ReportError> {
    let period_start = event_time(obj, "period_start", now)?;
    let period_end = event_time(obj, "period_end", now)?;
    if period_start >= period_end {
        return Err(obj
            .invalid("period_end", "must be after period_start")
            .into());
    }
    Ok(UsageEvent {
        event_id: obj.parsed("event_id", Id::parse)?,
        period_start,
        period_end,
        kind: obj.wire("kind", UsageKind::parse, UsageKind::expected)?,
        name: obj.text("name", 128)?,
        hits: obj.uint("hits", u64::MAX)?,
        bytes: obj.uint("bytes", u64::MAX)?,
        client: opt_endpoint(obj, "client")?,
    })
}

fn opt_endpoint(obj: &Obj<'_>, key: &str) -> Result<Option<Endpoint>, FieldError> {
    let Some(e) = obj.opt_obj(key)? else {
        return Ok(None);
    };
    let ip = match e.opt_str("ip")? {
        None => None,
        Some(s) => Some(
            s.parse()
                .map_err(|_| e.invalid("ip", "must be an IPv4 or IPv6 address"))?,
        ),
    };
    let port = e.opt_uint("port", u64::from(u16::MAX))?.map(|p| p as u16);
    let mac = match e.opt_str("mac")? {
        None => None,
        Some(s) => Some(Mac::parse(s).map_err(|m| e.invalid("mac", m))?),
    };
    Ok(Some(Endpoint { ip, port, mac }))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-25T10:00:00+09:00")
            .unwrap()
            .with_timezone(&Utc)
    }

    /// The example report of api-v1, which must be accepted as written.
    fn example() -> Value {
        json!({
          "report_id": "r-000123",
          "sent_at": "2026-11-25T10:00:00+09:00",
          "firmware": "1.4.2",
          "definitions": "2026.11.25.01",
          "clients": 37,
          "events": [
            {
              "type": "threat",
              "event_id": "e-98812",
              "occurred_at": "2026-11-25T09:59:31+09:00",
              "function": "ips",
              "action": "blocked",
              "direction": "outbound",
              "threat": {"name": "ET MALWARE Win32/Emotet CnC Beacon", "signature_id": "2030361",
                         "category": "c2", "vendor_severity": "critical"},
              "src": {"ip": "192.168.1.23", "port": 50122, "mac": "3c:22:fb:01:02:03"},
              "dst": {"ip": "203.0.113.9", "port": 443},
              "protocol": "tcp",
              "url": "https://bad.example/gate.php",
              "file": {"name": "invoice.doc.exe", "sha256": "0f"}
            },
            {
              "type": "usage",
              "event_id": "u-5521",
              "period_start": "2026-11-25T09:00:00+09:00",
              "period_end": "2026-11-25T10:00:00+09:00",
              "kind": "web_category",
              "name": "sns",
              "hits": 412,
              "bytes": 18233411,
              "client": {"ip": "192.168.1.23", "mac": "3c:22:fb:01:02:03"}
            }
          ]
        })
    }

    fn parse(v: &Value) -> Result<Report, ReportError> {
        parse_report(v.to_string().as_bytes(), now())
    }

    /// Changes one field of the example (a JSON pointer) and expects the error at `path`.
    #[track_caller]
    fn check_rejected(pointer: &str, new: Value, path: &str) {
        let mut v = example();
        *v.pointer_mut(pointer).unwrap() = new;
        match parse(&v) {
            Err(ReportError::InvalidField(e)) => assert_eq!(e.path, path),
            other => panic!("expected invalid_field at {path}, got {other:?}"),
        }
    }

    #[test]
    fn the_api_v1_example_is_accepted_with_every_field() {
        let r = parse(&example()).unwrap();
        assert_eq!(r.report_id.as_str(), "r-000123");
        assert_eq!(r.clients, Some(37));
        assert_eq!(r.events.len(), 2);
        let Event::Threat(t) = &r.events[0] else {
            panic!("first event is a threat")
        };
        assert_eq!(t.function, Function::Ips);
        assert_eq!(t.threat.vendor_severity, VendorSeverity::Critical);
        assert_eq!(t.src.as_ref().unwrap().port, Some(50122));
        assert_eq!(t.occurred_at.to_rfc3339(), "2026-11-25T00:59:31+00:00");
        let Event::Usage(u) = &r.events[1] else {
            panic!("second event is usage")
        };
        assert_eq!((u.hits, u.bytes), (412, 18_233_411));
    }

    #[test]
    fn an_empty_events_array_is_a_heartbeat() {
        let mut v = example();
        v["events"] = json!([]);
        assert!(parse(&v).unwrap().events.is_empty());
    }

    #[test]
    fn a_body_that_is_not_json_is_invalid_json() {
        assert_eq!(
            parse_report(b"{\"report_id\":", now()),
            Err(ReportError::InvalidJson)
        );
        assert_eq!(
            parse_report(&[0xff, 0xfe], now()),
            Err(ReportError::InvalidJson)
        );
    }

    #[test]
    fn a_report_that_is_not_an_object_is_invalid_at_the_root() {
        assert!(matches!(
            parse_report(b"[]", now()),
            Err(ReportError::InvalidField(e)) if e.path == "$"
        ));
    }

    #[test]
    fn more_than_a_thousand_events_is_too_many() {
        let mut v = example();
        let heartbeat = v["events"][1].clone();
        v["events"] = Value::Array(vec![heartbeat; MAX_EVENTS + 1]);
        assert_eq!(parse(&v), Err(ReportError::TooManyEvents(MAX_EVENTS + 1)));
    }

    #[test]
    fn ids_outside_the_allowed_alphabet_or_length_are_rejected() {
        check_rejected("/report_id", json!(""), "$.report_id");
        check_rejected("/report_id", json!("r 1"), "$.report_id");
        check_rejected("/report_id", json!("r".repeat(65)), "$.report_id");
        check_rejected("/events/0/event_id", json!("e/1"), "$.events[0].event_id");
        check_rejected("/events/1/event_id", json!(7), "$.events[1].event_id");
    }

    #[test]
    fn enums_accept_only_the_listed_words() {
        check_rejected(
            "/events/0/function",
            json!("firewall"),
            "$.events[0].function",
        );
        check_rejected("/events/0/action", json!("Blocked"), "$.events[0].action");
        check_rejected(
            "/events/0/direction",
            json!("sideways"),
            "$.events[0].direction",
        );
        check_rejected(
            "/events/0/threat/vendor_severity",
            json!("severe"),
            "$.events[0].threat.vendor_severity",
        );
        check_rejected("/events/1/kind", json!("domain"), "$.events[1].kind");
    }

    #[test]
    fn an_unknown_event_type_is_rejected() {
        check_rejected("/events/1/type", json!("alarm"), "$.events[1].type");
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let mut v = example();
        v["future"] = json!({"anything": 1});
        v["events"][0]["threat"]["cve"] = json!("CVE-2026-0001");
        assert!(parse(&v).is_ok());
    }

    #[test]
    fn addresses_ports_and_macs_are_checked() {
        check_rejected(
            "/events/0/src/ip",
            json!("192.168.1.300"),
            "$.events[0].src.ip",
        );
        check_rejected("/events/0/dst/port", json!(65536), "$.events[0].dst.port");
        check_rejected("/events/0/dst/port", json!(-1), "$.events[0].dst.port");
        check_rejected(
            "/events/0/src/mac",
            json!("3c-22-fb-01-02-03"),
            "$.events[0].src.mac",
        );
        check_rejected(
            "/events/1/client/ip",
            json!("::gg"),
            "$.events[1].client.ip",
        );
    }

    #[test]
    fn ipv6_and_uppercase_macs_are_accepted_and_macs_normalised() {
        let mut v = example();
        v["events"][0]["src"] = json!({"ip": "2001:db8::1", "mac": "3C:22:FB:01:02:03"});
        let r = parse(&v).unwrap();
        let Event::Threat(t) = &r.events[0] else {
            panic!()
        };
        assert_eq!(
            t.src.as_ref().unwrap().mac.as_ref().unwrap().as_str(),
            "3c:22:fb:01:02:03"
        );
    }

    #[test]
    fn lengths_and_control_characters_are_checked() {
        check_rejected(
            "/events/0/threat/name",
            json!(""),
            "$.events[0].threat.name",
        );
        check_rejected(
            "/events/0/threat/name",
            json!("x".repeat(257)),
            "$.events[0].threat.name",
        );
        check_rejected(
            "/events/0/threat/name",
            json!("bad\u{7}bell"),
            "$.events[0].threat.name",
        );
        check_rejected(
            "/events/0/url",
            json!(format!("https://x/{}", "a".repeat(2048))),
            "$.events[0].url",
        );
        check_rejected(
            "/events/0/file/name",
            json!("f".repeat(256)),
            "$.events[0].file.name",
        );
        check_rejected(
            "/events/0/threat/category",
            json!("C2"),
            "$.events[0].threat.category",
        );
    }

    #[test]
    fn a_256_character_japanese_threat_name_is_accepted() {
        let mut v = example();
        v["events"][0]["threat"]["name"] = json!("脅".repeat(256));
        assert!(parse(&v).is_ok());
    }

    #[test]
    fn an_event_older_than_seven_days_is_rejected() {
        check_rejected(
            "/events/0/occurred_at",
            json!("2026-11-18T09:59:59+09:00"),
            "$.events[0].occurred_at",
        );
    }

    #[test]
    fn an_event_exactly_seven_days_old_is_accepted() {
        let mut v = example();
        v["events"][0]["occurred_at"] = json!("2026-11-18T10:00:00+09:00");
        assert!(parse(&v).is_ok());
    }

    #[test]
    fn an_event_more_than_five_minutes_ahead_is_rejected() {
        check_rejected(
            "/events/0/occurred_at",
            json!("2026-11-25T10:05:01+09:00"),
            "$.events[0].occurred_at",
        );
        check_rejected(
            "/events/1/period_end",
            json!("2026-11-25T10:06:00+09:00"),
            "$.events[1].period_end",
        );
    }

    #[test]
    fn a_sent_at_outside_the_years_rfc_3339_can_write_is_rejected() {
        // Found by the fuzz target's round-trip check: year 0 at +09:00 is year -1 in UTC.
        check_rejected("/sent_at", json!("0000-01-01T00:00:00+09:00"), "$.sent_at");
        check_rejected("/sent_at", json!("9999-12-31T23:59:59-00:01"), "$.sent_at");
    }

    #[test]
    fn a_time_without_an_offset_is_rejected() {
        check_rejected(
            "/events/0/occurred_at",
            json!("2026-11-25T09:59:31"),
            "$.events[0].occurred_at",
        );
        check_rejected("/sent_at", json!("yesterday"), "$.sent_at");
    }

    #[test]
    fn a_usage_period_must_end_after_it_starts() {
        check_rejected(
            "/events/1/period_end",
            json!("2026-11-25T09:00:00+09:00"),
            "$.events[1].period_end",
        );
    }

    #[test]
    fn counts_must_be_whole_non_negative_numbers() {
        check_rejected("/events/1/hits", json!(-3), "$.events[1].hits");
        check_rejected("/events/1/bytes", json!(1.5), "$.events[1].bytes");
        check_rejected("/clients", json!("37"), "$.clients");
    }

    #[test]
    fn null_optional_fields_count_as_absent_and_required_ones_as_missing() {
        let mut v = example();
        v["firmware"] = Value::Null;
        v["events"][0]["src"] = Value::Null;
        assert!(parse(&v).is_ok());
        check_rejected("/events/0/threat", Value::Null, "$.events[0].threat");
    }

    /// Arbitrary JSON values, nested a few levels.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            ".{0,20}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::hash_map(
                    prop_oneof![
                        Just("report_id".to_owned()),
                        Just("sent_at".to_owned()),
                        Just("events".to_owned()),
                        Just("type".to_owned()),
                        Just("threat".to_owned()),
                        ".{0,8}".prop_map(|s| s),
                    ],
                    inner,
                    0..8,
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_report(&bytes, now());
        }

        #[test]
        fn arbitrary_json_never_panics(v in any_json()) {
            let _ = parse(&v);
        }

        #[test]
        fn the_example_with_one_field_replaced_by_arbitrary_json_never_panics(
            pointer in prop_oneof![
                Just("/report_id"), Just("/events"), Just("/events/0"), Just("/events/0/threat"),
                Just("/events/0/src"), Just("/events/0/src/port"), Just("/events/1/hits"),
                Just("/events/1/period_start"), Just("/clients"),
            ],
            new in any_json(),
        ) {
            let mut v = example();
            *v.pointer_mut(pointer).unwrap() = new;
            let _ = parse(&v);
        }

        #[test]
        fn accepted_reports_round_trip(
            n_threats in 0usize..5,
            n_usage in 0usize..5,
            name in "[^\\p{Cc}]{1,40}",
            port in any::<u16>(),
            hits in any::<u64>(),
            seconds_ago in 0i64..(7 * 24 * 3600),
        ) {
            let mut v = example();
            let at = (now() - TimeDelta::seconds(seconds_ago)).to_rfc3339();
            let mut threat = v["events"][0].clone();
            threat["threat"]["name"] = json!(name);
            threat["src"]["port"] = json!(port);
            threat["occurred_at"] = json!(at);
            let mut usage = v["events"][1].clone();
            usage["hits"] = json!(hits);
            let mut events = Vec::new();
            for i in 0..n_threats {
                let mut t = threat.clone();
                t["event_id"] = json!(format!("e-{i}"));
                events.push(t);
            }
            for i in 0..n_usage {
                let mut u = usage.clone();
                u["event_id"] = json!(format!("u-{i}"));
                events.push(u);
            }
            v["events"] = Value::Array(events);
            let parsed = parse(&v).unwrap();
            let again = parse_report(serde_json::to_string(&parsed).unwrap().as_bytes(), now()).unwrap();
            prop_assert_eq!(parsed, again);
        }
    }
}
