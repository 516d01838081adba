//! `mimamori-agent triage FILE…`: how a rule table rates real logs, before it ships. Each
//! file is read as `forward-eve --replay` would forward it (the same mapping, the same
//! skips), and every threat is rated by the table; nothing is sent. Per file it prints how
//! many events became threats at each tier, which of them would be mailed and which only
//! recorded, which rules fired for which signatures, what was skipped and why, and every
//! threat left out for its time. A closing table sums the tiers per file.
//!
//! "Would be mailed" follows the rule's notice; for a rule that is mailed unless the
//! activity is mass (`domain::noise`), the spread is counted within the file: the same
//! signature from [`noise::MANY`] sources or against as many hosts counts as mass.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use domain::ingest::{CompactKey, internal_host};
use domain::noise::{self, Spread, Told};
use domain::report::ThreatEvent;
use domain::severity::{Notice, Rating, RuleSet, Severity};

use crate::eve::{self, Clock, HomeNet, Mapped};

pub struct Options {
    pub files: Vec<PathBuf>,
    pub rules: RuleSet,
    pub home: HomeNet,
}

const TIERS: [Severity; 4] = [
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Investigating,
];

/// Events of one tier: all of them, those a mail would carry, those only recorded.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    pub events: u64,
    pub mailed: u64,
    pub recorded: u64,
}

/// The triage of one file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileTriage {
    pub name: String,
    pub replay: Option<String>,
    pub lines: u64,
    pub threats: u64,
    pub usage: u64,
    pub tiers: BTreeMap<Severity, Tier>,
    /// (rule, tier, notice) → signature → events.
    pub fired: BTreeMap<(String, Severity, &'static str), BTreeMap<String, u64>>,
    pub skipped: eve::Skips,
}

impl FileTriage {
    pub fn tier(&self, s: Severity) -> Tier {
        self.tiers.get(&s).copied().unwrap_or_default()
    }
}

/// Reads and rates one file as of `now`.
pub fn file(
    path: &Path,
    rules: &RuleSet,
    home: &HomeNet,
    now: DateTime<Utc>,
) -> anyhow::Result<FileTriage> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut t = FileTriage {
        name: path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        ..FileTriage::default()
    };
    let timeline = match eve::plan(text.lines(), now) {
        Some(plan) => {
            t.replay = Some(plan.describe());
            plan.timeline
        }
        None => eve::Timeline::as_logged(),
    };
    let clock = Clock {
        now,
        timeline: &timeline,
        home,
    };
    let mut threats: Vec<(ThreatEvent, Rating)> = Vec::new();
    let mut copies = eve::Copies::default();
    for line in text.lines() {
        t.lines += 1;
        match eve::map_line(line, clock) {
            Mapped::Threat(mut e) => {
                e.event_id = copies.id(e.event_id);
                let rating = rules.rate(&e);
                threats.push((*e, rating));
            }
            Mapped::Usage(_) => t.usage += 1,
            Mapped::Skipped(why) => {
                t.skipped.add(&why, line);
            }
        }
    }
    let spread = spreads(&threats);
    t.threats = threats.len() as u64;
    for (e, r) in &threats {
        let tier = t.tiers.entry(r.severity).or_default();
        tier.events += 1;
        let told = match r.notice {
            Notice::Record => None,
            notice => Some(noise::tell(notice, spread[&CompactKey::of(e).sig_key])),
        };
        let notice = match told {
            None => {
                tier.recorded += 1;
                "record"
            }
            Some(Told::Mass) => {
                tier.recorded += 1;
                "mass"
            }
            Some(Told::Mailed) => {
                tier.mailed += 1;
                "mail"
            }
        };
        *t.fired
            .entry((r.rule.clone(), r.severity, notice))
            .or_default()
            .entry(e.threat.name.clone())
            .or_default() += 1;
    }
    Ok(t)
}

/// Distinct sources and customer hosts per signature, over the whole file.
fn spreads(threats: &[(ThreatEvent, Rating)]) -> HashMap<String, Spread> {
    let mut seen: HashMap<String, (BTreeSet<String>, BTreeSet<String>)> = HashMap::new();
    for (e, _) in threats {
        let entry = seen.entry(CompactKey::of(e).sig_key).or_default();
        if let Some(ip) = e.src.as_ref().and_then(|s| s.ip) {
            entry.0.insert(ip.to_string());
        }
        let host = internal_host(e);
        if !host.is_empty() {
            entry.1.insert(host);
        }
    }
    seen.into_iter()
        .map(|(k, (sources, hosts))| {
            (
                k,
                Spread {
                    sources: sources.len() as u32,
                    hosts: hosts.len() as u32,
                },
            )
        })
        .collect()
}

/// Triage of every file, printed.
pub fn run(opts: &Options) -> anyhow::Result<String> {
    let now = Utc::now();
    let mut out = String::new();
    let mut all = Vec::new();
    for path in &opts.files {
        let t = file(path, &opts.rules, &opts.home, now)?;
        write!(
            out,
            "{}",
            Report {
                t: &t,
                version: opts.rules.version
            }
        )?;
        all.push(t);
    }
    write!(out, "{}", Table(&all))?;
    Ok(out)
}

