//! Small helpers around D1: named parameters, and reading what a batch did.

use chrono::{DateTime, Utc};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

/// Rows changed by one statement of a batch; 0 when D1 did not say.
pub fn changes(result: Option<&D1Result>) -> usize {
    result
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0)
}

/// Prepares `sql` written with named parameters (`:device`, `:now`) for D1, which takes
/// only numbered ones and refuses a statement whose numbers have gaps: each distinct name
/// becomes `?1`, `?2`, … in order of first use, bound to its value from `args`.
pub fn named(
    db: &D1Database,
    sql: &str,
    args: &[(&str, &JsValue)],
) -> worker::Result<D1PreparedStatement> {
    let mut out = String::with_capacity(sql.len());
    let mut used: Vec<&str> = Vec::new();
    let mut rest = sql;
    while let Some(at) = rest.find(':') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..len];
        if name.is_empty() {
            out.push(':');
        } else {
            let position = match used.iter().position(|u| *u == name) {
                Some(p) => p,
                None => {
                    used.push(name);
                    used.len() - 1
                }
            };
            out.push_str(&format!("?{}", position + 1));
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    let values = used
        .iter()
        .map(|name| {
            args.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| (*v).clone())
                .ok_or_else(|| worker::Error::RustError(format!("no value for :{name}")))
        })
        .collect::<worker::Result<Vec<JsValue>>>()?;
    db.prepare(out).bind(&values)
}

/// A time as D1 stores it: integer milliseconds since the epoch (UTC).
pub fn ms(t: DateTime<Utc>) -> JsValue {
    JsValue::from(t.timestamp_millis() as f64)
}

/// A stored millisecond time read back; `None` when out of range.
pub fn time(ms: f64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms as i64)
}
