//! One eve.json line becomes one api-v1 event, or a named reason to skip it.
//!
//! - `alert` → an `ips` threat: the signature is the threat's name, its classtype the
//!   category (`classtype`), Suricata's priority 1/2/3/4 the vendor severity
//!   high/medium/low/info, `blocked` stays blocked and `allowed` becomes detected.
//! - `anomaly` → an `ips` threat of category `anomaly`, severity info, detected.
//! - `fileinfo` of an executable-looking file (or one Suricata stored) → an `other`
//!   threat of category `executable-download` (or `file-stored`) with the file's name and
//!   SHA-256, severity info: Suricata saw the file go by, it did not judge it. Other files
//!   are skipped.
//! - `http` and `tls` → usage (`usage`); `dns` queries only when they name a known
//!   application.
//! - everything else (flow, stats, netflow, …) is skipped and counted.
//!
//! Endpoints follow the connection, not the packet: when Suricata names the flow's
//! initiator (`flow.src_ip`, or `direction: to_client` on Suricata 7 and later), `src` is
//! the side that opened the connection, so a reply from a command-and-control server is
//! still the infected host's outbound traffic. The direction then follows from the home
//! network (`home`).

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use domain::report::{
    Action, Endpoint, File, Function, Id, MAX_AGE, MAX_SKEW, Mac, Threat, ThreatEvent,
    VendorSeverity,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::classtype;
use super::home::HomeNet;
use super::replay::Timeline;
use super::usage::Observation;
use crate::simulate::hex;

/// Events are dropped this long before api-v1 would refuse them, so a report that waits
/// a little in the spool is still accepted.
pub const SAFETY: TimeDelta = TimeDelta::minutes(10);

/// The time a line is read at, how its timestamps are moved (`--replay`), and whose
/// network it is.
#[derive(Debug, Clone, Copy)]
pub struct Clock<'a> {
    pub now: DateTime<Utc>,
    pub timeline: &'a Timeline,
    pub home: &'a HomeNet,
}

/// What one eve line becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    Threat(Box<ThreatEvent>),
    Usage(Observation),
    Skipped(Skip),
}

/// Why a line was not forwarded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Skip {
    NotJson,
    NoEventType,
    Ignored(String),
    NoTimestamp,
    TooOld,
    InFuture,
    MissingField(&'static str),
    NotExecutable,
    NoInternalClient,
    DnsNotAnApplication,
    DnsAnswer,
}

impl Skip {
    /// Whether the line was left out for its time alone (it would have been forwarded).
    pub fn for_its_time(&self) -> bool {
        matches!(self, Skip::TooOld | Skip::InFuture)
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::NotJson => f.write_str("not JSON"),
            Skip::NoEventType => f.write_str("no event_type"),
            Skip::Ignored(t) => write!(f, "event_type {t} ignored"),
            Skip::NoTimestamp => f.write_str("no readable timestamp"),
            Skip::TooOld => f.write_str("older than 7 days"),
            Skip::InFuture => f.write_str("more than 5 minutes in the future"),
            Skip::MissingField(name) => write!(f, "no {name}"),
            Skip::NotExecutable => f.write_str("fileinfo of a file that is not executable"),
            Skip::NoInternalClient => f.write_str("usage without a client on the LAN"),
            Skip::DnsNotAnApplication => f.write_str("dns query for no known application"),
            Skip::DnsAnswer => f.write_str("dns answer"),
        }
    }
}

/// The event types that carry threats or usage; the rest (flow, stats, …) are skipped.
pub const FORWARDED: [&str; 6] = ["alert", "anomaly", "fileinfo", "http", "tls", "dns"];

/// Whether an event type becomes a threat (and so must never vanish unnamed).
pub fn is_threat_type(event_type: &str) -> bool {
    matches!(event_type, "alert" | "anomaly" | "fileinfo")
}

