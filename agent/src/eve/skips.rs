//! What reading a file left out, and why: each reason counted, and every line that would
//! have been a threat but was left out for its time named by event type and signature, so
//! nothing is dropped silently. The forwarder's summary and `triage` print the same table.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use super::mapping::{Skip, is_threat_type};

/// What reading a file skipped: each reason counted, and every line that would have been
/// a threat but was left out for its time, by event type and name: never dropped silently.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Skips {
    pub reasons: BTreeMap<String, u64>,
    pub left_out: BTreeMap<String, u64>,
}

impl Skips {
    pub fn add(&mut self, why: &Skip, line: &str) {
        if let Some(what) = why.for_its_time().then(|| threat_named(line)).flatten() {
            *self.left_out.entry(what).or_default() += 1;
        }
        *self.reasons.entry(why.to_string()).or_default() += 1;
    }

    pub fn total(&self) -> u64 {
        self.reasons.values().sum()
    }

    pub fn left_out_total(&self) -> u64 {
        self.left_out.values().sum()
    }
}

/// The reasons, one a line, then the threats left out.
impl fmt::Display for Skips {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (why, n) in &self.reasons {
            writeln!(f, "  {n:>6}  {why}")?;
        }
        if !self.left_out.is_empty() {
            writeln!(
                f,
                "threats left out for their time: {}",
                self.left_out_total()
            )?;
            for (what, n) in &self.left_out {
                writeln!(f, "  {n:>6}  {what}")?;
            }
        }
        Ok(())
    }
}

/// `alert: ET MALWARE …` for a line that maps to a threat: what the summary names when it
/// leaves one out.
pub fn threat_named(line: &str) -> Option<String> {
    let v: Value = serde_json::from_str(line).ok()?;
    let event_type = v.get("event_type")?.as_str()?;
    if !is_threat_type(event_type) {
        return None;
    }
    let name = match event_type {
        "alert" => v.pointer("/alert/signature")?.as_str()?.to_owned(),
        "anomaly" => v.pointer("/anomaly/event")?.as_str()?.to_owned(),
        _ => v.pointer("/fileinfo/filename")?.as_str()?.to_owned(),
    };
    Some(format!("{event_type}: {name}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::eve::tests::{alert_line, fileinfo_line};

    #[test]
    fn a_threat_left_out_for_its_time_is_named() {
        let v = alert_line(json!({}));
        assert_eq!(
            threat_named(&v.to_string()).as_deref(),
            Some("alert: ET MALWARE Win32/Emotet CnC Beacon")
        );
        let file = fileinfo_line("a.exe", false);
        assert_eq!(
            threat_named(&file.to_string()).as_deref(),
            Some("fileinfo: /d/a.exe")
        );
        assert_eq!(threat_named(r#"{"event_type":"flow"}"#), None);
        assert!(Skip::TooOld.for_its_time() && !Skip::NotJson.for_its_time());
        let mut skips = Skips::default();
        skips.add(&Skip::TooOld, &v.to_string());
        skips.add(&Skip::Ignored("flow".into()), r#"{"event_type":"flow"}"#);
        assert_eq!((skips.total(), skips.left_out_total()), (2, 1));
        assert!(
            skips
                .to_string()
                .contains("threats left out for their time: 1")
        );
    }
}
