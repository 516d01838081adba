//! The table against what real appliances send: every signature name and classtype below
//! is taken from the Suricata logs in `shared/data/eve/` (named per line), mapped as the
//! agent's eve.json forwarder maps them (classtype → category, priority 1/2/3 →
//! high/medium/low, `allowed` → detected, direction from the home network and the flow's
//! initiator).

use super::*;

/// One real alert: signature, classtype (`None` for a rule without one), priority as the
/// vendor severity, direction, and the rating it must get.
type Case = (
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    Severity,
    &'static str,
    Notice,
);

const H: Severity = Severity::High;
const M: Severity = Severity::Medium;
const L: Severity = Severity::Low;
const MAIL: Notice = Notice::Mail;
const UNLESS_MASS: Notice = Notice::MailUnlessMass;
const RECORD: Notice = Notice::Record;

#[rustfmt::skip]
const ALERTS: &[Case] = &[
    // nicoaller: a FormBook-infected host and Dridex-like TLS clients (pcap replay).
    ("ET MALWARE FormBook CnC Checkin (GET)", Some("command-and-control"), "high", "outbound", H, "c2-from-inside", MAIL),
    ("ET JA3 Hash - [Abuse.ch] Possible Dridex", Some("unknown"), "low", "outbound", M, "malware-fingerprint-from-inside", MAIL),
    ("ET POLICY PE EXE or DLL Windows file download HTTP", Some("policy-violation"), "high", "inbound", L, "policy", RECORD),
    ("ET INFO EXE - Served Attached HTTP", Some("misc-activity"), "low", "inbound", L, "informational", RECORD),
    ("ET POLICY Self Signed SSL Certificate (SomeOrganizationalUnit)", Some("policy-violation"), "high", "inbound", L, "policy", RECORD),
    ("SURICATA Applayer Detect protocol only one direction", Some("protocol-command-decode"), "low", "internal", L, "protocol-anomaly", RECORD),
    // sashalarso: IcedID, its DNS lookups through the office's resolver, its C2's TLS.
    ("ET MALWARE Observed IcedID Domain (asleytomafa .com in TLS SNI)", Some("trojan-activity"), "high", "outbound", H, "malware-from-inside", MAIL),
    ("ET MALWARE DNS Query to IcedID Domain (asleytomafa .com)", Some("trojan-activity"), "high", "internal", H, "malware-from-inside", MAIL),
    ("ET MALWARE Win32/IcedID Requesting Encoded Binary M4", Some("command-and-control"), "high", "outbound", H, "c2-from-inside", MAIL),
    ("ET MALWARE Win32/IcedID Request Cookie", Some("trojan-activity"), "high", "outbound", H, "malware-from-inside", MAIL),
    ("ET POLICY OpenSSL Demo CA - Internet Widgits Pty (O)", Some("not-suspicious"), "low", "outbound", L, "policy", RECORD),
    // faridasallem: a custom rule on Windows, no ET family, classtype trojan-activity.
    ("Blocked Trojan Communication to IP 85.114.128.127", Some("trojan-activity"), "high", "outbound", H, "malware-from-inside", MAIL),
    // IceFice1337: chat clients, and a reply from a Spamhaus DROP-listed network.
    ("ET CHAT Skype User-Agent detected", Some("policy-violation"), "high", "outbound", L, "policy", RECORD),
    ("GPL CHAT MSN user search", Some("policy-violation"), "high", "outbound", L, "policy", RECORD),
    ("ET CHAT Skype VOIP Checking Version (Startup)", Some("policy-violation"), "high", "outbound", L, "policy", RECORD),
    ("ET DROP Spamhaus DROP Listed Traffic Inbound group 12", Some("misc-attack"), "medium", "outbound", M, "bad-reputation-from-inside", MAIL),
    ("ET DROP Spamhaus DROP Listed Traffic Inbound group 12", Some("misc-attack"), "medium", "inbound", L, "attack-attempt", UNLESS_MASS),
    // mauz88: Nmap from the internet against a cloud host.
    ("ET SCAN Nmap Scripting Engine User-Agent Detected (Nmap Scripting Engine)", Some("web-application-attack"), "high", "inbound", L, "scan-seen", UNLESS_MASS),
    ("ET SCAN Potential SSH Scan", Some("attempted-recon"), "medium", "inbound", L, "scan-seen", UNLESS_MASS),
    // LandonHare: scans inside a lab network.
    ("ET SCAN NMAP OS Detection Probe", Some("attempted-recon"), "medium", "internal", L, "scan-seen", UNLESS_MASS),
    ("ET SCAN Suspicious inbound to mySQL port 3306", Some("bad-unknown"), "medium", "internal", L, "scan-seen", UNLESS_MASS),
    ("ET SCAN Suspicious inbound to MSSQL port 1433", Some("bad-unknown"), "medium", "internal", L, "scan-seen", UNLESS_MASS),
    ("ET SCAN Potential VNC Scan 5800-5820", Some("attempted-recon"), "medium", "internal", L, "scan-seen", UNLESS_MASS),
    ("GPL ICMP_INFO PING *NIX", Some("misc-activity"), "low", "internal", L, "informational", RECORD),
    ("SURICATA ICMPv4 unknown code", Some("protocol-command-decode"), "low", "internal", L, "protocol-anomaly", RECORD),
    // mkhairin: Nmap's user agent inside a lab.
    ("ET SCAN Possible Nmap User-Agent Observed", Some("web-application-attack"), "high", "internal", L, "scan-seen", UNLESS_MASS),
    // bebehack3r: exploits against a router and Shellshock against web servers, not blocked.
    ("ET EXPLOIT NETGEAR WNR2000v5 hidden_lang_avi Stack Overflow (CVE-2016-10174)", Some("attempted-admin"), "high", "internal", M, "exploit-may-have-worked", MAIL),
    ("ET WEB_SERVER Possible CVE-2014-6271 Attempt in Headers", Some("attempted-admin"), "high", "internal", M, "exploit-may-have-worked", MAIL),
    ("ET WEB_SERVER Possible CVE-2014-6271 Attempt", Some("attempted-admin"), "high", "inbound", M, "exploit-may-have-worked", MAIL),
    ("SURICATA TLS invalid record/traffic", Some("protocol-command-decode"), "low", "internal", L, "protocol-anomaly", RECORD),
    ("SURICATA TLS invalid record version", Some("protocol-command-decode"), "low", "internal", L, "protocol-anomaly", RECORD),
    ("ET POLICY Http Client Body contains pass= in cleartext", Some("policy-violation"), "high", "internal", L, "policy", RECORD),
    // elastic/beats: an IP-lookup domain in TLS SNI.
    ("ET POLICY Observed IP Lookup Domain (l2 .io in TLS SNI)", Some("policy-violation"), "high", "internal", L, "policy", RECORD),
    // OISF suricata-verify: a successful-attack response, test rules without a classtype.
    ("GPL ATTACK_RESPONSE id check returned root", Some("bad-unknown"), "medium", "inbound", M, "attack-response", MAIL),
    ("TLS FINGERPRINT TEST", None, "low", "inbound", L, "low-priority", RECORD),
    ("Test LDAP search request number argument", None, "low", "inbound", L, "low-priority", RECORD),
];

