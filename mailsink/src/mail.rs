//! A mail as the sink keeps it, and what a Resend-shaped `POST /emails` body must hold to
//! become one: `from`, `to` (one to fifty addresses, a string or an array) and `subject`;
//! optionally `text`, `html`, `cc`, `bcc`, `reply_to` and `headers`. Fields the sink does
//! not know (`tags`, `attachments`, …) are accepted and ignored, as the real API takes them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Resend's limit on `to`.
pub const MAX_RECIPIENTS: usize = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mail {
    pub id: String,
    pub received_at: DateTime<Utc>,
    pub idempotency_key: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub bcc: Vec<String>,
    #[serde(default)]
    pub reply_to: Vec<String>,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl Mail {
    pub fn received(
        submission: Submission,
        id: String,
        received_at: DateTime<Utc>,
        idempotency_key: Option<String>,
    ) -> Mail {
        let Submission {
            from,
            to,
            cc,
            bcc,
            reply_to,
            subject,
            text,
            html,
            headers,
        } = submission;
        Mail {
            id,
            received_at,
            idempotency_key,
            from,
            to,
            cc,
            bcc,
            reply_to,
            subject,
            text,
            html,
            headers,
        }
    }

    /// Whether `submission` asks for exactly this mail (what a retry sends).
    pub fn is_same_as(&self, submission: &Submission) -> bool {
        let Submission {
            from,
            to,
            cc,
            bcc,
            reply_to,
            subject,
            text,
            html,
            headers,
        } = submission;
        (&self.from, &self.to, &self.cc, &self.bcc, &self.reply_to) == (from, to, cc, bcc, reply_to)
            && (&self.subject, &self.text, &self.html, &self.headers)
                == (subject, text, html, headers)
    }

    /// Whether `address` (bare or `Name <addr>`) is among the `to` recipients, ignoring case.
    pub fn is_to(&self, address: &str) -> bool {
        let wanted = bare_address(address);
        self.to
            .iter()
            .any(|r| bare_address(r).eq_ignore_ascii_case(wanted))
    }
}

/// A valid `POST /emails` body.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    from: String,
    to: Vec<String>,
    cc: Vec<String>,
    bcc: Vec<String>,
    reply_to: Vec<String>,
    subject: String,
    text: Option<String>,
    html: Option<String>,
    headers: BTreeMap<String, String>,
}

/// Why a body is not a valid submission, in words for the sender's developer.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(String);

impl Invalid {
    pub fn new(message: String) -> Invalid {
        Invalid(message)
    }
}

impl Submission {
    pub fn parse(body: &[u8]) -> Result<Submission, Invalid> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| Invalid(format!("body is not valid JSON: {e}")))?;
        let Value::Object(fields) = value else {
            return Err(Invalid("body must be a JSON object".to_owned()));
        };
        let from = required_text(&fields, "from")?;
        if !is_address(&from) {
            return Err(invalid_address("from", &from));
        }
        let to =
            recipients(&fields, "to")?.ok_or_else(|| Invalid("missing `to` field".to_owned()))?;
        if to.is_empty() {
            return Err(Invalid("`to` needs at least one address".to_owned()));
        }
        if to.len() > MAX_RECIPIENTS {
            return Err(Invalid(format!(
                "`to` takes at most {MAX_RECIPIENTS} addresses, got {}",
                to.len()
            )));
        }
        Ok(Submission {
            from,
            to,
            cc: recipients(&fields, "cc")?.unwrap_or_default(),
            bcc: recipients(&fields, "bcc")?.unwrap_or_default(),
            reply_to: recipients(&fields, "reply_to")?.unwrap_or_default(),
            subject: required_text(&fields, "subject")?,
            text: optional_text(&fields, "text")?,
            html: optional_text(&fields, "html")?,
            headers: headers(&fields)?,
        })
    }
}

fn required_text(fields: &Map<String, Value>, name: &str) -> Result<String, Invalid> {
    match optional_text(fields, name)? {
        None => Err(Invalid(format!("missing `{name}` field"))),
        Some(s) if s.trim().is_empty() => Err(Invalid(format!("`{name}` must not be empty"))),
        Some(s) => Ok(s),
    }
}

fn optional_text(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, Invalid> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Invalid(format!("`{name}` must be a string"))),
    }
}

/// A string or an array of strings, each a mail address.
fn recipients(fields: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, Invalid> {
    let wrong_type = || Invalid(format!("`{name}` must be a string or an array of strings"));
    let addresses = match fields.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(wrong_type))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(wrong_type()),
    };
    match addresses.iter().find(|a| !is_address(a)) {
        Some(bad) => Err(invalid_address(name, bad)),
        None => Ok(Some(addresses)),
    }
}

fn headers(fields: &Map<String, Value>) -> Result<BTreeMap<String, String>, Invalid> {
    let wrong_type = || Invalid("`headers` must be an object of strings".to_owned());
    match fields.get("headers") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| Ok((k.clone(), v.as_str().ok_or_else(wrong_type)?.to_owned())))
            .collect(),
        Some(_) => Err(wrong_type()),
    }
}

fn invalid_address(field: &str, address: &str) -> Invalid {
    Invalid(format!(
        "invalid `{field}` address {address:?}: use `email@example.com` or `Name <email@example.com>`"
    ))
}

