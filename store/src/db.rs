//! One small interface to the database, whichever backend runs it: a [`Query`] is SQL
//! written with named parameters (`:device`, `:now`) and their values; a [`Db`] answers
//! it with rows decoded into a `serde` type, the number of rows changed, or — for a
//! batch — one transaction in which every statement runs or none does.
//!
//! Both backends number the names the same way (`named`), so a statement tested natively
//! is the statement D1 runs.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use crate::Error;

/// A value bound to a named parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(v.to_owned())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Arg {
        Arg::Text(v.clone())
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(v)
    }
}
impl From<u32> for Arg {
    fn from(v: u32) -> Arg {
        Arg::Int(i64::from(v))
    }
}
impl From<usize> for Arg {
    fn from(v: usize) -> Arg {
        Arg::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Arg {
        Arg::Int(i64::from(v))
    }
}
impl From<f64> for Arg {
    fn from(v: f64) -> Arg {
        Arg::Real(v)
    }
}
/// Times are stored as integer milliseconds since the epoch (UTC): the one representation,
/// converted here and read back by [`crate::time`].
impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Arg {
        Arg::Int(v.timestamp_millis())
    }
}
impl<T: Into<Arg>> From<Option<T>> for Arg {
    fn from(v: Option<T>) -> Arg {
        v.map_or(Arg::Null, Into::into)
    }
}
impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Arg {
        v.as_deref().map_or(Arg::Null, Arg::from)
    }
}

/// One statement and its named values.
#[derive(Debug, Clone)]
pub struct Query {
    sql: Cow<'static, str>,
    args: Vec<(&'static str, Arg)>,
}

impl Query {
    /// Only this crate writes statements (`scripts/layers` checks the rest of the repo
    /// holds none).
    pub(crate) fn new(sql: impl Into<Cow<'static, str>>) -> Query {
        Query {
            sql: sql.into(),
            args: Vec::new(),
        }
    }

    /// Binds `:name` to `value`.
    pub fn bind(mut self, name: &'static str, value: impl Into<Arg>) -> Query {
        self.args.push((name, value.into()));
        self
    }

    /// The SQL with each distinct name numbered `?1`, `?2`, … in order of first use (D1
    /// takes only numbered parameters and refuses gaps), and the values in that order.
    pub fn numbered(&self) -> Result<(String, Vec<Arg>), Error> {
        let mut out = String::with_capacity(self.sql.len());
        let mut used: Vec<&str> = Vec::new();
        let mut quoted = false;
        let mut chars = self.sql.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if c == '\'' {
                quoted = !quoted;
            }
            if c != ':' || quoted {
                out.push(c);
                continue;
            }
            let rest = &self.sql[at + 1..];
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..len];
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                out.push(':');
                continue;
            }
            let position = match used.iter().position(|u| *u == name) {
                Some(p) => p,
                None => {
                    used.push(name);
                    used.len() - 1
                }
            };
            out.push_str(&format!("?{}", position + 1));
            for _ in 0..len {
                chars.next();
            }
        }
        let values = used
            .iter()
            .map(|name| {
                self.args
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| Error::Bug(format!("no value for :{name}")))
            })
            .collect::<Result<Vec<Arg>, Error>>()?;
        Ok((out, values))
    }

    /// The SQL as written, for `EXPLAIN QUERY PLAN` checks and logs.
    pub fn sql(&self) -> &str {
        &self.sql
    }
}

/// The database of one store: D1 on wasm32, SQLite on the host.
#[derive(Clone)]
pub struct Db {
    pub(crate) conn: crate::backend::Conn,
}

impl Db {
    /// Every row of `q`, decoded.
    pub async fn all<T: serde::de::DeserializeOwned>(&self, q: Query) -> Result<Vec<T>, Error> {
        self.conn.all(&q).await
    }

    /// The first row of `q`, if any.
    pub async fn first<T: serde::de::DeserializeOwned>(
        &self,
        q: Query,
    ) -> Result<Option<T>, Error> {
        Ok(self.conn.all(&q).await?.into_iter().next())
    }

    /// Runs `q`; the number of rows it changed.
    pub async fn run(&self, q: Query) -> Result<usize, Error> {
        Ok(self
            .conn
            .batch(std::slice::from_ref(&q))
            .await?
            .first()
            .copied()
            .unwrap_or(0))
    }

    /// Runs every statement in one transaction; the rows each changed. On an error
    /// nothing of the batch is kept.
    pub async fn batch(&self, qs: Vec<Query>) -> Result<Vec<usize>, Error> {
        if qs.is_empty() {
            return Ok(Vec::new());
        }
        self.conn.batch(&qs).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_numbers_in_order_of_first_use() {
        let q = Query::new("SELECT :b, :a, :b, '12:30', :a_1")
            .bind("a", 1i64)
            .bind("b", "x")
            .bind("a_1", Arg::Null);
        let (sql, args) = q.numbered().expect("all bound");
        assert_eq!(sql, "SELECT ?1, ?2, ?1, '12:30', ?3");
        assert_eq!(args, vec![Arg::from("x"), Arg::Int(1), Arg::Null]);
    }

    #[test]
    fn a_missing_value_is_a_bug() {
        let err = Query::new("SELECT :nobody")
            .numbered()
            .expect_err("unbound");
        assert!(matches!(err, Error::Bug(m) if m.contains(":nobody")));
    }

    #[test]
    fn times_are_bound_as_milliseconds() {
        let t = DateTime::from_timestamp_millis(1_700_000_000_123).expect("in range");
        assert_eq!(Arg::from(t), Arg::Int(1_700_000_000_123));
        assert_eq!(Arg::from(None::<DateTime<Utc>>), Arg::Null);
    }
}
