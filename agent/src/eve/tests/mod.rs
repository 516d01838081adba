use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::TimeDelta;
use domain::report::{
    Action, Direction, Function, Id, ThreatEvent, UsageKind, VendorSeverity, parse_report,
};
use serde_json::{Value, json};

use super::*;

pub(super) fn at(s: &str) -> DateTime<Utc> {
    parse_timestamp(s).unwrap()
}

/// Lines are read shortly after they were logged.
pub(super) fn now() -> DateTime<Utc> {
    at("2026-11-25T10:06:00+09:00")
}

/// Maps a line read at [`now`], times as logged, the default home network.
pub(super) fn map(line: &str) -> Mapped {
    map_line(
        line,
        Clock {
            now: now(),
            timeline: &Timeline::as_logged(),
            home: &HomeNet::default(),
        },
    )
}

pub(super) fn alert_line(overrides: Value) -> Value {
    let mut v = json!({
        "timestamp": "2026-11-25T09:59:31.123456+0900",
        "flow_id": 1_587_312_900_441_200_u64,
        "event_type": "alert",
        "src_ip": "192.168.1.23", "src_port": 50122,
        "dest_ip": "203.0.113.9", "dest_port": 443,
        "proto": "TCP",
        "ether": {"src_mac": "3C:22:FB:01:02:03", "dest_mac": "00:00:5e:00:01:01"},
        "http": {"hostname": "bad.example", "url": "/gate.php"},
        "alert": {"action": "allowed", "signature_id": 2030361, "rev": 2,
                  "signature": "ET MALWARE Win32/Emotet CnC Beacon",
                  "category": "A Network Trojan was detected", "severity": 1}
    });
    merge(&mut v, overrides);
    v
}

pub(super) fn merge(v: &mut Value, overrides: Value) {
    if let (Value::Object(base), Value::Object(new)) = (v, overrides) {
        for (k, val) in new {
            match base.get_mut(&k) {
                Some(slot @ Value::Object(_)) if val.is_object() => merge(slot, val),
                _ => {
                    base.insert(k, val);
                }
            }
        }
    }
}

#[track_caller]
pub(super) fn threat_of(v: &Value) -> ThreatEvent {
    match map(&v.to_string()) {
        Mapped::Threat(t) => *t,
        other => panic!("expected a threat, got {other:?}"),
    }
}

#[track_caller]
fn skipped(v: &Value) -> Skip {
    match map(&v.to_string()) {
        Mapped::Skipped(why) => why,
        other => panic!("expected a skip, got {other:?}"),
    }
}

#[test]
fn an_alert_becomes_an_ips_threat_with_its_signature_and_endpoints() {
    let t = threat_of(&alert_line(json!({})));
    assert_eq!(t.function, Function::Ips);
    assert_eq!(t.action, Action::Detected);
    assert_eq!(t.direction, Direction::Outbound);
    assert_eq!(t.occurred_at, at("2026-11-25T00:59:31.123456Z"));
    assert_eq!(t.threat.name, "ET MALWARE Win32/Emotet CnC Beacon");
    assert_eq!(t.threat.signature_id.as_deref(), Some("2030361"));
    assert_eq!(t.threat.category.as_deref(), Some("trojan-activity"));
    assert_eq!(t.threat.vendor_severity, VendorSeverity::High);
    let src = t.src.unwrap();
    assert_eq!(src.ip, Some("192.168.1.23".parse().unwrap()));
    assert_eq!(src.port, Some(50122));
    assert_eq!(src.mac.unwrap().as_str(), "3c:22:fb:01:02:03");
    assert_eq!(t.dst.unwrap().port, Some(443));
    assert_eq!(t.protocol.as_deref(), Some("tcp"));
    assert_eq!(t.url.as_deref(), Some("http://bad.example/gate.php"));
}