/// A case as the forwarder sends it: detected (Suricata in IDS mode lets it pass).
fn sent(&(name, category, vendor, direction, ..): &Case) -> ThreatEvent {
    event(json!({
        "direction": direction, "action": "detected",
        "threat": {"name": name, "category": category, "vendor_severity": vendor},
    }))
}

#[test]
fn every_real_suricata_alert_is_rated_as_its_family_and_classtype_say() {
    let t = RuleSet::current();
    for case @ &(name, _, _, direction, severity, rule, notice) in ALERTS {
        let r = t.rate(&sent(case));
        assert_eq!(
            (r.severity, r.rule.as_str(), r.notice),
            (severity, rule, notice),
            "{name} ({direction})"
        );
    }
}

#[test]
fn the_forwarders_anomalies_and_file_records_are_recorded_not_mailed() {
    let t = RuleSet::current();
    for (function, name, category) in [
        (
            "ips",
            "SURICATA applayer anomaly: APPLAYER_DETECT_PROTOCOL_ONLY_ONE_DIRECTION",
            "anomaly",
        ),
        (
            "ips",
            "SURICATA applayer anomaly: failed_decrypt",
            "anomaly",
        ),
        (
            "ips",
            "SURICATA applayer anomaly: RESPONSE_HEADER_REPETITION",
            "anomaly",
        ),
        (
            "other",
            "Executable download: eicar.com",
            "executable-download",
        ),
        ("other", "Stored file: invoice.pdf", "file-stored"),
    ] {
        for direction in ["inbound", "outbound", "internal"] {
            let e = event(json!({
                "function": function, "direction": direction, "action": "detected",
                "threat": {"name": name, "category": category, "vendor_severity": "info"},
            }));
            let r = t.rate(&e);
            assert_eq!((r.severity, r.notice), (L, RECORD), "{name} ({direction})");
        }
    }
}

#[test]
fn on_real_alerts_the_first_table_could_decide_almost_nothing() {
    let v1 = RuleSet::v1();
    let undecided = ALERTS
        .iter()
        .filter(|case| v1.rate(&sent(case)).severity == Severity::Investigating)
        .count();
    assert!(
        undecided * 2 > ALERTS.len(),
        "{undecided} of {}",
        ALERTS.len()
    );
}

proptest! {
    /// Whatever an appliance makes of a real signature (any function, action, direction
    /// and vendor severity), the table gives it exactly one rule; only what the appliance
    /// itself rates above "low" can be left to a person.
    #[test]
    fn every_real_signature_gets_exactly_one_decided_rule(
        case in proptest::sample::select(ALERTS),
        function in proptest::sample::select(Function::ALL),
        action in proptest::sample::select(Action::ALL),
        direction in proptest::sample::select(Direction::ALL),
        vendor in proptest::sample::select(VendorSeverity::ALL),
    ) {
        let (name, category, ..) = case;
        let mut e = event(json!({"threat": {"name": name, "category": category}}));
        e.function = function;
        e.action = action;
        e.direction = direction;
        e.threat.vendor_severity = vendor;
        let t = RuleSet::current();
        let r = t.rate(&e);
        match t.rules.iter().find(|x| x.when.holds(&e)) {
            Some(first) => prop_assert_eq!(&r.rule, &first.id),
            None => prop_assert_eq!(&r.rule, &t.otherwise.id),
        }
        if matches!(vendor, VendorSeverity::Low | VendorSeverity::Info) {
            prop_assert_ne!(r.severity, Severity::Investigating, "{}", name);
        }
    }
}
