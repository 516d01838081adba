//! An operator's investigation result for an incident (seed §4.3: alerts marked
//! ※調査中※ get a report mail when the investigation is done; §4.5: a result that makes it
//! ★★★ is recorded as a severity change, with who, when and why, and mailed).
//!
//! Body of `POST /api/v1/admin/incidents/{id}/investigation`:
//! `{"finding": "…", "severity": "high" | "medium" | "low" | null, "by": "…"}`.

use crate::fields::{BodyError, Obj, is_bidi_control, json_body};
use crate::severity::Severity;

/// The longest finding, in characters.
pub const MAX_FINDING: usize = 3000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// What the investigation found, for the customer (line breaks kept).
    pub finding: String,
    /// The tier the incident gets; `None` leaves it as it is.
    pub severity: Option<Severity>,
    /// Who investigated (operator staff), for the record.
    pub by: String,
}

pub fn parse_review(body: &[u8]) -> Result<Review, BodyError> {
    let value = json_body(body)?;
    let obj = Obj::new("$", &value)?;
    let finding = obj.str("finding")?.trim();
    if finding.is_empty() || finding.chars().count() > MAX_FINDING {
        return Err(obj.invalid("finding", "must be 1-3000 characters").into());
    }
    if finding
        .chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c))
    {
        return Err(obj
            .invalid(
                "finding",
                "must not contain control or bidirectional formatting characters other than line breaks",
            )
            .into());
    }
    let severity = match obj.opt_str("severity")? {
        None => None,
        Some("high") => Some(Severity::High),
        Some("medium") => Some(Severity::Medium),
        Some("low") => Some(Severity::Low),
        Some(_) => {
            return Err(obj
                .invalid("severity", "must be one of high, medium, low, or null")
                .into());
        }
    };
    Ok(Review {
        finding: finding.replace("\r\n", "\n"),
        severity,
        by: obj.label("by", 100)?,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: serde_json::Value) -> Result<Review, BodyError> {
        parse_review(v.to_string().as_bytes())
    }

    #[track_caller]
    fn check_rejected(v: serde_json::Value, path: &str) {
        match parse(v) {
            Err(BodyError::InvalidField(f)) => assert_eq!(f.path, path),
            other => panic!("expected invalid_field at {path}, got {other:?}"),
        }
    }

    #[test]
    fn a_finding_with_an_upgrade_to_three_stars_is_read() {
        let r = parse(json!({"finding": "フルスキャンで\nEmotet を検出", "severity": "high", "by": "運用 山田"})).unwrap();
        assert_eq!(r.severity, Some(Severity::High));
        assert_eq!(r.finding, "フルスキャンで\nEmotet を検出");
    }

    #[test]
    fn a_finding_without_a_new_tier_keeps_the_incident_as_it_is() {
        let r = parse(json!({"finding": "誤検知でした", "by": "運用 山田"})).unwrap();
        assert_eq!(r.severity, None);
        assert_eq!(
            parse(json!({"finding": "x", "severity": null, "by": "y"}))
                .unwrap()
                .severity,
            None
        );
    }

    #[test]
    fn empty_or_odd_fields_are_refused_with_their_path() {
        check_rejected(json!({"finding": "  ", "by": "y"}), "$.finding");
        check_rejected(json!({"finding": "a\u{7}b", "by": "y"}), "$.finding");
        check_rejected(json!({"finding": "x".repeat(3001), "by": "y"}), "$.finding");
        check_rejected(
            json!({"finding": "x", "severity": "investigating", "by": "y"}),
            "$.severity",
        );
        check_rejected(json!({"finding": "x"}), "$.by");
    }
}