#[test]
fn suricata_priorities_map_to_vendor_severities() {
    let severity = |p: Value| {
        threat_of(&alert_line(json!({"alert": {"severity": p}})))
            .threat
            .vendor_severity
    };
    assert_eq!(severity(json!(1)), VendorSeverity::High);
    assert_eq!(severity(json!(2)), VendorSeverity::Medium);
    assert_eq!(severity(json!(3)), VendorSeverity::Low);
    assert_eq!(severity(json!(4)), VendorSeverity::Info);
    assert_eq!(severity(Value::Null), VendorSeverity::Info);
}

#[test]
fn blocked_stays_blocked_and_anything_else_is_detected() {
    let action = |a: Value| threat_of(&alert_line(json!({"alert": {"action": a}}))).action;
    assert_eq!(action(json!("blocked")), Action::Blocked);
    assert_eq!(action(json!("allowed")), Action::Detected);
    assert_eq!(action(Value::Null), Action::Detected);
}

#[track_caller]
fn check_direction(src: &str, dst: &str, expected: Direction) {
    let v = alert_line(json!({"src_ip": src, "dest_ip": dst}));
    assert_eq!(threat_of(&v).direction, expected, "{src} -> {dst}");
}

#[test]
fn the_direction_follows_which_side_is_private() {
    check_direction("192.168.1.23", "203.0.113.9", Direction::Outbound);
    check_direction("10.0.0.5", "2001:db8::1", Direction::Outbound);
    check_direction("198.51.100.7", "172.16.3.4", Direction::Inbound);
    check_direction("198.51.100.7", "172.32.0.1", Direction::Inbound);
    check_direction("fd12:3456::1", "192.168.1.1", Direction::Internal);
    check_direction("fe80::1", "fd00::2", Direction::Internal);
    check_direction("2001:db8::7", "fd00::2", Direction::Inbound);
    check_direction("198.51.100.7", "203.0.113.10", Direction::Inbound);
}

#[test]
fn categories_become_classtypes_or_are_lowercased_trimmed_and_cut_to_64_characters() {
    let category = |c: &str| {
        threat_of(&alert_line(json!({"alert": {"category": c}})))
            .threat
            .category
    };
    assert_eq!(
        category("  Potentially Bad Traffic "),
        Some("bad-unknown".into())
    );
    assert_eq!(category("Our Own Class"), Some("our own class".into()));
    assert_eq!(category(&"Ä".repeat(100)).unwrap().chars().count(), 64);
    assert_eq!(category("   "), None);
}

#[test]
fn an_alert_without_a_signature_is_skipped() {
    let v = alert_line(json!({"alert": {"signature": "\u{7}"}}));
    assert_eq!(skipped(&v), Skip::MissingField("alert.signature"));
}

#[test]
fn an_anomaly_is_an_informational_ips_event() {
    let v = json!({"timestamp": "2026-11-25T09:50:07.1+0900", "event_type": "anomaly",
        "src_ip": "192.0.2.200", "dest_ip": "192.168.1.57", "proto": "TCP",
        "anomaly": {"type": "applayer", "event": "INVALID_RECORD_TYPE"}});
    let t = threat_of(&v);
    assert_eq!(
        t.threat.name,
        "SURICATA applayer anomaly: INVALID_RECORD_TYPE"
    );
    assert_eq!(t.threat.vendor_severity, VendorSeverity::Info);
    assert_eq!(t.direction, Direction::Inbound);
}

pub(super) fn fileinfo_line(filename: &str, stored: bool) -> Value {
    json!({"timestamp": "2026-11-25T09:46:13.5+0900", "event_type": "fileinfo",
        "src_ip": "198.51.100.77", "src_port": 80, "dest_ip": "192.168.1.23", "dest_port": 50233,
        "proto": "TCP", "http": {"hostname": "files.example", "url": format!("/d/{filename}")},
        "fileinfo": {"filename": format!("/d/{filename}"), "sha256": "ab".repeat(32), "stored": stored}})
}

