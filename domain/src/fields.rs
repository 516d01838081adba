//! Reading JSON request bodies field by field, so that every refusal names the first field
//! at fault as a JSONPath (`$.events[3].threat.name`) and says what the rule is. `null`
//! counts as absent for optional fields; fields nobody asks for are ignored.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

/// Why a request body was refused: api-v1's 400 `invalid_json` or `invalid_field`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the body is not valid JSON")]
    InvalidJson,
    #[error(transparent)]
    InvalidField(#[from] FieldError),
}

/// The body as JSON, or `InvalidJson`.
pub(crate) fn json_body(body: &[u8]) -> Result<Value, BodyError> {
    serde_json::from_slice(body).map_err(|_| BodyError::InvalidJson)
}

/// One field breaks a rule: api-v1's 400 `invalid_field` with `path`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

/// The characters that reorder text around them (Unicode's bidirectional marks, embeddings,
/// overrides and isolates).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A JSON object and where it sits in the document, for error paths.
pub(crate) struct Obj<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Obj<'a> {
    pub(crate) fn root(value: &'a Value) -> Result<Obj<'a>, FieldError> {
        Obj::new("$", value)
    }

    pub(crate) fn new(path: &str, value: &'a Value) -> Result<Obj<'a>, FieldError> {
        match value {
            Value::Object(map) => Ok(Obj {
                path: path.to_owned(),
                map,
            }),
            _ => Err(FieldError {
                path: path.to_owned(),
                message: "must be an object".to_owned(),
            }),
        }
    }

    pub(crate) fn path_to(&self, key: &str) -> String {
        if key.starts_with('[') {
            format!("{}{key}", self.path)
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub(crate) fn invalid(&self, key: &str, message: &str) -> FieldError {
        FieldError {
            path: self.path_to(key),
            message: message.to_owned(),
        }
    }

    /// The value at `key`, with `null` read as absent.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn str(&self, key: &str) -> Result<&'a str, FieldError> {
        match self.get(key) {
            None => Err(self.invalid(key, "is required")),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(self.invalid(key, "must be a string")),
        }
    }

    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(_) => self.str(key).map(Some),
        }
    }

    pub(crate) fn text(&self, key: &str, max_chars: usize) -> Result<String, FieldError> {
        let s = self.str(key)?;
        let chars = s.chars().count();
        if chars == 0 || chars > max_chars {
            return Err(self.invalid(key, &format!("must be 1-{max_chars} characters")));
        }
        if s.chars().any(char::is_control) {
            return Err(self.invalid(key, "must not contain control characters"));
        }
        Ok(s.to_owned())
    }

    /// Text a person typed for others to read (a company, appliance or token name): as
    /// `text`, and without bidirectional formatting characters, which make a name in a
    /// mail or the console read differently from what it is.
    pub(crate) fn label(&self, key: &str, max_chars: usize) -> Result<String, FieldError> {
        let s = self.text(key, max_chars)?;
        if s.chars().any(is_bidi_control) {
            return Err(self.invalid(key, "must not contain bidirectional formatting characters"));
        }
        Ok(s)
    }

    /// `read` the field when it is there; `None` when it is absent or null.
    fn optional<T>(
        &self,
        key: &str,
        read: impl FnOnce() -> Result<T, FieldError>,
    ) -> Result<Option<T>, FieldError> {
        self.get(key).map(|_| read()).transpose()
    }

    pub(crate) fn opt_label(&self, key: &str, max: usize) -> Result<Option<String>, FieldError> {
        self.optional(key, || self.label(key, max))
    }

    pub(crate) fn opt_text(&self, key: &str, max: usize) -> Result<Option<String>, FieldError> {
        self.optional(key, || self.text(key, max))
    }

    /// A string that `parse` turns into a domain type, or refuses with a message.
    pub(crate) fn parsed<T>(
        &self,
        key: &str,
        parse: fn(&str) -> Result<T, &'static str>,
    ) -> Result<T, FieldError> {
        parse(self.str(key)?).map_err(|m| self.invalid(key, m))
    }

    pub(crate) fn wire<T>(
        &self,
        key: &str,
        parse: fn(&str) -> Option<T>,
        expected: fn() -> String,
    ) -> Result<T, FieldError> {
        parse(self.str(key)?).ok_or_else(|| self.invalid(key, &expected()))
    }

    pub(crate) fn uint(&self, key: &str, max: u64) -> Result<u64, FieldError> {
        match self.get(key) {
            None => Err(self.invalid(key, "is required")),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v <= max => Ok(v),
                _ => Err(self.invalid(key, &format!("must be a whole number from 0 to {max}"))),
            },
            Some(_) => Err(self.invalid(key, "must be a number")),
        }
    }

    pub(crate) fn opt_uint(&self, key: &str, max: u64) -> Result<Option<u64>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(_) => self.uint(key, max).map(Some),
        }
    }

    /// An RFC 3339 time with an offset.
    /// An RFC 3339 time, in UTC. Years 1–9999 only (in UTC too), so that every accepted
    /// time can be written back as RFC 3339: `0000-01-01T00:00:00+09:00` is year -1 in UTC.
    pub(crate) fn time(&self, key: &str) -> Result<DateTime<Utc>, FieldError> {
        let t = DateTime::parse_from_rfc3339(self.str(key)?)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| self.invalid(key, "must be an RFC 3339 time with an offset"))?;
        if !(1..=9999).contains(&chrono::Datelike::year(&t)) {
            return Err(self.invalid(key, "must lie in the years 1-9999"));
        }
        Ok(t)
    }

    pub(crate) fn obj(&self, key: &str) -> Result<Obj<'a>, FieldError> {
        match self.get(key) {
            None => Err(self.invalid(key, "is required")),
            Some(v) => Obj::new(&self.path_to(key), v),
        }
    }

    pub(crate) fn opt_obj(&self, key: &str) -> Result<Option<Obj<'a>>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(_) => self.obj(key).map(Some),
        }
    }

    pub(crate) fn array(&self, key: &str) -> Result<&'a [Value], FieldError> {
        match self.get(key) {
            None => Err(self.invalid(key, "is required")),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(self.invalid(key, "must be an array")),
        }
    }

    /// A calendar date `YYYY-MM-DD`.
    pub(crate) fn date(&self, key: &str) -> Result<NaiveDate, FieldError> {
        NaiveDate::parse_from_str(self.str(key)?, "%Y-%m-%d")
            .map_err(|_| self.invalid(key, "must be a date YYYY-MM-DD"))
    }

    pub(crate) fn opt_date(&self, key: &str) -> Result<Option<NaiveDate>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(_) => self.date(key).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(v: serde_json::Value) -> Result<String, FieldError> {
        let body = serde_json::json!({ "name": v });
        Obj::root(&body)?.label("name", 10)
    }

    #[test]
    fn a_label_refuses_control_and_bidi_characters_and_wrong_lengths() {
        assert_eq!(label("本社UTM".into()), Ok("本社UTM".into()));
        for bad in [
            "",
            "あいうえおかきくけこさ",
            "a\u{0}b",
            "a\u{7}b",
            "a\nb",
            "abc\u{202E}gpj.exe",
            "a\u{2066}b",
            "a\u{200F}",
        ] {
            let e = label(bad.into()).expect_err(bad);
            assert_eq!(e.path, "$.name", "{bad:?}");
        }
        for wrong in [
            serde_json::json!(12345),
            serde_json::json!(true),
            serde_json::json!([]),
            serde_json::json!({}),
        ] {
            assert_eq!(
                label(wrong.clone()).expect_err("wrong type").message,
                "must be a string"
            );
        }
        assert_eq!(
            label(serde_json::Value::Null).expect_err("null").message,
            "is required"
        );
    }
}
