//! A simulated appliance: what a small office's UTM sees in a day, compressed as much as
//! `--speed` asks. Most reports are plain heartbeats; some carry inbound port scans the
//! IPS blocked, phishing and malware sites the web filter blocked, downloads the
//! antivirus cleaned and, rarely, a command-and-control beacon from the one infected
//! office PC; once per (simulated) hour every active PC's web and application usage.
//!
//! The generator is a pure function of its seed and the times it is asked about, so a
//! `--seed` reproduces a run. Events are stamped at the real time they are generated:
//! compressed time would leave api-v1's window (7 days back, 5 minutes ahead). Public
//! addresses come from the documentation ranges (RFC 5737) so no real host is accused.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use domain::report::{
    Action, Direction, Endpoint, Event, File, Function, Id, Mac, Report, Threat, ThreatEvent,
    UsageEvent, UsageKind, VendorSeverity,
};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

use crate::progress::{Counters, Ui};
use crate::send::{self, Backoff, Delivery, End};
use crate::spool::{self, Spool};
use crate::state;

/// One PC on the office LAN.
#[derive(Debug, Clone)]
struct Host {
    ip: Ipv4Addr,
    mac: Mac,
}

/// The state of one simulated appliance between reports.
#[derive(Debug)]
pub struct Generator {
    rng: StdRng,
    hosts: Vec<Host>,
    /// Index into `hosts` of the PC that beacons to a C2 server.
    infected: usize,
    wan: Ipv4Addr,
    firmware: String,
    clients: u32,
    started: DateTime<Utc>,
    speed: f64,
    usage_period: TimeDelta,
    /// Start of the usage period being observed, once the first report was made.
    observing: Option<DateTime<Utc>>,
}

impl Generator {
    /// A generator for `device_id`: the same seed and device give the same office.
    pub fn new(
        device_id: &str,
        seed: u64,
        speed: f64,
        firmware: Option<String>,
        started: DateTime<Utc>,
    ) -> Generator {
        let digest = Sha256::digest(device_id.as_bytes());
        let device_bits = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        let mut rng = StdRng::seed_from_u64(seed ^ device_bits);
        const OUIS: [[u8; 3]; 6] = [
            [0x3c, 0x22, 0xfb],
            [0xf0, 0x18, 0x98],
            [0x00, 0x1b, 0x21],
            [0xa4, 0x5e, 0x60],
            [0xf4, 0x8c, 0x50],
            [0x00, 0x15, 0x5d],
        ];
        let mut octets: Vec<u8> = (10..=60).collect();
        octets.shuffle(&mut rng);
        let hosts: Vec<Host> = octets[..8]
            .iter()
            .map(|&last| {
                let oui = OUIS.choose(&mut rng).expect("not empty");
                let mac = format!(
                    "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                    oui[0],
                    oui[1],
                    oui[2],
                    rng.random::<u8>(),
                    rng.random::<u8>(),
                    rng.random::<u8>()
                );
                Host {
                    ip: Ipv4Addr::new(192, 168, 1, last),
                    mac: Mac::parse(&mac).expect("well-formed"),
                }
            })
            .collect();
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        Generator {
            infected: rng.random_range(0..hosts.len()),
            hosts,
            wan: Ipv4Addr::new(203, 0, 113, rng.random_range(2..250)),
            firmware: firmware.unwrap_or_else(|| "1.4.2".to_owned()),
            clients: rng.random_range(20..=40),
            started,
            speed,
            usage_period: TimeDelta::milliseconds(((3_600_000.0 / speed) as i64).max(1000)),
            observing: None,
            rng,
        }
    }

    /// The next report, as sent at `now`.
    pub fn report(&mut self, report_id: Id, now: DateTime<Utc>) -> Report {
        self.clients = (self.clients as i64 + self.rng.random_range(-1..=1)).clamp(20, 40) as u32;
        let mut events = Vec::new();
        if self.rng.random_bool(0.3) {
            for i in 0..self.rng.random_range(1..=4) {
                let id = Id::parse(&format!(
                    "{}-e{i}",
                    report_id.as_str().replacen("r-", "e-", 1)
                ))
                .expect("derived from a report id, under 64");
                let at = now - TimeDelta::milliseconds(self.rng.random_range(0..5_000));
                events.push(Event::Threat(self.threat(id, at)));
            }
        }
        events.extend(self.usage(now).into_iter().map(Event::Usage));
        Report {
            report_id,
            sent_at: now,
            firmware: Some(self.firmware.clone()),
            definitions: Some(definitions(now)),
            clients: Some(self.clients),
            events,
        }
    }

