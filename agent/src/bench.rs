//! Load test of the ingest path as a fleet would load it: provision a customer and N
//! appliances through the operator API, enroll each, then let every appliance send M
//! reports of many threat events back to back and time each request. The events come
//! from small pools of signatures and addresses, as real scans do, so the cloud's
//! grouping of similar events has something to do. There is no spool here: a bench
//! measures the cloud, and every answer other than 202 counts as a failure.
//!
//! `--dump` writes every body exactly as sent, so a separate script can load the same
//! rows straight into a database and compare.

use std::fs;
use std::io::{BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, TimeDelta, Utc};
use domain::device::DeviceId;
use domain::report::{
    Action, Direction, Endpoint, Event, Function, Id, Mac, Report, Threat, ThreatEvent,
    VendorSeverity,
};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::enroll::{self, Request};
use crate::progress::{Counters, Ui};
use crate::send::{self, describe, post_json};
use crate::state::Secret;

pub struct Options {
    pub url: String,
    pub operator_token: Secret,
    pub appliances: usize,
    pub reports: usize,
    pub events: usize,
    pub dump: Option<PathBuf>,
    pub seed: Option<u64>,
}

/// The result of a bench run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub appliances: usize,
    pub reports: usize,
    pub events: usize,
    pub wall_s: f64,
    pub events_per_s: f64,
    pub reports_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub non_202: usize,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "appliances {} · reports {} · events {}",
            self.appliances, self.reports, self.events
        )?;
        writeln!(
            f,
            "wall {:.2} s · {:.0} events/s · {:.1} reports/s",
            self.wall_s, self.events_per_s, self.reports_per_s
        )?;
        writeln!(
            f,
            "latency ms: p50 {:.1} · p99 {:.1} · max {:.1}",
            self.p50_ms, self.p99_ms, self.max_ms
        )?;
        write!(f, "non-202 answers {}", self.non_202)
    }
}

/// One bench appliance, enrolled.
struct Appliance {
    device_id: DeviceId,
    token: Secret,
}

pub fn run(opts: &Options, ui: &Ui) -> anyhow::Result<Figures> {
    let http = send::http_client();
    let seed = opts.seed.unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    // A prefix of the device ids unique to this run, so runs never collide.
    let run_tag = format!("{:06x}", rng.random::<u32>() & 0xff_ffff);
    let fleet = provision(&http, opts, &run_tag)?;
    ui.info(&format!(
        "provisioned {} appliance(s) {run_tag}000000…; sending",
        fleet.len()
    ));

    let dump = match &opts.dump {
        Some(path) => Some(Arc::new(Mutex::new(BufWriter::new(
            fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )))),
        None => None,
    };
    let line = ui.line("bench");
    line.set_state("sending");
    let url = format!("{}/api/v1/device/reports", opts.url);
    let start = Arc::new(Barrier::new(fleet.len() + 1));
    let mut handles = Vec::new();
    for (k, appliance) in fleet.into_iter().enumerate() {
        let (http, url, start, dump, line) = (
            http.clone(),
            url.clone(),
            start.clone(),
            dump.clone(),
            line.clone(),
        );
        let (reports, events, run_tag) = (opts.reports, opts.events, run_tag.clone());
        let mut rng = StdRng::seed_from_u64(seed.wrapping_add(k as u64 + 1));
        handles.push(thread::spawn(move || -> Vec<Timed> {
            start.wait();
            let mut timed = Vec::with_capacity(reports);
            for r in 0..reports {
                let now = Utc::now();
                let report = bench_report(&mut rng, &run_tag, k, r, events, now);
                let body = serde_json::to_vec(&report).expect("a report serializes");
                let began = Instant::now();
                let answer = post_json(&http, &url, Some(&appliance.token), &body);
                let took = began.elapsed();
                let failure = match answer {
                    Ok(a) if a.status == 202 => None,
                    Ok(a) => Some(describe(&a)),
                    Err(e) => Some(e.to_string()),
                };
                if failure.is_none() {
                    Counters::add(&line.counters.delivered, 1);
                    line.redraw();
                }
                if let Some(dump) = &dump {
                    let mut w = dump.lock().expect("no writer panics");
                    let _ = write!(w, "{{\"device_id\":\"{}\",\"report\":", appliance.device_id);
                    let _ = w.write_all(&body);
                    let _ = writeln!(w, "}}");
                }
                timed.push(Timed { took, failure });
            }
            timed
        }));
    }
    start.wait();
    let began = Instant::now();
    let mut timed = Vec::new();
    for h in handles {
        timed.extend(
            h.join()
                .map_err(|_| anyhow::anyhow!("a bench thread panicked"))?,
        );
    }
    let wall = began.elapsed();
    if let Some(dump) = dump {
        dump.lock()
            .map_err(|_| anyhow::anyhow!("the dump writer panicked"))?
            .flush()?;
    }
    line.finish("done");
    for failure in timed.iter().filter_map(|t| t.failure.as_deref()).take(5) {
        ui.warn(&format!("not accepted: {failure}"));
    }
    Ok(figures(opts, &timed, wall))
}

