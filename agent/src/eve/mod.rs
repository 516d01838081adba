//! Suricata's eve.json (one JSON object a line) becomes api-v1 events here, so a real
//! IDS can stand in for a UTM appliance. The mapping, in short:
//!
//! - `alert` → an `ips` threat: the signature is the threat's name, its category the
//!   category, Suricata's severity 1/2/3 → high/medium/low (1 is critical when the
//!   signature or category speaks of malware, trojans or CnC), `blocked` stays blocked
//!   and `allowed` becomes detected.
//! - `anomaly` → an `ips` threat of severity info, detected.
//! - `fileinfo` of an executable-looking file (or one Suricata stored) → an `antivirus`
//!   detection with the file's name and SHA-256; other files are skipped.
//! - `http` and `tls` → usage: one hit per transaction for the client on the LAN side,
//!   named after a known application (zoom, line, …) or else a web category looked up
//!   from the host name ("other" when unknown), summed per hour; `dns` queries count
//!   only when they name a known application, since a visit is already counted by its
//!   http/tls record.
//! - everything else (flow, stats, netflow, …) is ignored and counted.
//!
//! The direction follows the addresses: private (RFC 1918, ULA, link-local) to public is
//! outbound, public to private inbound, private to private internal; public to public is
//! taken as inbound, because that is traffic to the appliance's own WAN address.
//!
//! Event ids are derived from the line itself, so forwarding the same file twice stores
//! nothing new: the cloud answers the second time with duplicates.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use domain::report::{
    Action, Direction, Endpoint, Event, File, Function, Id, MAX_AGE, MAX_EVENTS, MAX_SKEW, Mac,
    Report, Threat, ThreatEvent, UsageEvent, UsageKind, VendorSeverity,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::progress::{Counters, Line, Ui};
use crate::send::{self, Backoff, Delivery, End};
use crate::simulate::hex;
use crate::spool::{self, Spool};
use crate::state;
use crate::tail::{Next, Tail};

/// Events are dropped this long before api-v1 would refuse them, so a report that waits
/// a little in the spool is still accepted.
pub const SAFETY: TimeDelta = TimeDelta::minutes(10);
/// An hour of usage is closed this long after it ended, for transactions logged late.
pub const GRACE: TimeDelta = TimeDelta::minutes(1);
/// A report body stays under this, well below api-v1's 1 MiB.
pub const MAX_BODY: usize = 900 * 1024;

/// The time a line is read at, and how far its timestamps are moved (`--replay`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub now: DateTime<Utc>,
    pub shift: TimeDelta,
}

/// What one eve line becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    Threat(Box<ThreatEvent>),
    Usage(Observation),
    Skipped(Skip),
}

/// One hit of usage, before it is summed into its hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub at: DateTime<Utc>,
    pub client: IpAddr,
    pub mac: Option<Mac>,
    pub kind: UsageKind,
    pub name: String,
    pub bytes: u64,
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

/// Maps one eve line read at `clock`.
pub fn map_line(line: &str, clock: Clock) -> Mapped {
    let Ok(v) = serde_json::from_str::<Value>(line) else {
        return Mapped::Skipped(Skip::NotJson);
    };
    let Some(event_type) = v.get("event_type").and_then(Value::as_str) else {
        return Mapped::Skipped(Skip::NoEventType);
    };
    if !matches!(
        event_type,
        "alert" | "anomaly" | "fileinfo" | "http" | "tls" | "dns"
    ) {
        return Mapped::Skipped(Skip::Ignored(event_type.to_owned()));
    }
    let Some(at) = v
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(parse_timestamp)
    else {
        return Mapped::Skipped(Skip::NoTimestamp);
    };
    let at = at + clock.shift;
    if at < clock.now - MAX_AGE + SAFETY {
        return Mapped::Skipped(Skip::TooOld);
    }
    if at > clock.now + MAX_SKEW - TimeDelta::minutes(1) {
        return Mapped::Skipped(Skip::InFuture);
    }
    let mapped = match event_type {
        "alert" => alert(&v, line, at),
        "anomaly" => anomaly(&v, line, at),
        "fileinfo" => fileinfo(&v, line, at),
        _ => usage(&v, event_type, at),
    };
    mapped.unwrap_or_else(Mapped::Skipped)
}

/// Suricata writes `2026-11-25T09:59:31.123456+0900`; RFC 3339 is accepted too.
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The newest timestamp among `lines`, to which `--replay` moves the present.
pub fn newest_timestamp<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<DateTime<Utc>> {
    lines
        .into_iter()
        .filter_map(|line| {
            let v: Value = serde_json::from_str(line).ok()?;
            parse_timestamp(v.get("timestamp")?.as_str()?)
        })
        .max()
}

fn alert(v: &Value, line: &str, at: DateTime<Utc>) -> Result<Mapped, Skip> {
    let alert = v.get("alert").ok_or(Skip::MissingField("alert"))?;
    let name = text(alert.get("signature"), 256).ok_or(Skip::MissingField("alert.signature"))?;
    let category = text(alert.get("category"), 64).map(|c| c.to_lowercase());
    // Lowercasing can lengthen a few letters; api-v1 counts the result.
    let category = category.and_then(|c| text(Some(&Value::String(c)), 64));
    let alarming = [&name, category.as_deref().unwrap_or("")].iter().any(|s| {
        let s = s.to_lowercase();
        ["malware", "trojan", "cnc"].iter().any(|w| s.contains(w))
    });
    let vendor_severity = match alert.get("severity").and_then(Value::as_u64) {
        Some(1) if alarming => VendorSeverity::Critical,
        Some(1) => VendorSeverity::High,
        Some(2) => VendorSeverity::Medium,
        Some(3) => VendorSeverity::Low,
        _ => VendorSeverity::Info,
    };
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
        Function::Ips,
        action,
        Threat {
            name,
            signature_id,
            category,
            vendor_severity,
        },
        None,
    ))
}