    fn threat(&mut self, event_id: Id, occurred_at: DateTime<Utc>) -> ThreatEvent {
        let roll = self.rng.random_range(0..100);
        let base = ThreatEvent {
            event_id,
            occurred_at,
            function: Function::Ips,
            action: Action::Blocked,
            direction: Direction::Inbound,
            threat: Threat {
                name: String::new(),
                signature_id: None,
                category: None,
                vendor_severity: VendorSeverity::Low,
            },
            src: None,
            dst: None,
            protocol: Some("tcp".to_owned()),
            url: None,
            file: None,
        };
        match roll {
            0..60 => self.port_scan(base),
            60..85 => self.blocked_site(base),
            85..97 => self.cleaned_download(base),
            _ => self.beacon(base),
        }
    }

    fn port_scan(&mut self, mut e: ThreatEvent) -> ThreatEvent {
        const SCANS: [(&str, &str, u16, VendorSeverity); 7] = [
            (
                "ET SCAN Suspicious inbound to MSSQL port 1433",
                "2010935",
                1433,
                VendorSeverity::Medium,
            ),
            (
                "ET SCAN Suspicious inbound to mySQL port 3306",
                "2010937",
                3306,
                VendorSeverity::Medium,
            ),
            (
                "ET SCAN Suspicious inbound to PostgreSQL port 5432",
                "2010939",
                5432,
                VendorSeverity::Medium,
            ),
            (
                "ET SCAN Potential SSH Scan",
                "2001219",
                22,
                VendorSeverity::Low,
            ),
            (
                "ET SCAN Potential VNC Scan 5900-5920",
                "2002911",
                5901,
                VendorSeverity::Low,
            ),
            (
                "ET SCAN Behavioral Unusual Port 3389 traffic Potential Scan",
                "2001569",
                3389,
                VendorSeverity::Low,
            ),
            (
                "ET SCAN NMAP -sS window 1024",
                "2009582",
                8080,
                VendorSeverity::Low,
            ),
        ];
        let (name, sid, port, severity) = *SCANS.choose(&mut self.rng).expect("not empty");
        e.threat = Threat {
            name: name.to_owned(),
            signature_id: Some(sid.to_owned()),
            category: Some("scan".to_owned()),
            vendor_severity: severity,
        };
        let src_port = self.rng.random_range(1024..=65535);
        e.src = Some(self.outside(src_port));
        e.dst = Some(endpoint(IpAddr::V4(self.wan), Some(port), None));
        e
    }

    fn blocked_site(&mut self, mut e: ThreatEvent) -> ThreatEvent {
        const SITES: [(&str, &str, &str); 8] = [
            (
                "phishing",
                "sagawa-exp.delivery-check.example",
                "/track?id=48213",
            ),
            ("phishing", "amazon-co-jp.account-verify.example", "/signin"),
            (
                "phishing",
                "smbc-card.secure-login.example",
                "/auth/login.php",
            ),
            ("phishing", "rakuten-point.campaign-jp.example", "/entry"),
            ("phishing", "mufg-direct.auth-update.example", "/verify"),
            (
                "malware",
                "cdn-update.driver-fix.example",
                "/files/update.php",
            ),
            ("malware", "free-pdf-convert.example", "/dl/setup"),
            ("malware", "download.crack-soft.example", "/keygen/latest"),
        ];
        let (category, host, path) = *SITES.choose(&mut self.rng).expect("not empty");
        let (function, label, severity) = if category == "phishing" {
            (Function::UrlFilter, "Phishing site", VendorSeverity::High)
        } else {
            (Function::WebGuard, "Malicious site", VendorSeverity::Medium)
        };
        e.function = function;
        e.direction = Direction::Outbound;
        e.threat = Threat {
            name: format!("{label}: {host}"),
            signature_id: None,
            category: Some(category.to_owned()),
            vendor_severity: severity,
        };
        e.src = Some(self.inside(None));
        e.dst = Some(self.outside(443));
        e.url = Some(format!("https://{host}{path}"));
        e
    }