struct Timed {
    took: Duration,
    failure: Option<String>,
}

fn figures(opts: &Options, timed: &[Timed], wall: Duration) -> Figures {
    let mut latencies: Vec<Duration> = timed.iter().map(|t| t.took).collect();
    latencies.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let reports = timed.len();
    let events = reports * opts.events;
    let wall_s = wall.as_secs_f64().max(1e-9);
    Figures {
        appliances: opts.appliances,
        reports,
        events,
        wall_s,
        events_per_s: events as f64 / wall_s,
        reports_per_s: reports as f64 / wall_s,
        p50_ms: ms(percentile(&latencies, 50.0)),
        p99_ms: ms(percentile(&latencies, 99.0)),
        max_ms: ms(latencies.last().copied().unwrap_or_default()),
        non_202: timed.iter().filter(|t| t.failure.is_some()).count(),
    }
}

/// Nearest-rank percentile of sorted values; zero for none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A customer, its appliances and their device tokens, through the operator API.
fn provision(http: &ureq::Agent, opts: &Options, run_tag: &str) -> anyhow::Result<Vec<Appliance>> {
    #[derive(Deserialize)]
    struct Customer {
        customer_id: String,
    }
    #[derive(Deserialize)]
    struct Device {
        enrollment_code: String,
    }
    let body = json!({
        "name": format!("ベンチ株式会社 {run_tag}"),
        "service_start": "2026-11-01",
        "alert_recipients": ["bench@example.jp"],
    });
    let customer: Customer = admin(http, opts, "/api/v1/admin/customers", &body)?;
    let mut fleet = Vec::new();
    for k in 0..opts.appliances {
        let device_id = DeviceId::parse(&format!("{run_tag}{k:06x}"))
            .context("more appliances than one bench run can name")?;
        let device: Device = admin(
            http,
            opts,
            &format!("/api/v1/admin/customers/{}/devices", customer.customer_id),
            &json!({"device_id": device_id, "name": format!("bench-{k}")}),
        )?;
        let state = enroll::enroll(
            http,
            &Request {
                url: &opts.url,
                device_id: &device_id,
                code: &device.enrollment_code,
                model: Some("bench"),
                firmware: Some("1.4.2"),
            },
        )?;
        fleet.push(Appliance {
            device_id,
            token: state.device_token,
        });
    }
    Ok(fleet)
}

fn admin<T: for<'de> Deserialize<'de>>(
    http: &ureq::Agent,
    opts: &Options,
    path: &str,
    body: &serde_json::Value,
) -> anyhow::Result<T> {
    let url = format!("{}{path}", opts.url);
    let answer = post_json(
        http,
        &url,
        Some(&opts.operator_token),
        body.to_string().as_bytes(),
    )
    .with_context(|| format!("cannot reach {url}"))?;
    if answer.status != 201 {
        bail!("POST {path} failed: {}", describe(&answer));
    }
    serde_json::from_str(&answer.body).with_context(|| format!("unexpected answer to POST {path}"))
}