#[test]
fn an_executable_download_is_recorded_with_its_file_not_judged_as_malware() {
    let t = threat_of(&fileinfo_line("Invoice.PDF.EXE", false));
    assert_eq!(t.function, Function::Other);
    assert_eq!(t.threat.category.as_deref(), Some("executable-download"));
    assert_eq!(t.threat.vendor_severity, VendorSeverity::Info);
    assert_eq!(t.action, Action::Detected);
    assert_eq!(t.direction, Direction::Inbound);
    let file = t.file.unwrap();
    assert_eq!(file.name.as_deref(), Some("Invoice.PDF.EXE"));
    assert_eq!(file.sha256, Some("ab".repeat(32)));
    for name in ["a.dll", "a.scr", "a.js", "a.vbs"] {
        threat_of(&fileinfo_line(name, false));
    }
}

#[test]
fn a_stored_file_counts_and_other_files_are_skipped() {
    assert_eq!(
        threat_of(&fileinfo_line("report.pdf", true)).threat.name,
        "Stored file: report.pdf"
    );
    assert_eq!(
        skipped(&fileinfo_line("logo.png", false)),
        Skip::NotExecutable
    );
    assert_eq!(skipped(&fileinfo_line("exe", false)), Skip::NotExecutable);
}

#[test]
fn flows_stats_and_other_types_are_ignored_and_named() {
    for t in ["flow", "stats", "netflow", "smtp", "drop"] {
        let v = json!({"timestamp": "2026-11-25T09:46:13.5+0900", "event_type": t});
        assert_eq!(skipped(&v), Skip::Ignored(t.to_owned()));
    }
    assert_eq!(
        Skip::Ignored("flow".into()).to_string(),
        "event_type flow ignored"
    );
    assert_eq!(skipped(&json!({"timestamp": "x"})), Skip::NoEventType);
    assert_eq!(map("{not json"), Mapped::Skipped(Skip::NotJson));
    assert_eq!(
        skipped(&json!({"event_type": "alert", "timestamp": "yesterday"})),
        Skip::NoTimestamp
    );
}

#[test]
fn lines_older_than_seven_days_or_from_the_future_are_skipped() {
    let old = alert_line(json!({"timestamp": "2026-11-18T10:10:00.000000+0900"}));
    assert_eq!(skipped(&old), Skip::TooOld);
    let recent = alert_line(json!({"timestamp": "2026-11-18T10:20:00.000000+0900"}));
    threat_of(&recent);
    let ahead = alert_line(json!({"timestamp": "2026-11-25T10:11:00.000000+0900"}));
    assert_eq!(skipped(&ahead), Skip::InFuture);
}