/// The address inside `Name <addr>`, or the whole string trimmed.
fn bare_address(s: &str) -> &str {
    let s = s.trim();
    match (s.rfind('<'), s.strip_suffix('>')) {
        (Some(open), Some(rest)) => rest[open + 1..].trim(),
        _ => s,
    }
}

/// Loose on purpose: catches a missing address or a name without one, not every RFC 5322
/// corner a real provider might refuse.
fn is_address(s: &str) -> bool {
    let address = bare_address(s);
    let clean = !address.contains(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | ','));
    match address.rsplit_once('@') {
        Some((local, domain)) => clean && !local.is_empty() && !domain.is_empty(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "from": "見守りサービス <noreply@mimamori.example>",
            "to": ["ops@example.com"],
            "subject": "【重要】脅威を検知しました",
            "text": "本文",
        })
    }

    #[track_caller]
    fn check(change: impl FnOnce(&mut Value), expected: Result<(), &str>) {
        let mut body = valid();
        change(&mut body);
        let got = Submission::parse(body.to_string().as_bytes())
            .map(drop)
            .map_err(|e| e.to_string());
        assert_eq!(got, expected.map_err(str::to_owned), "{body}");
    }

    #[test]
    fn a_complete_body_is_a_submission() {
        check(|_| {}, Ok(()));
    }

    #[test]
    fn to_may_be_a_single_string_or_name_and_address() {
        check(|b| b["to"] = json!("ops@example.com"), Ok(()));
        check(|b| b["to"] = json!(["運用担当 <ops@example.com>"]), Ok(()));
    }

    #[test]
    fn optional_fields_are_taken_and_unknown_ones_ignored() {
        check(
            |b| {
                b["cc"] = json!("a@example.com");
                b["reply_to"] = json!(["b@example.com"]);
                b["headers"] = json!({"X-Entity-Ref-ID": "n1"});
                b["html"] = Value::Null;
                b["tags"] = json!([{"name": "kind", "value": "alert"}]);
            },
            Ok(()),
        );
    }

    #[test]
    fn a_body_without_from_to_or_subject_is_invalid() {
        for field in ["from", "to", "subject"] {
            let message = format!("missing `{field}` field");
            check(
                |b| drop(b.as_object_mut().unwrap().remove(field)),
                Err(&message),
            );
        }
        check(
            |b| b["subject"] = json!(" "),
            Err("`subject` must not be empty"),
        );
        check(
            |b| b["subject"] = json!(1),
            Err("`subject` must be a string"),
        );
    }

    #[test]
    fn to_needs_one_to_fifty_addresses() {
        check(
            |b| b["to"] = json!([]),
            Err("`to` needs at least one address"),
        );
        let fifty: Vec<String> = (0..50).map(|i| format!("u{i}@example.com")).collect();
        check(|b| b["to"] = json!(fifty), Ok(()));
        let fifty_one: Vec<String> = (0..51).map(|i| format!("u{i}@example.com")).collect();
        check(
            |b| b["to"] = json!(fifty_one),
            Err("`to` takes at most 50 addresses, got 51"),
        );
    }

    #[test]
    fn addresses_need_an_at_sign_and_no_spaces() {
        let hint = "use `email@example.com` or `Name <email@example.com>`";
        check(
            |b| b["to"] = json!(["ops"]),
            Err(&format!("invalid `to` address \"ops\": {hint}")),
        );
        check(
            |b| b["cc"] = json!("a b@example.com"),
            Err(&format!("invalid `cc` address \"a b@example.com\": {hint}")),
        );
        check(
            |b| b["from"] = json!("見守りサービス"),
            Err(&format!(
                "invalid `from` address \"見守りサービス\": {hint}"
            )),
        );
        check(
            |b| b["to"] = json!([1]),
            Err("`to` must be a string or an array of strings"),
        );
    }

    #[test]
    fn a_body_that_is_not_a_json_object_is_invalid() {
        assert_eq!(
            Submission::parse(b"[]").unwrap_err().to_string(),
            "body must be a JSON object"
        );
        assert!(
            Submission::parse(b"{")
                .unwrap_err()
                .to_string()
                .starts_with("body is not valid JSON: ")
        );
    }

    #[test]
    fn a_retry_is_the_same_mail_and_a_changed_body_is_not() {
        let submission = Submission::parse(valid().to_string().as_bytes()).unwrap();
        let mail = Mail::received(submission.clone(), "id".into(), Utc::now(), None);
        assert!(mail.is_same_as(&submission));
        let mut changed = valid();
        changed["text"] = json!("別の本文");
        assert!(!mail.is_same_as(&Submission::parse(changed.to_string().as_bytes()).unwrap()));
    }

    #[test]
    fn the_to_filter_matches_bare_addresses_ignoring_case_and_names() {
        let mut body = valid();
        body["to"] = json!(["運用担当 <Ops@Example.com>", "x@example.com"]);
        let submission = Submission::parse(body.to_string().as_bytes()).unwrap();
        let mail = Mail::received(submission, "id".into(), Utc::now(), None);
        assert!(mail.is_to("ops@example.com"));
        assert!(mail.is_to("Someone <x@example.com>"));
        assert!(!mail.is_to("example.com"));
    }
}
