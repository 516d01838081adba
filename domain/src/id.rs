//! The one alphabet of api-v1 ids: what a device or an operator may send as an id, and
//! what mimamori generates for its own.

use std::fmt;

use serde::Serialize;

/// An api-v1 id (`report_id`, `event_id`, reseller and customer ids): 1–64 characters of
/// `[A-Za-z0-9._:-]`, case-sensitive.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Id(String);

impl Id {
    pub fn parse(s: &str) -> Result<Id, &'static str> {
        if s.is_empty() || s.len() > 64 {
            return Err("must be 1-64 characters");
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
        {
            return Err("may contain only A-Z, a-z, 0-9 and . _ : -");
        }
        Ok(Id(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
