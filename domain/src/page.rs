//! Keyset pages: a list ordered by (time, id), both descending, continues after the
//! [`Cursor`] of the previous page's last row — so a deep page costs what the first one
//! does, and a row is neither skipped nor shown twice while new rows arrive. In a URL a
//! cursor is `{ms since the epoch}.{id}` (`?after=1764583140000.42`); anything else is
//! refused rather than guessed at.

use chrono::{DateTime, Utc};

/// The (time, id) of the last row of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    at: DateTime<Utc>,
    id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a page cursor")]
pub struct CursorError;

impl Cursor {
    pub fn new(at: DateTime<Utc>, id: i64) -> Cursor {
        Cursor { at, id }
    }

    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    pub fn id(&self) -> i64 {
        self.id
    }

    /// The URL form, `{ms}.{id}`.
    pub fn to_param(&self) -> String {
        format!("{}.{}", self.at.timestamp_millis(), self.id)
    }

    /// A cursor from its URL form: two runs of at most 19 ASCII digits around a dot.
    pub fn parse(s: &str) -> Result<Cursor, CursorError> {
        let (ms, id) = s.split_once('.').ok_or(CursorError)?;
        let number = |x: &str| {
            let digits = !x.is_empty() && x.len() <= 19 && x.bytes().all(|b| b.is_ascii_digit());
            digits
                .then(|| x.parse::<i64>().ok())
                .flatten()
                .ok_or(CursorError)
        };
        let at = DateTime::from_timestamp_millis(number(ms)?).ok_or(CursorError)?;
        Ok(Cursor {
            at,
            id: number(id)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(s: &str, expected: Result<(i64, i64), CursorError>) {
        assert_eq!(
            Cursor::parse(s).map(|c| (c.at().timestamp_millis(), c.id())),
            expected
        );
    }

    #[test]
    fn a_cursor_reads_back_from_its_url_form() {
        check("1764583140000.42", Ok((1_764_583_140_000, 42)));
        let c = Cursor::parse("1764583140000.42").unwrap();
        assert_eq!(Cursor::parse(&c.to_param()), Ok(c));
        assert_eq!(c.to_param(), "1764583140000.42");
    }

    #[test]
    fn anything_but_two_digit_runs_around_a_dot_is_refused() {
        for bad in [
            "",
            ".",
            "1.",
            ".1",
            "1764583140000",
            "-1.2",
            "1.-2",
            "+1.2",
            "a.b",
            "1.2.3",
            " 1.2",
            "99999999999999999999.1",
            "9223372036854775807.1",
        ] {
            check(bad, Err(CursorError));
        }
    }
}
