//! How the forwarder mapped each family of Suricata signatures (`ET MALWARE`, `ET SCAN`,
//! `GPL CHAT`, `SURICATA` decoder events, a site's own rules, anomaly and fileinfo
//! records) onto api-v1: the function, categories, vendor severities, actions and
//! directions it gave them, counted, so whoever forwards a log can see what the cloud was
//! told.

use std::collections::BTreeMap;
use std::fmt;

use domain::report::{Function, ThreatEvent};

/// The family of a threat as the forwarder made it.
pub fn family(t: &ThreatEvent) -> String {
    if t.function == Function::Other {
        return "fileinfo records".to_owned();
    }
    if t.threat.category.as_deref() == Some("anomaly") {
        return "anomaly records".to_owned();
    }
    let mut words = t.threat.name.split_whitespace();
    match words.next() {
        Some(w @ ("ET" | "GPL" | "ETPRO")) => match words.next() {
            Some(second) => format!("{w} {second}"),
            None => w.to_owned(),
        },
        Some("SURICATA") => "SURICATA".to_owned(),
        _ => "other rules".to_owned(),
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Tally {
    events: u64,
    function: BTreeMap<&'static str, u64>,
    category: BTreeMap<String, u64>,
    vendor: BTreeMap<&'static str, u64>,
    action: BTreeMap<&'static str, u64>,
    direction: BTreeMap<&'static str, u64>,
}

/// The mapping of every family seen, counted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Families(BTreeMap<String, Tally>);

impl Families {
    pub fn add(&mut self, t: &ThreatEvent) {
        let tally = self.0.entry(family(t)).or_default();
        tally.events += 1;
        *tally.function.entry(t.function.as_str()).or_default() += 1;
        let category = t.threat.category.clone().unwrap_or_else(|| "(none)".into());
        *tally.category.entry(category).or_default() += 1;
        *tally
            .vendor
            .entry(t.threat.vendor_severity.as_str())
            .or_default() += 1;
        *tally.action.entry(t.action.as_str()).or_default() += 1;
        *tally.direction.entry(t.direction.as_str()).or_default() += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn counts<K: fmt::Display>(m: &BTreeMap<K, u64>) -> String {
    let mut v: Vec<(&K, &u64)> = m.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1));
    v.iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Families {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "how each family was mapped (function · category · vendor severity · action · direction):"
        )?;
        for (name, t) in &self.0 {
            writeln!(f, "  {name:<18} {:>6}", t.events)?;
            writeln!(
                f,
                "      {} · {} · {} · {} · {}",
                counts(&t.function),
                counts(&t.category),
                counts(&t.vendor),
                counts(&t.action),
                counts(&t.direction)
            )?;
        }
        Ok(())
    }
}