    fn cleaned_download(&mut self, mut e: ThreatEvent) -> ThreatEvent {
        const FILES: [(&str, &str); 6] = [
            ("請求書_2026-11.pdf.exe", "Trojan.Win32.Agent.gen"),
            ("invoice.doc.exe", "Trojan-Downloader.Win32.Emotet.gen"),
            ("見積書.xlsm", "HEUR:Trojan-Downloader.MSOffice.SLoad.gen"),
            ("scan_20261125.zip", "Trojan-Dropper.Win32.Qakbot.gen"),
            ("setup_crack.exe", "HackTool.Win32.Keygen.gen"),
            ("配送通知.js", "Trojan-Downloader.JS.Agent.gen"),
        ];
        let (file, name) = *FILES.choose(&mut self.rng).expect("not empty");
        let sha256 = hex(&Sha256::digest(
            format!("{file}-{}", self.rng.random::<u32>() % 16).as_bytes(),
        ));
        e.function = Function::Antivirus;
        e.action = Action::Detoxified;
        e.direction = Direction::Inbound;
        e.threat = Threat {
            name: name.to_owned(),
            signature_id: None,
            category: Some("malware".to_owned()),
            vendor_severity: VendorSeverity::High,
        };
        e.src = Some(self.outside(80));
        e.dst = Some(self.inside(None));
        e.url = Some(format!(
            "http://files.share-docs.example/d/{}",
            self.rng.random::<u16>()
        ));
        e.file = Some(File {
            name: Some(file.to_owned()),
            sha256: Some(sha256),
        });
        e
    }

    fn beacon(&mut self, mut e: ThreatEvent) -> ThreatEvent {
        const BEACONS: [(&str, &str); 3] = [
            ("ET MALWARE Win32/Emotet CnC Beacon", "2030361"),
            ("ET MALWARE Cobalt Strike Beacon Observed", "2027082"),
            ("ET MALWARE Win32/IcedID Request Cookie", "2029229"),
        ];
        let (name, sid) = *BEACONS.choose(&mut self.rng).expect("not empty");
        e.action = if self.rng.random_bool(0.5) {
            Action::Blocked
        } else {
            Action::Detected
        };
        e.direction = Direction::Outbound;
        e.threat = Threat {
            name: name.to_owned(),
            signature_id: Some(sid.to_owned()),
            category: Some("c2".to_owned()),
            vendor_severity: VendorSeverity::Critical,
        };
        e.src = Some(self.inside(Some(self.infected)));
        e.dst = Some(endpoint(
            IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)),
            Some(443),
            None,
        ));
        e.url = Some("https://203.0.113.9/gate.php".to_owned());
        e
    }

    /// Usage records for the period that just closed, once per (simulated) hour.
    fn usage(&mut self, now: DateTime<Utc>) -> Vec<UsageEvent> {
        let period_ms = self.usage_period.num_milliseconds();
        let current =
            DateTime::from_timestamp_millis(now.timestamp_millis() / period_ms * period_ms)
                .expect("within chrono's range");
        let closed = match self.observing.replace(current) {
            Some(from) if from < current => from,
            _ => return Vec::new(),
        };
        let activity = activity(self.simulated(closed));
        let mut records = Vec::new();
        const WEB: [(&str, u64, u64); 6] = [
            ("sns", 400, 40_000),
            ("video", 120, 2_500_000),
            ("news", 200, 60_000),
            ("shopping", 150, 80_000),
            ("search", 300, 20_000),
            ("business", 500, 50_000),
        ];
        const APPS: [(&str, u64, u64); 5] = [
            ("zoom", 40, 8_000_000),
            ("line", 300, 30_000),
            ("dropbox", 60, 1_500_000),
            ("teams", 80, 3_000_000),
            ("slack", 200, 20_000),
        ];
        for (h, host) in self.hosts.clone().iter().enumerate() {
            if !self.rng.random_bool((0.3 + 0.6 * activity).min(1.0)) {
                continue;
            }
            let (n_web, n_apps) = (self.rng.random_range(1..=3), self.rng.random_range(0..=2));
            let webs: Vec<_> = WEB.choose_multiple(&mut self.rng, n_web).copied().collect();
            let apps: Vec<_> = APPS
                .choose_multiple(&mut self.rng, n_apps)
                .copied()
                .collect();
            for (kind, (name, hits, bytes_per_hit)) in webs
                .into_iter()
                .map(|w| (UsageKind::WebCategory, w))
                .chain(apps.into_iter().map(|a| (UsageKind::Application, a)))
            {
                let scale = activity * self.rng.random_range(0.3..1.5);
                let hits = ((hits as f64) * scale).round().max(1.0) as u64;
                let bytes =
                    hits * ((bytes_per_hit as f64) * self.rng.random_range(0.5..1.5)) as u64;
                records.push(UsageEvent {
                    event_id: Id::parse(&format!(
                        "u-{}-{h}-{}-{name}",
                        closed.timestamp(),
                        kind.as_str()
                    ))
                    .expect("short and made of id characters"),
                    period_start: closed,
                    period_end: closed + self.usage_period,
                    kind,
                    name: name.to_owned(),
                    hits,
                    bytes,
                    client: Some(Endpoint {
                        ip: Some(IpAddr::V4(host.ip)),
                        port: None,
                        mac: Some(host.mac.clone()),
                    }),
                });
            }
        }
        records
    }

    /// The office's clock: real time since the start, sped up.
    fn simulated(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let elapsed = (t - self.started).num_milliseconds() as f64 * self.speed;
        self.started + TimeDelta::milliseconds(elapsed as i64)
    }

    fn inside(&mut self, which: Option<usize>) -> Endpoint {
        let host = &self.hosts[which.unwrap_or_else(|| self.rng.random_range(0..self.hosts.len()))];
        let port = self.rng.random_range(49152..=65535);
        endpoint(IpAddr::V4(host.ip), Some(port), Some(host.mac.clone()))
    }

    fn outside(&mut self, port: u16) -> Endpoint {
        let ip = if self.rng.random_bool(0.5) {
            Ipv4Addr::new(198, 51, 100, self.rng.random_range(1..255))
        } else {
            Ipv4Addr::new(192, 0, 2, self.rng.random_range(1..255))
        };
        endpoint(IpAddr::V4(ip), Some(port), None)
    }
}

