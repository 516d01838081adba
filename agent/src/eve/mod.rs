//! Suricata's eve.json (one JSON object a line) becomes api-v1 reports here, so a real
//! IDS can stand in for a UTM appliance: `mapping` turns a line into an event, `usage`
//! sums usage per hour, `batch` fills reports within api-v1's limits, `replay` moves an
//! old file to the present, and [`run`] spools and delivers while it reads. The summary
//! says what was forwarded, what was skipped and why, every threat left out for its time
//! by name, and how each signature family was mapped (`family`).
//!
//! Event ids are derived from the line itself, so forwarding the same file twice stores
//! nothing new: the cloud answers the second time with duplicates.

mod batch;
mod classtype;
mod family;
mod home;
mod mapping;
mod replay;
mod skips;
mod usage;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use domain::report::{Event, Id, Report};

pub use self::batch::{Batch, MAX_BODY};
pub use self::family::Families;
pub use self::home::HomeNet;
pub use self::mapping::{Clock, Mapped, Skip, is_threat_type, map_line, parse_timestamp};
pub use self::replay::{Plan, Timeline, plan};
pub use self::skips::{Skips, threat_named};
pub use self::usage::{Observation, Usage};
use crate::progress::{Counters, Line, Ui};
use crate::send::{self, Backoff, Delivery, End};
use crate::spool::{self, Spool};
use crate::state;
use crate::tail::{Next, Tail};

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
    /// Every time moves so that the file's newest event happened now (`replay`).
    Replay,
}

pub struct Options {
    pub file: PathBuf,
    pub state: PathBuf,
    pub reading: Reading,
    pub timing: Timing,
    pub home: HomeNet,
    pub backoff: Backoff,
}

/// What a forwarding run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub lines: u64,
    pub threats: u64,
    pub usage: u64,
    pub skipped: Skips,
    /// What `--replay` did, in one line.
    pub replay: Option<String>,
    pub families: Families,
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
        if let Some(replay) = &self.replay {
            writeln!(f, "{replay}")?;
        }
        writeln!(f, "lines read        {}", self.lines)?;
        writeln!(f, "threats           {}", self.threats)?;
        writeln!(f, "usage records     {}", self.usage)?;
        writeln!(f, "skipped           {}", self.skipped.total())?;
        write!(f, "{}", self.skipped)?;
        if !self.families.is_empty() {
            write!(f, "{}", self.families)?;
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
    let mut summary = Summary::default();
    let timeline = match opts.timing {
        Timing::AsLogged => Timeline::as_logged(),
        Timing::Replay => {
            let plan = replay_plan(&opts.file, Utc::now())?;
            summary.replay = Some(plan.describe());
            plan.timeline
        }
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

    let mut out = Outbox {
        spool: &spool,
        wake: &wake_tx,
        firmware: st.firmware.clone(),
        clients: HashSet::new(),
        reports: 0,
        last: Instant::now(),
        line: &line,
    };
    let mut usage = Usage::default();
    let mut copies = Copies::default();
    let mut batch = Batch::default();
    let mut latest: Option<DateTime<Utc>> = None;
    let heartbeat = Duration::from_secs(st.report_interval_s);
    loop {
        match tail.next_line()? {
            Next::Line(text) => {
                summary.lines += 1;
                let now = Utc::now();
                let clock = Clock {
                    now,
                    timeline: &timeline,
                    home: &opts.home,
                };
                let mapped = map_line(&text, clock);
                let at = match mapped {
                    Mapped::Threat(mut t) => {
                        t.event_id = copies.id(t.event_id);
                        summary.threats += 1;
                        summary.families.add(&t);
                        let at = t.occurred_at;
                        for ep in [&t.src, &t.dst].into_iter().flatten() {
                            out.saw(ep.ip, &opts.home);
                        }
                        if let Some(full) = batch.push(Event::Threat(*t)) {
                            out.send(full)?;
                        }
                        Some(at)
                    }
                    Mapped::Usage(o) => {
                        out.saw(Some(o.client), &opts.home);
                        let at = o.at;
                        usage.add(o);
                        Some(at)
                    }
                    Mapped::Skipped(why) => {
                        summary.skipped.add(&why, &text);
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

/// Byte-identical threat lines are distinct records (Suricata writes some anomalies and
/// file records twice in the same microsecond): the n-th copy of a line gets the id of
/// the first with `-cN` appended, so each copy is stored, and forwarding the file again
/// still stores nothing new.
#[derive(Debug, Default)]
pub struct Copies(HashMap<Id, u32>);

impl Copies {
    pub fn id(&mut self, first: Id) -> Id {
        let n = self.0.entry(first.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            return first;
        }
        Id::parse(&format!("{}-c{n}", first.as_str())).unwrap_or(first)
    }
}

/// The `--replay` plan of a file (`replay`).
pub fn replay_plan(file: &Path, now: DateTime<Utc>) -> anyhow::Result<Plan> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    plan(text.lines(), now)
        .with_context(|| format!("{} has no event line with a timestamp", file.display()))
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
    fn saw(&mut self, ip: Option<IpAddr>, home: &HomeNet) {
        if let Some(ip) = ip.filter(|ip| home.contains(*ip)) {
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
mod tests;
