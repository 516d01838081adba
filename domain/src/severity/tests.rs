use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::report::{Event, parse_report};

/// A threat event shaped like api-v1's example, with `changes` merged over it.
fn event(changes: Value) -> ThreatEvent {
    let mut e = json!({
        "type": "threat", "event_id": "e-1", "occurred_at": "2026-11-25T09:59:31+09:00",
        "function": "ips", "action": "blocked", "direction": "inbound",
        "threat": {"name": "Something", "vendor_severity": "medium"},
    });
    for (k, v) in changes.as_object().unwrap() {
        if k == "threat" {
            for (tk, tv) in v.as_object().unwrap() {
                e["threat"][tk] = tv.clone();
            }
        } else {
            e[k] = v.clone();
        }
    }
    let body = json!({"report_id": "r", "sent_at": "2026-11-25T10:00:00+09:00", "events": [e]});
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T10:00:00+09:00")
        .unwrap()
        .to_utc();
    match parse_report(body.to_string().as_bytes(), now)
        .unwrap()
        .events
        .remove(0)
    {
        Event::Threat(t) => t,
        Event::Usage(_) => unreachable!(),
    }
}

#[track_caller]
fn check(changes: Value, severity: Severity, rule: &str) {
    let rating = RuleSet::current().rate(&event(changes));
    assert_eq!(
        (rating.severity, rating.rule.as_str()),
        (severity, rule),
        "{}",
        rating.reason
    );
}

#[test]
fn an_outbound_c2_beacon_from_an_internal_host_is_three_stars() {
    check(
        json!({"direction": "outbound", "action": "detected",
               "threat": {"name": "ET MALWARE Win32/Emotet CnC Beacon", "category": "c2", "vendor_severity": "critical"}}),
        Severity::High,
        "c2-from-inside",
    );
}

#[test]
fn a_blocked_c2_beacon_is_still_three_stars_because_the_host_is_infected() {
    check(
        json!({"direction": "outbound", "action": "blocked", "threat": {"name": "ET MALWARE Win32/Emotet CnC Beacon"}}),
        Severity::High,
        "c2-from-inside",
    );
}

#[test]
fn malware_traffic_between_internal_hosts_is_three_stars() {
    check(
        json!({"direction": "internal", "threat": {"name": "ET TROJAN SMB worm", "category": "worm"}}),
        Severity::High,
        "malware-from-inside",
    );
}

#[test]
fn a_malware_file_that_got_through_is_three_stars() {
    check(
        json!({"function": "antivirus", "action": "detected"}),
        Severity::High,
        "malware-file-let-through",
    );
}

#[test]
fn a_malware_download_stopped_is_two_stars() {
    for action in ["detoxified", "blocked"] {
        check(
            json!({"function": "antivirus", "action": action}),
            Severity::Medium,
            "malware-file-stopped",
        );
    }
}

#[test]
fn reaching_a_malware_or_phishing_site_is_two_stars() {
    for category in ["malware", "phishing"] {
        check(
            json!({"function": "web_guard", "direction": "outbound", "threat": {"category": category}}),
            Severity::Medium,
            "bad-site-reached",
        );
    }
    check(
        json!({"function": "anti_phishing", "direction": "outbound"}),
        Severity::Medium,
        "phishing-blocked",
    );
}

#[test]
fn inbound_scans_are_one_star_whether_blocked_or_seen() {
    check(
        json!({"threat": {"name": "ET SCAN Suspicious inbound to MSSQL port 1433", "category": "scan"}}),
        Severity::Low,
        "scan-seen",
    );
    check(
        json!({"action": "detected", "threat": {"name": "ET SCAN Potential SSH Scan", "category": "attempted-recon"}}),
        Severity::Low,
        "scan-seen",
    );
}

#[test]
fn a_blocked_inbound_attack_is_one_star() {
    check(
        json!({"threat": {"name": "Something", "vendor_severity": "high"}}),
        Severity::Low,
        "inbound-attack-blocked",
    );
}

#[test]
fn unwanted_software_is_one_star_and_policy_hits_are_recorded() {
    check(
        json!({"direction": "outbound", "action": "detected", "function": "app_guard", "threat": {"category": "pup-activity"}}),
        Severity::Low,
        "unwanted-software",
    );
    check(
        json!({"direction": "outbound", "action": "detected", "function": "app_guard", "threat": {"category": "p2p"}}),
        Severity::Low,
        "policy",
    );
}

#[test]
fn what_no_rule_decides_is_under_investigation() {
    check(
        json!({"direction": "outbound", "action": "detected", "threat": {"name": "Odd thing", "category": "new-kind", "vendor_severity": "high"}}),
        Severity::Investigating,
        "undecided",
    );
    check(
        json!({"direction": "internal", "action": "detected", "threat": {"name": "Odd thing", "vendor_severity": "critical"}}),
        Severity::Investigating,
        "undecided",
    );
}

#[test]
fn an_exploit_that_was_not_stopped_may_have_worked() {
    check(
        json!({"direction": "inbound", "action": "detected", "threat": {"name": "Exploit attempt", "category": "exploit", "vendor_severity": "critical"}}),
        Severity::Medium,
        "exploit-may-have-worked",
    );
}