struct Report<'a> {
    t: &'a FileTriage,
    version: u32,
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.t;
        writeln!(f, "== {} (rules v{})", t.name, self.version)?;
        if let Some(replay) = &t.replay {
            writeln!(f, "{replay}")?;
        }
        let skipped = t.skipped.total();
        writeln!(
            f,
            "lines {} · threats {} · usage observations {} · skipped {skipped}",
            t.lines, t.threats, t.usage
        )?;
        writeln!(f, "  tier     events  mailed  recorded only")?;
        for s in TIERS {
            let tier = t.tier(s);
            writeln!(
                f,
                "  {:<6} {:>8} {:>7} {:>9}",
                s.stars(),
                tier.events,
                tier.mailed,
                tier.recorded
            )?;
        }
        if !t.fired.is_empty() {
            writeln!(f, "rules fired (events · rule · tier · notice: signatures)")?;
            for ((rule, severity, notice), names) in &t.fired {
                let n: u64 = names.values().sum();
                writeln!(f, "  {n:>6}  {rule} · {} · {notice}", severity.stars())?;
                let mut names: Vec<(&String, &u64)> = names.iter().collect();
                names.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                for (name, n) in names.iter().take(6) {
                    writeln!(f, "          {n:>5}  {name}")?;
                }
                if names.len() > 6 {
                    writeln!(f, "          …and {} more signatures", names.len() - 6)?;
                }
            }
        }
        if skipped > 0 {
            writeln!(f, "skipped")?;
            write!(f, "{}", t.skipped)?;
        }
        writeln!(f)
    }
}

/// The closing table: tiers per file, and the total.
struct Table<'a>(&'a [FileTriage]);

impl fmt::Display for Table<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "| file | threats | ★★★ | ★★☆ | ★☆☆ | 調査中 | mailed | recorded only | left out |"
        )?;
        writeln!(f, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")?;
        let mut total = FileTriage {
            name: "**total**".into(),
            ..FileTriage::default()
        };
        for t in self.0 {
            row(f, t)?;
            total.threats += t.threats;
            for s in TIERS {
                let (a, b) = (total.tiers.entry(s).or_default(), t.tier(s));
                a.events += b.events;
                a.mailed += b.mailed;
                a.recorded += b.recorded;
            }
            for (k, n) in &t.skipped.left_out {
                *total.skipped.left_out.entry(k.clone()).or_default() += n;
            }
        }
        row(f, &total)
    }
}

fn row(f: &mut fmt::Formatter<'_>, t: &FileTriage) -> fmt::Result {
    let short: String = t.name.chars().take(48).collect();
    let sum = |pick: fn(Tier) -> u64| TIERS.iter().map(|s| pick(t.tier(*s))).sum::<u64>();
    writeln!(
        f,
        "| {short} | {} | {} | {} | {} | {} | {} | {} | {} |",
        t.threats,
        t.tier(Severity::High).events,
        t.tier(Severity::Medium).events,
        t.tier(Severity::Low).events,
        t.tier(Severity::Investigating).events,
        sum(|t| t.mailed),
        sum(|t| t.recorded),
        t.skipped.left_out_total(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FileTriage {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/eve-sample.json");
        file(&path, &RuleSet::current(), &HomeNet::default(), Utc::now()).unwrap()
    }

    #[test]
    fn the_sample_is_rated_tier_by_tier_with_the_rules_that_fired() {
        let t = sample();
        assert_eq!(t.threats, 16);
        let sum: u64 = TIERS.iter().map(|s| t.tier(*s).events).sum();
        assert_eq!(sum, t.threats, "every threat has exactly one tier");
        for s in TIERS {
            let tier = t.tier(s);
            assert_eq!(tier.mailed + tier.recorded, tier.events);
        }
        let fired: u64 = t.fired.values().flat_map(|m| m.values()).sum();
        assert_eq!(fired, t.threats, "every threat has exactly one rule");
        assert_eq!(t.tier(Severity::Investigating).events, 0);
        assert!(t.tier(Severity::High).events >= 1, "{t:?}");
        assert!(t.skipped.reasons.contains_key("event_type flow ignored"));
        assert!(t.skipped.left_out.is_empty());
    }

    #[test]
    fn the_report_and_the_table_show_tiers_rules_and_skips() {
        let t = sample();
        let text = format!(
            "{}{}",
            Report { t: &t, version: 2 },
            Table(std::slice::from_ref(&t))
        );
        assert!(text.contains("== eve-sample.json (rules v2)"), "{text}");
        assert!(text.contains("replay: newest event"));
        assert!(text.contains("rules fired"));
        assert!(text.contains("skipped"));
        assert!(text.contains("| eve-sample.json | 16 |"), "{text}");
        assert!(text.contains("| **total** | 16 |"));
    }

    #[test]
    fn a_wave_from_many_sources_counts_as_mass_and_is_not_mailed() {
        let line = |i: u8| {
            format!(
                r#"{{"timestamp":"2026-11-25T09:59:3{i}.0+0900","event_type":"alert","src_ip":"198.51.100.{i}","src_port":40000,"dest_ip":"192.168.1.10","dest_port":22,"proto":"TCP","alert":{{"action":"allowed","signature_id":2001219,"signature":"ET SCAN Potential SSH Scan","category":"Attempted Information Leak","severity":2}}}}"#
            )
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eve.json");
        let wave: Vec<String> = (1..=3).map(line).collect();
        std::fs::write(&path, wave.join("\n")).unwrap();
        let t = file(&path, &RuleSet::current(), &HomeNet::default(), Utc::now()).unwrap();
        let low = t.tier(Severity::Low);
        assert_eq!((low.events, low.mailed, low.recorded), (3, 0, 3));
        assert!(
            t.fired
                .contains_key(&("scan-seen".to_owned(), Severity::Low, "mass"))
        );
        std::fs::write(&path, &wave[0]).unwrap();
        let single = file(&path, &RuleSet::current(), &HomeNet::default(), Utc::now()).unwrap();
        assert_eq!(single.tier(Severity::Low).mailed, 1);
    }
}