fn endpoint(ip: IpAddr, port: Option<u16>, mac: Option<Mac>) -> Endpoint {
    Endpoint {
        ip: Some(ip),
        port,
        mac,
    }
}

/// How busy the office is at a (simulated) moment, 0–1: weekdays 9–18 JST are busy,
/// evenings and weekends quiet, nights nearly idle.
fn activity(t: DateTime<Utc>) -> f64 {
    let local = t.with_timezone(&domain::jst::tokyo());
    let weekend = local.weekday().num_days_from_monday() >= 5;
    match (weekend, local.hour()) {
        (false, 9..=17) => 1.0,
        (false, 7..=8 | 18..=21) => 0.35,
        (true, 9..=21) => 0.15,
        _ => 0.05,
    }
}

/// The signature definitions version an appliance would have today: `2026.11.25.01`.
fn definitions(now: DateTime<Utc>) -> String {
    format!(
        "{}.01",
        now.with_timezone(&domain::jst::tokyo()).format("%Y.%m.%d")
    )
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// When a simulation stops producing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    Forever,
    /// Real seconds.
    For(Duration),
    /// Reports per appliance.
    Reports(u64),
}

pub struct Options {
    pub states: Vec<PathBuf>,
    pub speed: f64,
    pub limit: Limit,
    pub seed: u64,
    pub backoff: Backoff,
}