/// Maps one eve line read at `clock`.
pub fn map_line(line: &str, clock: Clock<'_>) -> Mapped {
    let Ok(v) = serde_json::from_str::<Value>(line) else {
        return Mapped::Skipped(Skip::NotJson);
    };
    let Some(event_type) = v.get("event_type").and_then(Value::as_str) else {
        return Mapped::Skipped(Skip::NoEventType);
    };
    if !FORWARDED.contains(&event_type) {
        return Mapped::Skipped(Skip::Ignored(event_type.to_owned()));
    }
    let Some(logged) = timestamp(&v) else {
        return Mapped::Skipped(Skip::NoTimestamp);
    };
    let shift = clock.timeline.shift_at(logged);
    let at = logged + shift;
    if at < clock.now - MAX_AGE + SAFETY {
        return Mapped::Skipped(Skip::TooOld);
    }
    if at > clock.now + MAX_SKEW - TimeDelta::minutes(1) {
        return Mapped::Skipped(Skip::InFuture);
    }
    let mapped = match event_type {
        "alert" => alert(&v, line, at, clock.home),
        "anomaly" => anomaly(&v, line, at, clock.home),
        "fileinfo" => fileinfo(&v, line, at, clock.home),
        _ => super::usage::observe(&v, event_type, at, shift, clock.home).map(Mapped::Usage),
    };
    mapped.unwrap_or_else(Mapped::Skipped)
}

/// The line's `timestamp`.
pub fn timestamp(v: &Value) -> Option<DateTime<Utc>> {
    parse_timestamp(v.get("timestamp")?.as_str()?)
}

/// Suricata writes `2026-11-25T09:59:31.123456+0900`; RFC 3339 is accepted too.
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Suricata's priority as api-v1's vendor severity: 1 high, 2 medium, 3 low, else info.
pub fn vendor_severity(priority: Option<u64>) -> VendorSeverity {
    match priority {
        Some(1) => VendorSeverity::High,
        Some(2) => VendorSeverity::Medium,
        Some(3) => VendorSeverity::Low,
        _ => VendorSeverity::Info,
    }
}

fn alert(v: &Value, line: &str, at: DateTime<Utc>, home: &HomeNet) -> Result<Mapped, Skip> {
    let alert = v.get("alert").ok_or(Skip::MissingField("alert"))?;
    let name = text(alert.get("signature"), 256).ok_or(Skip::MissingField("alert.signature"))?;
    let category = alert
        .get("category")
        .and_then(Value::as_str)
        .and_then(classtype::category);
    let action = match alert.get("action").and_then(Value::as_str) {
        Some("blocked") => Action::Blocked,
        _ => Action::Detected,
    };
    let signature_id = alert
        .get("signature_id")
        .and_then(Value::as_u64)
        .map(|n| n.to_string());
    Ok(threat(
        v,
        line,
        at,
        home,
        Function::Ips,
        action,
        Threat {
            name,
            signature_id,
            category,
            vendor_severity: vendor_severity(alert.get("severity").and_then(Value::as_u64)),
        },
        None,
    ))
}

fn anomaly(v: &Value, line: &str, at: DateTime<Utc>, home: &HomeNet) -> Result<Mapped, Skip> {
    let anomaly = v.get("anomaly").ok_or(Skip::MissingField("anomaly"))?;
    let event = text(anomaly.get("event"), 200).ok_or(Skip::MissingField("anomaly.event"))?;
    let kind = text(anomaly.get("type"), 20).unwrap_or_else(|| "protocol".to_owned());
    Ok(threat(
        v,
        line,
        at,
        home,
        Function::Ips,
        Action::Detected,
        Threat {
            name: format!("SURICATA {kind} anomaly: {event}"),
            signature_id: None,
            category: Some("anomaly".to_owned()),
            vendor_severity: VendorSeverity::Info,
        },
        None,
    ))
}

/// Extensions of files that run when opened.
const EXECUTABLE: [&str; 13] = [
    "exe", "dll", "scr", "js", "vbs", "com", "bat", "cmd", "ps1", "msi", "jar", "hta", "lnk",
];

fn fileinfo(v: &Value, line: &str, at: DateTime<Utc>, home: &HomeNet) -> Result<Mapped, Skip> {
    let info = v.get("fileinfo").ok_or(Skip::MissingField("fileinfo"))?;
    let path = info
        .get("filename")
        .and_then(Value::as_str)
        .ok_or(Skip::MissingField("fileinfo.filename"))?;
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let executable = base
        .rsplit_once('.')
        .is_some_and(|(_, ext)| EXECUTABLE.contains(&ext.to_ascii_lowercase().as_str()));
    let stored = info.get("stored").and_then(Value::as_bool) == Some(true);
    if !(executable || stored) {
        return Err(Skip::NotExecutable);
    }
    let name = text(Some(&Value::String(base.to_owned())), 255)
        .ok_or(Skip::MissingField("fileinfo.filename"))?;
    let sha256 = text(info.get("sha256"), 128);
    let (label, category) = if executable {
        ("Executable download", "executable-download")
    } else {
        ("Stored file", "file-stored")
    };
    Ok(threat(
        v,
        line,
        at,
        home,
        Function::Other,
        Action::Detected,
        Threat {
            name: format!("{label}: {name}"),
            signature_id: None,
            category: Some(category.to_owned()),
            vendor_severity: VendorSeverity::Info,
        },
        Some(File {
            name: Some(name),
            sha256,
        }),
    ))
}

