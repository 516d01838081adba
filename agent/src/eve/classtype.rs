//! Suricata writes an alert's classtype as its description ("A Network Trojan was
//! detected"); api-v1's category is the classtype itself (`trojan-activity`), the name
//! rule tables match. The list is Suricata's `classification.config` as shipped with the
//! ET Open rules. A description not in it (a site's own classification) is kept,
//! lowercased, so nothing an appliance said is lost.

/// Description (lowercase) → classtype.
const CLASSTYPES: &[(&str, &str)] = &[
    ("not suspicious traffic", "not-suspicious"),
    ("unknown traffic", "unknown"),
    ("potentially bad traffic", "bad-unknown"),
    ("attempted information leak", "attempted-recon"),
    ("information leak", "successful-recon-limited"),
    (
        "large scale information leak",
        "successful-recon-largescale",
    ),
    ("attempted denial of service", "attempted-dos"),
    ("denial of service", "successful-dos"),
    ("attempted user privilege gain", "attempted-user"),
    ("unsuccessful user privilege gain", "unsuccessful-user"),
    ("successful user privilege gain", "successful-user"),
    ("attempted administrator privilege gain", "attempted-admin"),
    (
        "successful administrator privilege gain",
        "successful-admin",
    ),
    ("decode of an rpc query", "rpc-portmap-decode"),
    ("executable code was detected", "shellcode-detect"),
    ("a suspicious string was detected", "string-detect"),
    (
        "a suspicious filename was detected",
        "suspicious-filename-detect",
    ),
    (
        "an attempted login using a suspicious username was detected",
        "suspicious-login",
    ),
    ("a system call was detected", "system-call-detect"),
    ("a tcp connection was detected", "tcp-connection"),
    ("a network trojan was detected", "trojan-activity"),
    (
        "a client was using an unusual port",
        "unusual-client-port-connection",
    ),
    ("detection of a network scan", "network-scan"),
    (
        "detection of a denial of service attack",
        "denial-of-service",
    ),
    (
        "detection of a non-standard protocol or event",
        "non-standard-protocol",
    ),
    ("generic protocol command decode", "protocol-command-decode"),
    (
        "access to a potentially vulnerable web application",
        "web-application-activity",
    ),
    ("web application attack", "web-application-attack"),
    ("misc activity", "misc-activity"),
    ("misc attack", "misc-attack"),
    ("generic icmp event", "icmp-event"),
    (
        "inappropriate content was detected",
        "inappropriate-content",
    ),
    ("potential corporate privacy violation", "policy-violation"),
    (
        "attempt to login by a default username and password",
        "default-login-attempt",
    ),
    (
        "targeted malicious activity was detected",
        "targeted-activity",
    ),
    ("exploit kit activity detected", "exploit-kit"),
    (
        "device retrieving external ip address detected",
        "external-ip-check",
    ),
    ("domain observed used for c2 detected", "domain-c2"),
    ("possibly unwanted program detected", "pup-activity"),
    ("successful credential theft detected", "credential-theft"),
    (
        "possible social engineering attempted",
        "social-engineering",
    ),
    ("crypto currency mining activity detected", "coin-mining"),
    (
        "malware command and control activity detected",
        "command-and-control",
    ),
];

/// The api-v1 category of an alert's `category` field: its classtype when Suricata's
/// list knows the description, else the description lowercased (at most 64 characters,
/// as api-v1 allows); `None` for an empty one.
pub fn category(description: &str) -> Option<String> {
    let lower = description.trim().to_lowercase();
    if lower.is_empty() {
        return None;
    }
    if let Some((_, classtype)) = CLASSTYPES.iter().find(|(d, _)| *d == lower) {
        return Some((*classtype).to_owned());
    }
    // Lowercasing can lengthen a few letters; api-v1 counts the result.
    Some(lower.chars().take(64).collect::<String>().trim().to_owned()).filter(|c| !c.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(description: &str, expected: Option<&str>) {
        assert_eq!(category(description).as_deref(), expected, "{description}");
    }

    #[test]
    fn suricata_descriptions_become_their_classtypes() {
        check("A Network Trojan was detected", Some("trojan-activity"));
        check(
            "Malware Command and Control Activity Detected",
            Some("command-and-control"),
        );
        check("Attempted Information Leak", Some("attempted-recon"));
        check("  Potentially Bad Traffic ", Some("bad-unknown"));
        check(
            "Generic Protocol Command Decode",
            Some("protocol-command-decode"),
        );
        check(
            "Potential Corporate Privacy Violation",
            Some("policy-violation"),
        );
        check("Web Application Attack", Some("web-application-attack"));
        check("Not Suspicious Traffic", Some("not-suspicious"));
    }

    #[test]
    fn an_unknown_description_is_kept_lowercased_and_an_empty_one_dropped() {
        check("Our Own Class", Some("our own class"));
        check("", None);
        check("   ", None);
        assert_eq!(category(&"Ä".repeat(100)).unwrap().chars().count(), 64);
    }

    #[test]
    fn every_classtype_is_a_valid_api_v1_category() {
        for (description, classtype) in CLASSTYPES {
            assert_eq!(*description, description.to_lowercase());
            assert!(classtype.len() <= 64 && *classtype == classtype.to_lowercase());
        }
    }
}