/// Runs one producer and one sender thread per appliance, then waits until every spool
/// is delivered. Prints a summary per appliance on stdout; false when any appliance was
/// refused or had reports rejected.
pub fn run(opts: &Options, ui: &Ui) -> anyhow::Result<bool> {
    let http = send::http_client();
    let mut appliances = Vec::new();
    for dir in &opts.states {
        let st = state::load(dir)?;
        let spool = Arc::new(
            Spool::open(dir)
                .with_context(|| format!("cannot open the spool in {}", dir.display()))?,
        );
        let line = ui.line(st.device_id.as_str());
        let pending = spool.len();
        if pending > 0 {
            line.warn(&format!(
                "{pending} report(s) left in the spool by an earlier run will go first"
            ));
        }
        let delivery = Delivery {
            spool,
            reports_url: st.reports_url(),
            token: st.device_token.clone(),
            backoff: opts.backoff,
            http: http.clone(),
            line,
        };
        appliances.push((st, delivery));
    }
    let started = Utc::now();
    let mut handles = Vec::new();
    for (st, delivery) in appliances {
        let (wake_tx, wake_rx) = mpsc::channel::<()>();
        let halt = Arc::new(AtomicBool::new(false));
        let sender = {
            let (d, halt) = (delivery.clone(), halt.clone());
            let never = AtomicBool::new(false);
            thread::spawn(move || {
                let end = send::deliver(&d, &wake_rx, &never);
                halt.store(true, Ordering::SeqCst);
                end
            })
        };
        let interval = Duration::from_secs_f64(st.report_interval_s as f64 / opts.speed.max(1e-6));
        let mut generator = Generator::new(
            st.device_id.as_str(),
            opts.seed,
            opts.speed,
            st.firmware.clone(),
            started,
        );
        let limit = opts.limit;
        let producer = {
            let d = delivery.clone();
            thread::spawn(move || -> anyhow::Result<()> {
                let began = Instant::now();
                let mut made = 0u64;
                loop {
                    let done = match limit {
                        Limit::Forever => false,
                        Limit::For(d) => began.elapsed() >= d,
                        Limit::Reports(n) => made >= n,
                    };
                    if done || halt.load(Ordering::SeqCst) {
                        return Ok(());
                    }
                    let now = Utc::now();
                    let seq = d.spool.next_seq();
                    let report = generator.report(spool::report_id(now, seq), now);
                    d.spool.put(seq, &report)?;
                    Counters::add(&d.line.counters.spooled, 1);
                    Counters::add(&d.line.counters.waiting, 1);
                    d.line.redraw();
                    made += 1;
                    // The sender may have stopped (refused); the report stays spooled.
                    let _ = wake_tx.send(());
                    let next = began + interval.mul_f64(made as f64);
                    if !send::pause(next.saturating_duration_since(Instant::now()), &halt) {
                        return Ok(());
                    }
                }
            })
        };
        handles.push((delivery, producer, sender));
    }
    let mut ends = Vec::new();
    for (delivery, producer, sender) in handles {
        let made = producer
            .join()
            .map_err(|_| anyhow::anyhow!("a producer panicked"))?;
        let end = sender
            .join()
            .map_err(|_| anyhow::anyhow!("a sender panicked"))?;
        made?;
        let state = match end {
            End::Drained | End::Stopped => "done",
            End::Refused(401) => "stopped: re-enroll",
            End::Refused(_) => "stopped: refused",
        };
        delivery.line.finish(state);
        ends.push((delivery, end, state));
    }
    // Summaries only once every bar is finished, so they do not tear the bars.
    let mut all_ok = true;
    for (delivery, end, state) in ends {
        let line = &delivery.line;
        let c = &line.counters;
        all_ok &= !matches!(end, End::Refused(_)) && Counters::get(&c.rejected) == 0;
        println!(
            "{}: spooled {}, delivered {}, accepted {}, duplicates {}, rejected {}, retries {}, left in spool {} ({state})",
            line.name(),
            Counters::get(&c.spooled),
            Counters::get(&c.delivered),
            Counters::get(&c.accepted),
            Counters::get(&c.duplicates),
            Counters::get(&c.rejected),
            Counters::get(&c.retries),
            delivery.spool.len(),
        );
    }
    Ok(all_ok)
}

#[cfg(test)]
mod tests {
    use domain::report::parse_report;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// A day of reports, one a minute, as a speed-1 appliance would send them.
    fn a_day(seed: u64) -> Vec<Report> {
        let start = at("2026-11-25T00:00:00+09:00");
        let mut g = Generator::new("c025a28b0a41", seed, 1.0, None, start);
        (0..24 * 60)
            .map(|m| {
                let now = start + TimeDelta::minutes(m);
                g.report(spool::report_id(now, m as u64 + 1), now)
            })
            .collect()
    }