#[allow(clippy::too_many_arguments)]
fn threat(
    v: &Value,
    line: &str,
    at: DateTime<Utc>,
    home: &HomeNet,
    function: Function,
    action: Action,
    threat: Threat,
    file: Option<File>,
) -> Mapped {
    let (src, dst) = endpoints(v);
    let direction = home.direction(
        src.as_ref().and_then(|e| e.ip),
        dst.as_ref().and_then(|e| e.ip),
    );
    Mapped::Threat(Box::new(ThreatEvent {
        event_id: event_id(v, line),
        occurred_at: at,
        function,
        action,
        direction,
        threat,
        src,
        dst,
        protocol: text(v.get("proto"), 16).map(|p| p.to_lowercase()),
        url: url(v),
        file,
    }))
}

/// The connection's initiator and responder.
fn endpoints(v: &Value) -> (Option<Endpoint>, Option<Endpoint>) {
    let packet_src = endpoint(v, "src_ip", "src_port", "src_mac");
    let packet_dst = endpoint(v, "dest_ip", "dest_port", "dest_mac");
    let flow_src = v.pointer("/flow/src_ip").and_then(Value::as_str);
    let reversed = match flow_src {
        Some(initiator) => v.get("dest_ip").and_then(Value::as_str) == Some(initiator),
        None => v.get("direction").and_then(Value::as_str) == Some("to_client"),
    };
    if reversed {
        (packet_dst, packet_src)
    } else {
        (packet_src, packet_dst)
    }
}

fn ether_mac(v: &Value, key: &str) -> Option<Mac> {
    Mac::parse(v.get("ether")?.get(key)?.as_str()?).ok()
}

/// An endpoint of the packet; IPv6 in any spelling (zero-padded groups too).
pub fn endpoint(v: &Value, ip: &str, port: &str, mac: &str) -> Option<Endpoint> {
    let e = Endpoint {
        ip: v
            .get(ip)
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<IpAddr>().ok()),
        port: v
            .get(port)
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok()),
        mac: ether_mac(v, mac),
    };
    (e.ip.is_some() || e.port.is_some() || e.mac.is_some()).then_some(e)
}

/// The LAN side of a connection, with its MAC when Suricata logged the ethernet header.
pub fn client(v: &Value, home: &HomeNet) -> Option<(IpAddr, Option<Mac>)> {
    [("src_ip", "src_mac"), ("dest_ip", "dest_mac")]
        .into_iter()
        .find_map(|(ip, mac)| {
            let ip: IpAddr = v.get(ip)?.as_str()?.parse().ok()?;
            home.contains(ip).then(|| (ip, ether_mac(v, mac)))
        })
}

fn url(v: &Value) -> Option<String> {
    let url = if let Some(host) = v.pointer("/http/hostname").and_then(Value::as_str) {
        let path = v
            .pointer("/http/url")
            .and_then(Value::as_str)
            .unwrap_or("/");
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("http://{host}{path}")
        }
    } else {
        format!("https://{}/", v.pointer("/tls/sni")?.as_str()?)
    };
    text(Some(&Value::String(url)), 2048)
}

/// `e-<flow_id>-<hash of the line>`: the same line always gets the same id.
fn event_id(v: &Value, line: &str) -> Id {
    let hash = hex(&Sha256::digest(line.trim_end().as_bytes()));
    let id = match v.get("flow_id").and_then(Value::as_u64) {
        Some(flow) => format!("e-{flow}-{}", &hash[..24]),
        None => format!("e-{}", &hash[..32]),
    };
    Id::parse(&id).expect("digits, hex and - fit in 64")
}

/// A string field without control characters, trimmed and cut to `max` characters;
/// `None` when nothing is left.
pub fn text(v: Option<&Value>, max: usize) -> Option<String> {
    let s: String = v?
        .as_str()?
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(max)
        .collect();
    (!s.is_empty()).then_some(s)
}