#[test]
fn the_first_table_still_rates_as_it_did() {
    let v1 = RuleSet::v1();
    let exploit = event(
        json!({"direction": "inbound", "action": "detected", "threat": {"name": "Exploit attempt", "category": "exploit", "vendor_severity": "critical"}}),
    );
    assert_eq!(v1.rate(&exploit).rule, "undecided");
    assert_eq!(v1.rate(&exploit).rules_version, 1);
    let scan = event(json!({"threat": {"category": "scan"}}));
    assert_eq!(v1.rate(&scan).rule, "inbound-attack-blocked");
}

#[test]
fn each_rule_of_each_built_in_table_explains_itself_by_id() {
    for version in [1, 2] {
        let t = RuleSet::built_in(version).unwrap();
        assert_eq!(t.version, version);
        for r in &t.rules {
            assert_eq!(t.reason(&r.id), r.reason);
        }
        assert_eq!(t.reason("no-such-rule"), t.otherwise.reason);
    }
    assert!(RuleSet::built_in(3).is_none());
    assert_eq!(RuleSet::current().version, 2);
}

#[test]
fn every_rating_names_the_table_version_and_says_why_in_japanese() {
    let r = RuleSet::current().rate(&event(json!({})));
    assert_eq!(r.rules_version, 2);
    assert!(!r.reason.is_empty() && !r.reason.is_ascii());
}

#[test]
fn a_stored_rank_reads_back_as_its_tier() {
    for s in [
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Investigating,
    ] {
        assert_eq!(Severity::from_rank(s as u8), s);
    }
    assert_eq!(Severity::from_rank(9), Severity::Investigating);
}

#[test]
fn the_most_urgent_tier_wins_and_investigating_carries_no_star() {
    use Severity::*;
    assert_eq!(Severity::most_urgent([Low, High, Medium]), Some(High));
    assert_eq!(Severity::most_urgent([Investigating, Low]), Some(Low));
    assert_eq!(Severity::most_urgent([Investigating]), Some(Investigating));
    assert_eq!(Severity::most_urgent([]), None);
    assert_eq!(High.stars(), "★★★");
    assert_eq!(Investigating.stars(), "調査中");
}

#[test]
fn each_tier_tells_a_non_expert_what_to_do() {
    use Severity::*;
    assert!(High.guidance().contains("フルスキャン"));
    assert!(Medium.guidance().contains("フルスキャン"));
    assert!(Investigating.guidance().contains("お知らせします"));
    for s in [High, Medium, Low, Investigating] {
        assert!(!s.meaning().is_empty());
    }
}

#[test]
fn a_table_with_a_repeated_id_or_uppercase_category_is_refused() {
    let mut v: Value = serde_json::from_str(include_str!("rules-v2.json")).unwrap();
    v["rules"][1]["id"] = v["rules"][0]["id"].clone();
    assert!(matches!(
        RuleSet::parse(&v.to_string()),
        Err(RuleSetError::DuplicateId(_))
    ));
    let mut v: Value = serde_json::from_str(include_str!("rules-v2.json")).unwrap();
    v["rules"][0]["when"]["category"][0] = json!("C2");
    assert!(matches!(
        RuleSet::parse(&v.to_string()),
        Err(RuleSetError::NotLowercase(_))
    ));
    let mut v: Value = serde_json::from_str(include_str!("rules-v2.json")).unwrap();
    v["rules"][0]["when"]["colour"] = json!(["red"]);
    assert!(matches!(
        RuleSet::parse(&v.to_string()),
        Err(RuleSetError::Invalid(_))
    ));
    let mut v: Value = serde_json::from_str(include_str!("rules-v2.json")).unwrap();
    v["rules"][0]["when"]["family"] = json!(["ET MALWARE"]);
    assert!(matches!(
        RuleSet::parse(&v.to_string()),
        Err(RuleSetError::NotLowercase(_))
    ));
    let mut v: Value = serde_json::from_str(include_str!("rules-v2.json")).unwrap();
    v["rules"][0]["notice"] = json!("shout");
    assert!(matches!(
        RuleSet::parse(&v.to_string()),
        Err(RuleSetError::Invalid(_))
    ));
}

#[test]
fn the_table_round_trips_through_its_json_form() {
    for t in [RuleSet::v1(), RuleSet::v2()] {
        assert_eq!(
            RuleSet::parse(&serde_json::to_string(&t).unwrap()).unwrap(),
            t
        );
    }
}

proptest! {
    #[test]
    fn every_event_gets_exactly_one_rating_from_the_table(
        function in proptest::sample::select(Function::ALL),
        action in proptest::sample::select(Action::ALL),
        direction in proptest::sample::select(Direction::ALL),
        vendor in proptest::sample::select(VendorSeverity::ALL),
        category in proptest::option::of("[a-z0-9-]{1,12}"),
        name in "[ -~]{1,40}",
    ) {
        let mut e = event(json!({}));
        e.function = function;
        e.action = action;
        e.direction = direction;
        e.threat.vendor_severity = vendor;
        e.threat.category = category;
        e.threat.name = name;
        for t in [RuleSet::v1(), RuleSet::v2()] {
            let r = t.rate(&e);
            let known = t.rules.iter().any(|x| x.id == r.rule) || r.rule == t.otherwise.id;
            prop_assert!(known);
            // A rule that fires at all fires for the first matching rule only.
            match t.rules.iter().find(|x| x.when.holds(&e)) {
                Some(first) => {
                    prop_assert_eq!(&r.rule, &first.id);
                    prop_assert_eq!(r.notice, first.notice);
                }
                None => prop_assert_eq!(&r.rule, &t.otherwise.id),
            }
        }
    }
}

mod real;