fn anomaly(v: &Value, line: &str, at: DateTime<Utc>) -> Result<Mapped, Skip> {
    let anomaly = v.get("anomaly").ok_or(Skip::MissingField("anomaly"))?;
    let event = text(anomaly.get("event"), 200).ok_or(Skip::MissingField("anomaly.event"))?;
    let kind = text(anomaly.get("type"), 20).unwrap_or_else(|| "protocol".to_owned());
    Ok(threat(
        v,
        line,
        at,
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

fn fileinfo(v: &Value, line: &str, at: DateTime<Utc>) -> Result<Mapped, Skip> {
    let info = v.get("fileinfo").ok_or(Skip::MissingField("fileinfo"))?;
    let path = info
        .get("filename")
        .and_then(Value::as_str)
        .ok_or(Skip::MissingField("fileinfo.filename"))?;
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let executable = base.rsplit_once('.').is_some_and(|(_, ext)| {
        ["exe", "dll", "scr", "js", "vbs"].contains(&ext.to_ascii_lowercase().as_str())
    });
    let stored = info.get("stored").and_then(Value::as_bool) == Some(true);
    if !(executable || stored) {
        return Err(Skip::NotExecutable);
    }
    let name = text(Some(&Value::String(base.to_owned())), 255)
        .ok_or(Skip::MissingField("fileinfo.filename"))?;
    let sha256 = text(info.get("sha256"), 128);
    let label = if executable {
        "Executable download"
    } else {
        "Stored file transfer"
    };
    Ok(threat(
        v,
        line,
        at,
        Function::Antivirus,
        Action::Detected,
        Threat {
            name: format!("{label}: {name}"),
            signature_id: None,
            category: Some("file".to_owned()),
            vendor_severity: VendorSeverity::Medium,
        },
        Some(File {
            name: Some(name),
            sha256,
        }),
    ))
}

fn threat(
    v: &Value,
    line: &str,
    at: DateTime<Utc>,
    function: Function,
    action: Action,
    threat: Threat,
    file: Option<File>,
) -> Mapped {
    let src = endpoint(v, "src_ip", "src_port", "src_mac");
    let dst = endpoint(v, "dest_ip", "dest_port", "dest_mac");
    let direction = direction(
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

fn usage(v: &Value, event_type: &str, at: DateTime<Utc>) -> Result<Mapped, Skip> {
    let (host, bytes) = match event_type {
        "http" => {
            let http = v.get("http").ok_or(Skip::MissingField("http"))?;
            let host = http
                .get("hostname")
                .and_then(Value::as_str)
                .ok_or(Skip::MissingField("http.hostname"))?;
            (
                host,
                http.get("length").and_then(Value::as_u64).unwrap_or(0),
            )
        }
        "tls" => {
            let sni = v
                .pointer("/tls/sni")
                .and_then(Value::as_str)
                .ok_or(Skip::MissingField("tls.sni"))?;
            (sni, 0)
        }
        _ => {
            let dns = v.get("dns").ok_or(Skip::MissingField("dns"))?;
            if !matches!(
                dns.get("type").and_then(Value::as_str),
                Some("query" | "request")
            ) {
                return Err(Skip::DnsAnswer);
            }
            let name = dns
                .get("rrname")
                .or_else(|| dns.pointer("/queries/0/rrname"))
                .and_then(Value::as_str)
                .ok_or(Skip::MissingField("dns.rrname"))?;
            (name, 0)
        }
    };
    let (kind, name) = classify(host);
    if event_type == "dns" && kind != UsageKind::Application {
        return Err(Skip::DnsNotAnApplication);
    }
    let (client, mac) = client(v).ok_or(Skip::NoInternalClient)?;
    Ok(Mapped::Usage(Observation {
        at,
        client,
        mac,
        kind,
        name: name.to_owned(),
        bytes,
    }))
}

/// Whether `ip` is on a customer's LAN: RFC 1918, ULA, link-local or loopback.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_link_local() || v4.is_loopback(),
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80 || v6.is_loopback()
        }
    }
}

pub fn direction(src: Option<IpAddr>, dst: Option<IpAddr>) -> Direction {
    match (src.map(is_private), dst.map(is_private)) {
        (Some(true), Some(true)) => Direction::Internal,
        (Some(true), _) => Direction::Outbound,
        _ => Direction::Inbound,
    }
}

/// Applications first (a Teams call is not "business" browsing), then web categories.
const APPLICATIONS: &[(&str, &str)] = &[
    ("zoom.us", "zoom"),
    ("zoom.com", "zoom"),
    ("line.me", "line"),
    ("line-apps.com", "line"),
    ("line-scdn.net", "line"),
    ("dropbox.com", "dropbox"),
    ("dropboxapi.com", "dropbox"),
    ("teams.microsoft.com", "teams"),
    ("slack.com", "slack"),
    ("chatwork.com", "chatwork"),
    ("whatsapp.net", "whatsapp"),
];

const WEB_CATEGORIES: &[(&str, &str)] = &[
    ("youtube.com", "video"),
    ("googlevideo.com", "video"),
    ("nicovideo.jp", "video"),
    ("netflix.com", "video"),
    ("abema.tv", "video"),
    ("tver.jp", "video"),
    ("twitter.com", "sns"),
    ("x.com", "sns"),
    ("twimg.com", "sns"),
    ("instagram.com", "sns"),
    ("facebook.com", "sns"),
    ("tiktok.com", "sns"),
    ("yahoo.co.jp", "news"),
    ("nhk.or.jp", "news"),
    ("nikkei.com", "news"),
    ("asahi.com", "news"),
    ("amazon.co.jp", "shopping"),
    ("rakuten.co.jp", "shopping"),
    ("mercari.com", "shopping"),
    ("google.com", "search"),
    ("bing.com", "search"),
    ("office.com", "business"),
    ("microsoft.com", "business"),
    ("github.com", "it"),
];

/// The usage a host name counts towards.
pub fn classify(host: &str) -> (UsageKind, &'static str) {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host = host.split(':').next().unwrap_or("");
    let matches = |suffix: &str| {
        host == suffix
            || host
                .strip_suffix(suffix)
                .is_some_and(|rest| rest.ends_with('.'))
    };
    if let Some((_, app)) = APPLICATIONS.iter().find(|(s, _)| matches(s)) {
        return (UsageKind::Application, app);
    }
    let category = WEB_CATEGORIES
        .iter()
        .find(|(s, _)| matches(s))
        .map_or("other", |(_, c)| c);
    (UsageKind::WebCategory, category)
}

/// The LAN side of a connection, with its MAC when Suricata logged the ethernet header.
fn client(v: &Value) -> Option<(IpAddr, Option<Mac>)> {
    [("src_ip", "src_mac"), ("dest_ip", "dest_mac")]
        .into_iter()
        .find_map(|(ip, mac)| {
            let ip: IpAddr = v.get(ip)?.as_str()?.parse().ok()?;
            is_private(ip).then(|| (ip, ether_mac(v, mac)))
        })
}

fn ether_mac(v: &Value, key: &str) -> Option<Mac> {
    Mac::parse(v.get("ether")?.get(key)?.as_str()?).ok()
}

fn endpoint(v: &Value, ip: &str, port: &str, mac: &str) -> Option<Endpoint> {
    let e = Endpoint {
        ip: v
            .get(ip)
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok()),
        port: v
            .get(port)
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok()),
        mac: ether_mac(v, mac),
    };
    (e.ip.is_some() || e.port.is_some() || e.mac.is_some()).then_some(e)
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
fn text(v: Option<&Value>, max: usize) -> Option<String> {
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

/// Usage summed per hour, client and name until the hour is closed.
#[derive(Debug, Default)]
pub struct Usage {
    open: BTreeMap<(DateTime<Utc>, IpAddr, &'static str, String), Tally>,
    /// How often each key was already emitted in this run, so a late transaction for a
    /// closed hour becomes a new record instead of a "duplicate" the cloud would drop.
    parts: HashMap<(DateTime<Utc>, IpAddr, &'static str, String), u32>,
    /// The `--replay` shift: record ids are made from the hour as logged, so replaying a
    /// file again (with another whole-hour shift) gives the same ids.
    shift: TimeDelta,
}

#[derive(Debug)]
struct Tally {
    kind: UsageKind,
    hits: u64,
    bytes: u64,
    mac: Option<Mac>,
}

impl Usage {
    /// Usage of lines whose times were moved by `shift` (`--replay`).
    pub fn shifted(shift: TimeDelta) -> Usage {
        Usage {
            shift,
            ..Usage::default()
        }
    }

    pub fn add(&mut self, o: Observation) {
        let hour = DateTime::from_timestamp(o.at.timestamp().div_euclid(3600) * 3600, 0)
            .expect("an hour within chrono's range");
        let tally = self
            .open
            .entry((hour, o.client, o.kind.as_str(), o.name))
            .or_insert(Tally {
                kind: o.kind,
                hits: 0,
                bytes: 0,
                mac: None,
            });
        tally.hits += 1;
        tally.bytes = tally.bytes.saturating_add(o.bytes);
        if o.mac.is_some() {
            tally.mac = o.mac;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Records for the hours that ended at least [`GRACE`] before `latest`, the newest
    /// time seen in the log.
    pub fn close_before(&mut self, latest: DateTime<Utc>, now: DateTime<Utc>) -> Vec<UsageEvent> {
        let closed: Vec<_> = self
            .open
            .keys()
            .filter(|(hour, ..)| *hour + TimeDelta::hours(1) + GRACE <= latest)
            .cloned()
            .collect();
        closed
            .into_iter()
            .filter_map(|key| self.emit(key, now))
            .collect()
    }

    /// Records for every hour, the current one ending now: at the end of the file.
    pub fn close_all(&mut self, now: DateTime<Utc>) -> Vec<UsageEvent> {
        let keys: Vec<_> = self.open.keys().cloned().collect();
        keys.into_iter()
            .filter_map(|key| self.emit(key, now))
            .collect()
    }

    fn emit(
        &mut self,
        key: (DateTime<Utc>, IpAddr, &'static str, String),
        now: DateTime<Utc>,
    ) -> Option<UsageEvent> {
        let tally = self.open.remove(&key)?;
        let part = self.parts.entry(key.clone()).or_insert(0);
        *part += 1;
        let (hour, client, kind, name) = key;
        let hash = hex(&Sha256::digest(
            format!(
                "{}|{client}|{kind}|{name}|{part}",
                (hour - self.shift).timestamp()
            )
            .as_bytes(),
        ));
        // api-v1 accepts periods inside the last 7 days and not in the future.
        let period_start = hour.max(now - MAX_AGE + SAFETY);
        let period_end = (hour + TimeDelta::hours(1)).min(now);
        (period_start < period_end).then(|| UsageEvent {
            event_id: Id::parse(&format!("u-{}", &hash[..32])).expect("hex fits"),
            period_start,
            period_end,
            kind: tally.kind,
            name,
            hits: tally.hits,
            bytes: tally.bytes,
            client: Some(Endpoint {
                ip: Some(client),
                port: None,
                mac: tally.mac,
            }),
        })
    }
}

/// Events waiting to go out in one report, within api-v1's limits: at most 1000 events
/// and a body under [`MAX_BODY`].
#[derive(Debug, Default)]
pub struct Batch {
    events: Vec<Event>,
    bytes: usize,
    since: Option<Instant>,
}

/// Room kept for the report's own fields around the events.
const ENVELOPE: usize = 1024;

impl Batch {
    /// Adds `event`; when it would not fit, first hands back the events so far as a full
    /// report's worth.
    pub fn push(&mut self, event: Event) -> Option<Vec<Event>> {
        let size = serde_json::to_vec(&event).map_or(0, |b| b.len()) + 1;
        let full = !self.events.is_empty()
            && (self.events.len() >= MAX_EVENTS || ENVELOPE + self.bytes + size > MAX_BODY);
        let out = full.then(|| self.take());
        self.since.get_or_insert_with(Instant::now);
        self.events.push(event);
        self.bytes += size;
        out
    }

    pub fn take(&mut self) -> Vec<Event> {
        self.bytes = 0;
        self.since = None;
        std::mem::take(&mut self.events)
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// How long the oldest waiting event has waited.
    pub fn age(&self) -> Duration {
        self.since.map_or(Duration::ZERO, |t| t.elapsed())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Read to the end, deliver, exit.
    ToEnd,
    /// Keep following the file (`tail -F`).
    Follow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// Events keep their logged times; old lines are skipped.
    AsLogged,
    /// Every time moves so that the file's newest line happened now.
    Replay,
}

pub struct Options {
    pub file: PathBuf,
    pub state: PathBuf,
    pub reading: Reading,
    pub timing: Timing,
    pub backoff: Backoff,
}

/// What a forwarding run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub lines: u64,
    pub threats: u64,
    pub usage: u64,
    pub skipped: BTreeMap<String, u64>,
    pub reports: u64,
    pub delivered: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub left_in_spool: u64,
    pub refused: Option<u16>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let skipped: u64 = self.skipped.values().sum();
        writeln!(f, "lines read        {}", self.lines)?;
        writeln!(f, "threats           {}", self.threats)?;
        writeln!(f, "usage records     {}", self.usage)?;
        writeln!(f, "skipped           {skipped}")?;
        for (why, n) in &self.skipped {
            writeln!(f, "  {n:>6}  {why}")?;
        }
        writeln!(f, "reports spooled   {}", self.reports)?;
        writeln!(f, "reports delivered {}", self.delivered)?;
        writeln!(f, "events accepted   {}", self.accepted)?;
        writeln!(f, "duplicates        {}", self.duplicates)?;
        writeln!(f, "reports rejected  {}", self.rejected)?;
        write!(f, "left in spool     {}", self.left_in_spool)?;
        if let Some(status) = self.refused {
            write!(
                f,
                "\nstopped: the cloud answered {status} (re-enroll or ask the operator)"
            )?;
        }
        Ok(())
    }
}

/// Forwards an eve.json file as one appliance, spooling reports and delivering them.
pub fn run(opts: &Options, ui: &Ui) -> anyhow::Result<Summary> {
    let st = state::load(&opts.state)?;
    let spool = Arc::new(
        Spool::open(&opts.state)
            .with_context(|| format!("cannot open the spool in {}", opts.state.display()))?,
    );
    let line = ui.line(st.device_id.as_str());
    let delivery = Delivery {
        spool: spool.clone(),
        reports_url: st.reports_url(),
        token: st.device_token.clone(),
        backoff: opts.backoff,
        http: send::http_client(),
        line: line.clone(),
    };
    let shift = match opts.timing {
        Timing::AsLogged => TimeDelta::zero(),
        Timing::Replay => replay_shift(&opts.file, Utc::now())?,
    };
    let (wake_tx, wake_rx) = mpsc::channel::<()>();
    let refused = Arc::new(AtomicBool::new(false));
    let sender = {
        let (d, refused) = (delivery.clone(), refused.clone());
        thread::spawn(move || {
            let end = send::deliver(&d, &wake_rx, &AtomicBool::new(false));
            refused.store(matches!(end, End::Refused(_)), Ordering::SeqCst);
            end
        })
    };
    let mut tail = match opts.reading {
        Reading::ToEnd => Tail::to_end(&opts.file),
        Reading::Follow => Tail::follow(&opts.file),
    }
    .with_context(|| format!("cannot open {}", opts.file.display()))?;

    let mut summary = Summary::default();
    let mut out = Outbox {
        spool: &spool,
        wake: &wake_tx,
        firmware: st.firmware.clone(),
        clients: HashSet::new(),
        reports: 0,
        last: Instant::now(),
        line: &line,
    };
    let mut usage = Usage::shifted(shift);
    let mut batch = Batch::default();
    let mut latest: Option<DateTime<Utc>> = None;
    let heartbeat = Duration::from_secs(st.report_interval_s);
    loop {
        match tail.next_line()? {
            Next::Line(text) => {
                summary.lines += 1;
                let now = Utc::now();
                let mapped = map_line(&text, Clock { now, shift });
                let at = match mapped {
                    Mapped::Threat(t) => {
                        summary.threats += 1;
                        let at = t.occurred_at;
                        for ep in [&t.src, &t.dst].into_iter().flatten() {
                            out.saw(ep.ip);
                        }
                        if let Some(full) = batch.push(Event::Threat(*t)) {
                            out.send(full)?;
                        }
                        Some(at)
                    }
                    Mapped::Usage(o) => {
                        out.saw(Some(o.client));
                        let at = o.at;
                        usage.add(o);
                        Some(at)
                    }
                    Mapped::Skipped(why) => {
                        *summary.skipped.entry(why.to_string()).or_default() += 1;
                        None
                    }
                };
                if let Some(at) = at {
                    let newest = latest.map_or(at, |l| l.max(at));
                    latest = Some(newest);
                    for u in usage.close_before(newest, now) {
                        summary.usage += 1;
                        if let Some(full) = batch.push(Event::Usage(u)) {
                            out.send(full)?;
                        }
                    }
                }
            }
            Next::Idle => {
                if refused.load(Ordering::SeqCst) {
                    break;
                }
                let now = Utc::now();
                for u in usage.close_before(now, now) {
                    summary.usage += 1;
                    if let Some(full) = batch.push(Event::Usage(u)) {
                        out.send(full)?;
                    }
                }
                // Following, events go out within seconds; silence still heartbeats.
                if (!batch.is_empty() && batch.age() >= Duration::from_secs(2))
                    || out.last.elapsed() >= heartbeat
                {
                    out.send(batch.take())?;
                }
                thread::sleep(Duration::from_millis(250));
            }
            Next::End => break,
        }
    }
    for u in usage.close_all(Utc::now()) {
        summary.usage += 1;
        if let Some(full) = batch.push(Event::Usage(u)) {
            out.send(full)?;
        }
    }
    if !batch.is_empty() {
        out.send(batch.take())?;
    }
    summary.reports = out.reports;
    drop(out);
    drop(wake_tx);
    let end = sender
        .join()
        .map_err(|_| anyhow::anyhow!("the sender panicked"))?;
    let c = &line.counters;
    summary.delivered = Counters::get(&c.delivered);
    summary.accepted = Counters::get(&c.accepted);
    summary.duplicates = Counters::get(&c.duplicates);
    summary.rejected = Counters::get(&c.rejected);
    summary.left_in_spool = spool.len() as u64;
    if let End::Refused(status) = end {
        summary.refused = Some(status);
    } else {
        line.finish("done");
    }
    Ok(summary)
}

/// How far `--replay` moves every time: whole hours, so that the file's newest line lands
/// within the last hour before `now`. Whole hours keep the hourly usage records the same
/// on every replay, so replaying a file again stores nothing twice.
pub fn replay_shift(file: &Path, now: DateTime<Utc>) -> anyhow::Result<TimeDelta> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let newest = newest_timestamp(text.lines())
        .with_context(|| format!("{} has no line with a timestamp", file.display()))?;
    Ok(whole_hours(now - newest))
}

/// `d` rounded down to whole hours.
fn whole_hours(d: TimeDelta) -> TimeDelta {
    TimeDelta::hours(d.num_seconds().div_euclid(3600))
}

/// Turns batches into spooled reports.
struct Outbox<'a> {
    spool: &'a Spool,
    wake: &'a mpsc::Sender<()>,
    firmware: Option<String>,
    /// LAN addresses seen: the report's connected-client count.
    clients: HashSet<IpAddr>,
    reports: u64,
    last: Instant,
    line: &'a Line,
}

impl Outbox<'_> {
    fn saw(&mut self, ip: Option<IpAddr>) {
        if let Some(ip) = ip.filter(|ip| is_private(*ip)) {
            self.clients.insert(ip);
        }
    }

    fn send(&mut self, events: Vec<Event>) -> anyhow::Result<()> {
        let now = Utc::now();
        let seq = self.spool.next_seq();
        let report = Report {
            report_id: spool::report_id(now, seq),
            sent_at: now,
            firmware: self.firmware.clone(),
            definitions: None,
            clients: (!self.clients.is_empty())
                .then(|| u32::try_from(self.clients.len()).unwrap_or(u32::MAX)),
            events,
        };
        self.spool
            .put(seq, &report)
            .context("cannot write to the spool")?;
        Counters::add(&self.line.counters.spooled, 1);
        Counters::add(&self.line.counters.waiting, 1);
        self.line.redraw();
        self.reports += 1;
        self.last = Instant::now();
        // The sender may have stopped (refused); the report stays spooled.
        let _ = self.wake.send(());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use domain::report::parse_report;
    use serde_json::json;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        parse_timestamp(s).unwrap()
    }

    /// Lines are read shortly after they were logged.
    fn clock() -> Clock {
        Clock {
            now: at("2026-11-25T10:06:00+09:00"),
            shift: TimeDelta::zero(),
        }
    }

    fn alert_line(overrides: Value) -> Value {
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

    fn merge(v: &mut Value, overrides: Value) {
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
    fn threat_of(v: &Value) -> ThreatEvent {
        match map_line(&v.to_string(), clock()) {
            Mapped::Threat(t) => *t,
            other => panic!("expected a threat, got {other:?}"),
        }
    }

    #[track_caller]
    fn skipped(v: &Value) -> Skip {
        match map_line(&v.to_string(), clock()) {
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
        assert_eq!(
            t.threat.category.as_deref(),
            Some("a network trojan was detected")
        );
        assert_eq!(t.threat.vendor_severity, VendorSeverity::Critical);
        let src = t.src.unwrap();
        assert_eq!(src.ip, Some("192.168.1.23".parse().unwrap()));
        assert_eq!(src.port, Some(50122));
        assert_eq!(src.mac.unwrap().as_str(), "3c:22:fb:01:02:03");
        assert_eq!(t.dst.unwrap().port, Some(443));
        assert_eq!(t.protocol.as_deref(), Some("tcp"));
        assert_eq!(t.url.as_deref(), Some("http://bad.example/gate.php"));
    }

    #[track_caller]
    fn check_severity(severity: Value, signature: &str, category: &str, expected: VendorSeverity) {
        let v = alert_line(
            json!({"alert": {"severity": severity, "signature": signature, "category": category}}),
        );
        assert_eq!(threat_of(&v).threat.vendor_severity, expected);
    }

    #[test]
    fn suricata_severities_map_to_vendor_severities() {
        check_severity(
            json!(1),
            "ET EXPLOIT Apache log4j RCE",
            "Attempted Administrator Privilege Gain",
            VendorSeverity::High,
        );
        check_severity(
            json!(2),
            "ET SCAN Potential SSH Scan",
            "Attempted Information Leak",
            VendorSeverity::Medium,
        );
        check_severity(
            json!(3),
            "ET SCAN NMAP",
            "Detection of a Network Scan",
            VendorSeverity::Low,
        );
        check_severity(json!(4), "ET INFO x", "Misc activity", VendorSeverity::Info);
        check_severity(
            Value::Null,
            "ET INFO x",
            "Misc activity",
            VendorSeverity::Info,
        );
    }

    #[test]
    fn severity_one_is_critical_when_it_speaks_of_malware_trojans_or_cnc() {
        check_severity(
            json!(1),
            "ET MALWARE Something",
            "Misc activity",
            VendorSeverity::Critical,
        );
        check_severity(
            json!(1),
            "ET INFO x",
            "A Network Trojan was detected",
            VendorSeverity::Critical,
        );
        check_severity(
            json!(1),
            "ET TROJAN Known Bad CnC Checkin",
            "Misc",
            VendorSeverity::Critical,
        );
        check_severity(
            json!(2),
            "ET MALWARE Something",
            "Misc activity",
            VendorSeverity::Medium,
        );
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
    fn categories_are_lowercased_trimmed_and_cut_to_64_characters() {
        let category = |c: &str| {
            threat_of(&alert_line(json!({"alert": {"category": c}})))
                .threat
                .category
        };
        assert_eq!(
            category("  Potentially Bad Traffic "),
            Some("potentially bad traffic".into())
        );
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

    fn fileinfo_line(filename: &str, stored: bool) -> Value {
        json!({"timestamp": "2026-11-25T09:46:13.5+0900", "event_type": "fileinfo",
            "src_ip": "198.51.100.77", "src_port": 80, "dest_ip": "192.168.1.23", "dest_port": 50233,
            "proto": "TCP", "http": {"hostname": "files.example", "url": format!("/d/{filename}")},
            "fileinfo": {"filename": format!("/d/{filename}"), "sha256": "ab".repeat(32), "stored": stored}})
    }

    #[test]
    fn an_executable_download_is_an_antivirus_detection_with_its_file() {
        let t = threat_of(&fileinfo_line("Invoice.PDF.EXE", false));
        assert_eq!(t.function, Function::Antivirus);
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
            "Stored file transfer: report.pdf"
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
        assert_eq!(
            map_line("{not json", clock()),
            Mapped::Skipped(Skip::NotJson)
        );
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
        let now = clock().now;
        match map_line(
            &v.to_string(),
            Clock {
                now,
                shift: now - logged,
            },
        ) {
            Mapped::Threat(t) => assert_eq!(t.occurred_at, now),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn replay_lands_the_newest_line_of_the_sample_at_now() {
        let text = include_str!("../testdata/eve-sample.json");
        let newest = newest_timestamp(text.lines()).unwrap();
        assert_eq!(
            newest
                .with_timezone(&domain::jst::tokyo())
                .format("%H:%M:%S")
                .to_string(),
            "10:05:44"
        );
        let now = Utc::now();
        let clock = Clock {
            now,
            shift: now - newest,
        };
        let times: Vec<DateTime<Utc>> = text
            .lines()
            .filter_map(|l| match map_line(l, clock) {
                Mapped::Threat(t) => Some(t.occurred_at),
                Mapped::Usage(o) => Some(o.at),
                Mapped::Skipped(_) => None,
            })
            .collect();
        assert_eq!(times.iter().max(), Some(&now));
        assert!(times.iter().all(|t| *t > now - TimeDelta::minutes(30)));
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

    #[track_caller]
    fn check_classify(host: &str, kind: UsageKind, name: &str) {
        assert_eq!(classify(host), (kind, name), "{host}");
    }

    #[test]
    fn hosts_are_classified_by_suffix_applications_first() {
        check_classify("zoom.us", UsageKind::Application, "zoom");
        check_classify("US04WEB.ZOOM.US.", UsageKind::Application, "zoom");
        check_classify("teams.microsoft.com", UsageKind::Application, "teams");
        check_classify("www.microsoft.com", UsageKind::WebCategory, "business");
        check_classify(
            "rr3---sn-ogueln7k.googlevideo.com",
            UsageKind::WebCategory,
            "video",
        );
        check_classify("news.yahoo.co.jp:80", UsageKind::WebCategory, "news");
        check_classify("notyoutube.com", UsageKind::WebCategory, "other");
        check_classify("x.com", UsageKind::WebCategory, "sns");
        check_classify("box.com", UsageKind::WebCategory, "other");
    }

    fn usage_line(event_type: &str, extra: Value) -> Value {
        let mut v = json!({"timestamp": "2026-11-25T09:40:11.5+0900", "event_type": event_type,
            "src_ip": "192.168.1.31", "src_port": 50001, "dest_ip": "192.0.2.10", "dest_port": 443,
            "proto": "TCP", "ether": {"src_mac": "f0:18:98:5a:11:0c"}});
        merge(&mut v, extra);
        v
    }

    #[track_caller]
    fn observation(v: &Value) -> Observation {
        match map_line(&v.to_string(), clock()) {
            Mapped::Usage(o) => o,
            other => panic!("expected usage, got {other:?}"),
        }
    }

    #[test]
    fn http_tls_and_dns_become_usage_of_the_lan_client() {
        let http = observation(&usage_line(
            "http",
            json!({"http": {"hostname": "www3.nhk.or.jp", "length": 48213}}),
        ));
        assert_eq!(
            (http.kind, http.name.as_str(), http.bytes),
            (UsageKind::WebCategory, "news", 48213)
        );
        assert_eq!(http.client, "192.168.1.31".parse::<IpAddr>().unwrap());
        assert_eq!(http.mac.unwrap().as_str(), "f0:18:98:5a:11:0c");
        let tls = observation(&usage_line(
            "tls",
            json!({"tls": {"sni": "d.line-apps.com"}}),
        ));
        assert_eq!(
            (tls.kind, tls.name.as_str()),
            (UsageKind::Application, "line")
        );
        let dns = observation(&usage_line(
            "dns",
            json!({"dns": {"type": "query", "rrname": "zoom.us"}}),
        ));
        assert_eq!(
            (dns.kind, dns.name.as_str()),
            (UsageKind::Application, "zoom")
        );
        let v3 = observation(&usage_line(
            "dns",
            json!({"dns": {"type": "request", "queries": [{"rrname": "slack.com"}]}}),
        ));
        assert_eq!(v3.name, "slack");
    }

    #[test]
    fn the_client_is_the_private_side_whichever_way_the_record_points() {
        let v = usage_line(
            "tls",
            json!({"src_ip": "192.0.2.10", "dest_ip": "192.168.1.57",
            "ether": {"src_mac": null, "dest_mac": "a4:5e:60:c2:9d:17"}, "tls": {"sni": "x.com"}}),
        );
        let o = observation(&v);
        assert_eq!(o.client, "192.168.1.57".parse::<IpAddr>().unwrap());
        assert_eq!(o.mac.unwrap().as_str(), "a4:5e:60:c2:9d:17");
        let public = usage_line(
            "tls",
            json!({"src_ip": "198.51.100.1", "tls": {"sni": "x.com"}}),
        );
        assert_eq!(skipped(&public), Skip::NoInternalClient);
    }

    #[test]
    fn dns_answers_and_lookups_of_websites_are_not_usage() {
        let answer = usage_line(
            "dns",
            json!({"dns": {"type": "answer", "rrname": "zoom.us"}}),
        );
        assert_eq!(skipped(&answer), Skip::DnsAnswer);
        let site = usage_line(
            "dns",
            json!({"dns": {"type": "query", "rrname": "www.google.com"}}),
        );
        assert_eq!(skipped(&site), Skip::DnsNotAnApplication);
        let no_sni = usage_line("tls", json!({"tls": {"version": "TLS 1.3"}}));
        assert_eq!(skipped(&no_sni), Skip::MissingField("tls.sni"));
    }

    fn obs(at_: &str, client: &str, name: &str, bytes: u64) -> Observation {
        Observation {
            at: at(at_),
            client: client.parse().unwrap(),
            mac: None,
            kind: UsageKind::WebCategory,
            name: name.into(),
            bytes,
        }
    }

    #[test]
    fn usage_is_summed_per_hour_client_and_name() {
        let mut usage = Usage::default();
        usage.add(obs("2026-11-25T09:10:00+09:00", "192.168.1.2", "sns", 100));
        usage.add(obs("2026-11-25T09:59:59+09:00", "192.168.1.2", "sns", 50));
        usage.add(obs("2026-11-25T09:20:00+09:00", "192.168.1.3", "sns", 1));
        usage.add(obs("2026-11-25T09:30:00+09:00", "192.168.1.2", "news", 1));
        usage.add(obs("2026-11-25T10:00:00+09:00", "192.168.1.2", "sns", 7));
        let now = at("2026-11-25T10:30:00+09:00");
        let closed = usage.close_before(at("2026-11-25T10:01:00+09:00"), now);
        assert_eq!(closed.len(), 3);
        let sns = closed
            .iter()
            .find(|u| {
                u.name == "sns"
                    && u.client.as_ref().unwrap().ip == Some("192.168.1.2".parse().unwrap())
            })
            .unwrap();
        assert_eq!((sns.hits, sns.bytes), (2, 150));
        assert_eq!(sns.period_start, at("2026-11-25T09:00:00+09:00"));
        assert_eq!(sns.period_end, at("2026-11-25T10:00:00+09:00"));
        let rest = usage.close_all(now);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].period_end, now, "the open hour ends now");
        assert!(usage.is_empty());
    }

    #[test]
    fn an_hour_stays_open_for_a_minute_of_grace() {
        let mut usage = Usage::default();
        usage.add(obs("2026-11-25T09:10:00+09:00", "192.168.1.2", "sns", 1));
        let now = at("2026-11-25T10:30:00+09:00");
        assert!(
            usage
                .close_before(at("2026-11-25T10:00:59+09:00"), now)
                .is_empty()
        );
        assert_eq!(
            usage
                .close_before(at("2026-11-25T10:01:00+09:00"), now)
                .len(),
            1
        );
    }

    #[test]
    fn a_late_transaction_for_a_closed_hour_gets_a_record_of_its_own() {
        let mut usage = Usage::default();
        let now = at("2026-11-25T10:30:00+09:00");
        usage.add(obs("2026-11-25T09:10:00+09:00", "192.168.1.2", "sns", 1));
        let first = usage.close_all(now);
        usage.add(obs("2026-11-25T09:50:00+09:00", "192.168.1.2", "sns", 1));
        let late = usage.close_all(now);
        assert_ne!(first[0].event_id, late[0].event_id);
        let mut again = Usage::default();
        again.add(obs("2026-11-25T09:10:00+09:00", "192.168.1.2", "sns", 1));
        assert_eq!(
            again.close_all(now)[0].event_id,
            first[0].event_id,
            "stable across runs"
        );
    }

    #[test]
    fn replays_shifted_by_different_whole_hours_give_the_same_usage_ids() {
        let now = at("2026-11-25T10:30:00+09:00");
        let logged = obs("2026-11-20T09:10:00+09:00", "192.168.1.2", "sns", 1);
        let ids: Vec<_> = [120, 121, 125]
            .into_iter()
            .map(|hours| {
                let shift = TimeDelta::hours(hours);
                let mut usage = Usage::shifted(shift);
                usage.add(Observation {
                    at: logged.at + shift,
                    ..logged.clone()
                });
                usage.close_all(now + TimeDelta::hours(10))[0]
                    .event_id
                    .clone()
            })
            .collect();
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    }

    #[test]
    fn the_replay_shift_is_whole_hours_and_lands_within_the_last_hour() {
        let d = TimeDelta::hours(30) + TimeDelta::minutes(59);
        assert_eq!(whole_hours(d), TimeDelta::hours(30));
        assert_eq!(whole_hours(TimeDelta::minutes(5)), TimeDelta::zero());
        assert!(d - whole_hours(d) < TimeDelta::hours(1));
    }

    #[test]
    fn a_usage_hour_that_began_before_the_window_starts_at_the_window() {
        let mut usage = Usage::default();
        let now = at("2026-11-25T10:30:00+09:00");
        usage.add(obs("2026-11-18T10:50:00+09:00", "192.168.1.2", "sns", 1));
        let u = &usage.close_all(now)[0];
        assert_eq!(u.period_start, now - MAX_AGE + SAFETY);
        assert_eq!(u.period_end, at("2026-11-18T11:00:00+09:00"));
    }

    #[test]
    fn a_batch_holds_at_most_a_thousand_events() {
        let mut batch = Batch::default();
        let mut usage = Usage::default();
        let now = at("2026-11-25T10:30:00+09:00");
        for i in 0..1001u32 {
            let ip = format!("10.0.{}.{}", i / 250, i % 250);
            usage.add(obs("2026-11-25T09:10:00+09:00", &ip, "sns", 1));
        }
        let mut full = Vec::new();
        for u in usage.close_all(now) {
            full.extend(batch.push(Event::Usage(u)));
        }
        assert_eq!(full.len(), 1);
        assert_eq!(full[0].len(), MAX_EVENTS);
        assert_eq!(batch.take().len(), 1);
    }

    #[test]
    fn a_batch_stays_under_the_body_limit() {
        let mut batch = Batch::default();
        let big = threat_of(&alert_line(
            json!({"http": {"url": format!("/{}", "a".repeat(2000))}}),
        ));
        let mut reports = Vec::new();
        for _ in 0..800 {
            reports.extend(batch.push(Event::Threat(big.clone())));
        }
        reports.push(batch.take());
        assert!(reports.len() > 1);
        for events in reports {
            let body = serde_json::to_vec(&Report {
                report_id: Id::parse("r-1").unwrap(),
                sent_at: clock().now,
                firmware: Some("x".repeat(64)),
                definitions: Some("x".repeat(64)),
                clients: Some(u32::MAX),
                events,
            })
            .unwrap();
            assert!(body.len() <= MAX_BODY, "{} bytes", body.len());
        }
    }

    /// The sample file as a whole: what is forwarded, what is skipped and why, and that
    /// the cloud's own parser accepts the result.
    #[test]
    fn the_sample_file_maps_to_threats_usage_and_named_skips() {
        let text = include_str!("../testdata/eve-sample.json");
        let clock = Clock {
            now: at("2026-11-25T10:06:00+09:00"),
            shift: TimeDelta::zero(),
        };
        let mut threats = Vec::new();
        let mut usage = Usage::default();
        let mut observations = 0;
        let mut skipped: BTreeMap<String, u64> = BTreeMap::new();
        for line in text.lines() {
            match map_line(line, clock) {
                Mapped::Threat(t) => threats.push(Event::Threat(*t)),
                Mapped::Usage(o) => {
                    observations += 1;
                    usage.add(o);
                }
                Mapped::Skipped(why) => *skipped.entry(why.to_string()).or_default() += 1,
            }
        }
        assert_eq!(text.lines().count(), 63);
        assert_eq!(threats.len(), 16, "14 alerts, 1 anomaly, 1 executable");
        assert_eq!(
            observations, 30,
            "19 tls, 6 http, 5 dns lookups of applications"
        );
        let expected: BTreeMap<String, u64> = [
            ("dns answer", 6),
            ("dns query for no known application", 1),
            ("event_type flow ignored", 7),
            ("event_type stats ignored", 2),
            ("fileinfo of a file that is not executable", 1),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(skipped, expected);

        let records = usage.close_all(clock.now);
        assert_eq!(records.iter().map(|u| u.hits).sum::<u64>(), 30);
        let zoom_9 = records
            .iter()
            .find(|u| u.name == "zoom" && u.period_start == at("2026-11-25T09:00:00+09:00"))
            .unwrap();
        assert_eq!(zoom_9.hits, 2, "the lookup and the connection");
        let events: Vec<Event> = threats
            .into_iter()
            .chain(records.into_iter().map(Event::Usage))
            .collect();
        let report = Report {
            report_id: Id::parse("r-1").unwrap(),
            sent_at: clock.now,
            firmware: None,
            definitions: None,
            clients: Some(4),
            events,
        };
        let body = serde_json::to_vec(&report).unwrap();
        assert_eq!(parse_report(&body, clock.now).unwrap(), report);
    }
}