    #[test]
    fn every_generated_report_passes_the_clouds_parser() {
        for report in a_day(7) {
            let body = serde_json::to_vec(&report).unwrap();
            let parsed = parse_report(&body, report.sent_at)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)));
            assert_eq!(parsed, report);
        }
    }

    #[test]
    fn times_are_sent_as_rfc3339_in_utc() {
        let report = &a_day(1)[0];
        let body = serde_json::to_value(report).unwrap();
        assert_eq!(body["sent_at"], "2026-11-24T15:00:00Z");
    }

    #[test]
    fn the_mix_is_mostly_heartbeats_with_every_kind_of_event() {
        let day = a_day(3);
        let heartbeats = day.iter().filter(|r| r.events.is_empty()).count();
        assert!(heartbeats > day.len() / 2, "{heartbeats} heartbeats");
        let threats: Vec<&ThreatEvent> = day
            .iter()
            .flat_map(|r| &r.events)
            .filter_map(|e| match e {
                Event::Threat(t) => Some(t),
                Event::Usage(_) => None,
            })
            .collect();
        let has = |f: Function, c: &str| {
            threats
                .iter()
                .any(|t| t.function == f && t.threat.category.as_deref() == Some(c))
        };
        assert!(has(Function::Ips, "scan"));
        assert!(has(Function::UrlFilter, "phishing"));
        assert!(has(Function::WebGuard, "malware"));
        assert!(has(Function::Antivirus, "malware"));
        assert!(has(Function::Ips, "c2"));
        assert!(
            threats
                .iter()
                .all(|t| t.threat.category.as_deref() != Some("c2")
                    || t.threat.vendor_severity == VendorSeverity::Critical)
        );
        let scans = threats
            .iter()
            .filter(|t| t.direction == Direction::Inbound)
            .count();
        assert!(scans > threats.len() / 2);
    }

    #[test]
    fn usage_comes_once_an_hour_for_the_hour_that_closed_and_follows_office_hours() {
        let day = a_day(5);
        let usage: Vec<&UsageEvent> = day
            .iter()
            .flat_map(|r| &r.events)
            .filter_map(|e| match e {
                Event::Usage(u) => Some(u),
                Event::Threat(_) => None,
            })
            .collect();
        let mut hours: Vec<DateTime<Utc>> = usage.iter().map(|u| u.period_start).collect();
        hours.dedup();
        assert_eq!(
            hours.len(),
            23,
            "the last hour of the day has not closed yet"
        );
        assert!(
            usage
                .iter()
                .all(|u| u.period_end - u.period_start == TimeDelta::hours(1))
        );
        let hits_at = |h: &str| -> u64 {
            usage
                .iter()
                .filter(|u| u.period_start == at(h))
                .map(|u| u.hits)
                .sum()
        };
        assert!(hits_at("2026-11-25T10:00:00+09:00") > 5 * hits_at("2026-11-25T03:00:00+09:00"));
        let mut ids: Vec<&str> = usage.iter().map(|u| u.event_id.as_str()).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "usage ids are unique");
    }

    #[test]
    fn the_same_seed_gives_the_same_office_and_another_seed_another() {
        let json = |seed| serde_json::to_string(&a_day(seed)).unwrap();
        assert_eq!(json(11), json(11));
        assert_ne!(json(11), json(12));
    }

    #[test]
    fn clients_stay_between_20_and_40() {
        assert!(
            a_day(9)
                .iter()
                .all(|r| (20..=40).contains(&r.clients.unwrap()))
        );
    }

    #[test]
    fn at_high_speed_an_hour_of_usage_passes_in_a_minute() {
        let start = at("2026-11-25T00:00:00Z");
        let mut g = Generator::new("c025a28b0a41", 1, 60.0, None, start);
        let mut periods = Vec::new();
        for s in 0..=180 {
            let now = start + TimeDelta::seconds(s);
            for e in g.report(spool::report_id(now, s as u64), now).events {
                if let Event::Usage(u) = e {
                    assert!(u.period_end <= now);
                    assert_eq!(u.period_end - u.period_start, TimeDelta::minutes(1));
                    periods.push(u.period_start);
                }
            }
        }
        periods.dedup();
        assert_eq!(
            periods.len(),
            3,
            "three simulated hours closed in three minutes"
        );
    }
}