#[test]
fn replay_moves_an_old_line_to_now() {
    let v = alert_line(json!({"timestamp": "2025-01-01T00:00:00.000000+0900"}));
    let logged = at("2025-01-01T00:00:00+09:00");
    let clock = Clock {
        now: now(),
        timeline: &Timeline::shifted(now() - logged),
        home: &HomeNet::default(),
    };
    match map_line(&v.to_string(), clock) {
        Mapped::Threat(t) => assert_eq!(t.occurred_at, now()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn replay_lands_the_newest_event_of_the_sample_within_the_last_hour() {
    let text = include_str!("../../../testdata/eve-sample.json");
    let now = Utc::now();
    let p = plan(text.lines(), now).unwrap();
    assert_eq!(
        p.newest
            .with_timezone(&domain::jst::tokyo())
            .format("%H:%M:%S")
            .to_string(),
        "10:05:44"
    );
    let clock = Clock {
        now,
        timeline: &p.timeline,
        home: &HomeNet::default(),
    };
    let times: Vec<DateTime<Utc>> = text
        .lines()
        .filter_map(|l| match map_line(l, clock) {
            Mapped::Threat(t) => Some(t.occurred_at),
            Mapped::Usage(o) => Some(o.at),
            Mapped::Skipped(_) => None,
        })
        .collect();
    let newest = *times.iter().max().unwrap();
    assert!(newest <= now && now - newest < TimeDelta::hours(1));
    assert!(times.iter().all(|t| *t > now - TimeDelta::minutes(90)));
}

#[test]
fn the_connection_s_initiator_is_the_source_when_suricata_names_it() {
    // A reply from a DROP-listed network to a host that contacted it (Suricata 7).
    let reply = alert_line(json!({
        "src_ip": "87.121.79.141", "src_port": 29347, "dest_ip": "172.16.255.1", "dest_port": 50983,
        "ether": {"src_mac": "00:00:5e:00:01:01", "dest_mac": "3c:22:fb:01:02:03"},
        "direction": "to_client",
        "flow": {"src_ip": "172.16.255.1", "dest_ip": "87.121.79.141", "src_port": 50983, "dest_port": 29347},
    }));
    let t = threat_of(&reply);
    assert_eq!(t.direction, Direction::Outbound);
    let src = t.src.unwrap();
    assert_eq!(src.ip, Some("172.16.255.1".parse().unwrap()));
    assert_eq!(src.port, Some(50983));
    assert_eq!(src.mac.unwrap().as_str(), "3c:22:fb:01:02:03");
    // Without flow.src_ip, `direction: to_client` says the same.
    let mut older = reply.clone();
    older["flow"] = json!({});
    assert_eq!(threat_of(&older).direction, Direction::Outbound);
    // A packet from the initiator stays as it is.
    let ask = alert_line(json!({"direction": "to_server", "flow": {"src_ip": "192.168.1.23"}}));
    assert_eq!(threat_of(&ask).src.unwrap().port, Some(50122));
}

#[test]
fn icmp_without_ports_and_zero_padded_ipv6_are_taken() {
    let icmp = alert_line(
        json!({"src_ip": "192.168.50.15", "dest_ip": "192.168.10.50",
        "src_port": null, "dest_port": null, "proto": "ICMP", "icmp_type": 8}),
    );
    let t = threat_of(&icmp);
    assert_eq!((t.src.unwrap().port, t.dst.unwrap().port), (None, None));
    assert_eq!(t.direction, Direction::Internal);
    let v6 = alert_line(json!({"src_ip": "fe80:0000:0000:0000:0200:86ff:fe05:80da",
        "dest_ip": "2001:0db8:0000:0000:0000:0000:0000:0001"}));
    let t = threat_of(&v6);
    assert_eq!(
        t.src.unwrap().ip,
        Some("fe80::200:86ff:fe05:80da".parse().unwrap())
    );
    assert_eq!(t.direction, Direction::Outbound);
}

#[test]
fn suricata_and_rfc3339_timestamps_are_read() {
    let want = at("2026-11-25T00:59:31.123456Z");
    assert_eq!(
        parse_timestamp("2026-11-25T09:59:31.123456+0900"),
        Some(want)
    );
    assert_eq!(
        parse_timestamp("2026-11-25T09:59:31.123456+09:00"),
        Some(want)
    );
    assert_eq!(parse_timestamp("2026-11-25T00:59:31.123456Z"), Some(want));
    assert_eq!(parse_timestamp("2026-11-25 09:59:31"), None);
}

#[test]
fn the_same_line_always_gets_the_same_event_id() {
    let a = threat_of(&alert_line(json!({})));
    let b = threat_of(&alert_line(json!({})));
    let c = threat_of(&alert_line(json!({"src_port": 50123})));
    assert_eq!(a.event_id, b.event_id);
    assert_ne!(a.event_id, c.event_id);
    assert!(a.event_id.as_str().starts_with("e-1587312900441200-"));
    let no_flow = alert_line(json!({"flow_id": null}));
    assert_eq!(threat_of(&no_flow).event_id.as_str().len(), 34);
}

mod sample;
mod usage;