/// Report `r` of appliance `k`: `events` threat events from small pools, within the last
/// hour, with ids unique in the run.
pub fn bench_report(
    rng: &mut StdRng,
    run_tag: &str,
    k: usize,
    r: usize,
    events: usize,
    now: DateTime<Utc>,
) -> Report {
    const SIGNATURES: [(&str, &str, &str, VendorSeverity, u16); 6] = [
        (
            "ET SCAN Potential SSH Scan",
            "2001219",
            "scan",
            VendorSeverity::Low,
            22,
        ),
        (
            "ET SCAN Suspicious inbound to MSSQL port 1433",
            "2010935",
            "scan",
            VendorSeverity::Medium,
            1433,
        ),
        (
            "ET SCAN Suspicious inbound to mySQL port 3306",
            "2010937",
            "scan",
            VendorSeverity::Medium,
            3306,
        ),
        (
            "ET SCAN NMAP -sS window 1024",
            "2009582",
            "scan",
            VendorSeverity::Low,
            8080,
        ),
        (
            "ET POLICY Possible Kali Linux hostname in DHCP Request Packet",
            "2022973",
            "policy",
            VendorSeverity::Low,
            67,
        ),
        (
            "ET MALWARE Win32/Emotet CnC Beacon",
            "2030361",
            "c2",
            VendorSeverity::Critical,
            443,
        ),
    ];
    let events = (0..events)
        .map(|i| {
            // Mostly scans from a handful of sources; now and then a beacon.
            let (name, sid, category, severity, port) = if rng.random_bool(0.02) {
                SIGNATURES[5]
            } else {
                *SIGNATURES[..5].choose(rng).expect("not empty")
            };
            let outside = Endpoint {
                ip: Some(IpAddr::V4(Ipv4Addr::new(
                    198,
                    51,
                    100,
                    rng.random_range(1..=16),
                ))),
                port: Some(rng.random_range(1024..=65535)),
                mac: None,
            };
            let host = rng.random_range(10..20u8);
            let inside = Endpoint {
                ip: Some(IpAddr::V4(Ipv4Addr::new(192, 168, 1, host))),
                port: Some(port),
                mac: Some(Mac::parse(&format!("3c:22:fb:00:00:{host:02x}")).expect("well-formed")),
            };
            let outbound = category == "c2";
            Event::Threat(ThreatEvent {
                event_id: Id::parse(&format!("e-{run_tag}-{k}-{r}-{i}")).expect("short"),
                occurred_at: now - TimeDelta::seconds(rng.random_range(0..3600)),
                function: Function::Ips,
                action: if outbound {
                    Action::Detected
                } else {
                    Action::Blocked
                },
                direction: if outbound {
                    Direction::Outbound
                } else {
                    Direction::Inbound
                },
                threat: Threat {
                    name: name.to_owned(),
                    signature_id: Some(sid.to_owned()),
                    category: Some(category.to_owned()),
                    vendor_severity: severity,
                },
                src: Some(if outbound {
                    inside.clone()
                } else {
                    outside.clone()
                }),
                dst: Some(if outbound { outside } else { inside }),
                protocol: Some("tcp".to_owned()),
                url: None,
                file: None,
            })
        })
        .collect();
    Report {
        report_id: Id::parse(&format!("r-bench-{run_tag}-{k}-{r}")).expect("short"),
        sent_at: now,
        firmware: Some("1.4.2".to_owned()),
        definitions: None,
        clients: Some(rng.random_range(20..=40)),
        events,
    }
}

#[cfg(test)]
mod tests {
    use domain::report::parse_report;

    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&ms, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&ms, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&ms, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&ms[..1], 99.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn a_bench_report_of_a_thousand_events_passes_the_clouds_parser() {
        let now = DateTime::parse_from_rfc3339("2026-11-25T10:00:00+09:00")
            .unwrap()
            .with_timezone(&Utc);
        let mut rng = StdRng::seed_from_u64(1);
        let report = bench_report(&mut rng, "abcdef", 3, 7, 1000, now);
        let body = serde_json::to_vec(&report).unwrap();
        assert!(body.len() < 1024 * 1024);
        assert_eq!(parse_report(&body, now).unwrap(), report);
        let mut ids: Vec<&str> = report
            .events
            .iter()
            .map(|e| e.event_id().as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 1000);
    }

    #[test]
    fn bench_events_repeat_signatures_and_sources_so_they_can_be_grouped() {
        let now = Utc::now();
        let mut rng = StdRng::seed_from_u64(2);
        let report = bench_report(&mut rng, "abcdef", 0, 0, 100, now);
        let mut pairs: Vec<String> = report
            .events
            .iter()
            .map(|e| match e {
                Event::Threat(t) => format!(
                    "{:?}{:?}",
                    t.threat.signature_id,
                    t.src.as_ref().unwrap().ip
                ),
                Event::Usage(_) => unreachable!(),
            })
            .collect();
        pairs.sort();
        pairs.dedup();
        assert!(pairs.len() < 100, "{} distinct of 100", pairs.len());
    }
}
