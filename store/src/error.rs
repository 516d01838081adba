//! What can go wrong in the store, told apart by who must act: `Unavailable` is the
//! database failing or refusing (retry later: a 503), `Bug` is our own mistake — a
//! statement that does not parse, names a column that is not there, lacks a value, or
//! returns rows its type cannot read (fix the code: a 500).

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The database is down, overloaded, not migrated, or refused the write (a
    /// constraint or trigger): nothing of the statement or batch was kept.
    Unavailable(String),
    /// The code asked for something the schema cannot answer.
    Bug(String),
}

impl Error {
    /// Classifies a database's error message: parse errors, unknown columns and wrong
    /// parameter counts are ours; anything else is the database's state.
    pub fn from_message(message: String) -> Error {
        const OURS: [&str; 5] = [
            "syntax error",
            "no such column",
            "no such function",
            "SQLITE_RANGE",
            "D1_TYPE_ERROR",
        ];
        if OURS.iter().any(|m| message.contains(m)) {
            Error::Bug(message)
        } else {
            Error::Unavailable(message)
        }
    }

    /// A row that did not decode into its type.
    pub fn decode(e: impl fmt::Display) -> Error {
        Error::Bug(format!("decoding a row: {e}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unavailable(m) => write!(f, "storage unavailable: {m}"),
            Error::Bug(m) => write!(f, "storage bug: {m}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_mistakes_are_bugs_and_the_rest_is_unavailable() {
        let cases = [
            ("D1_ERROR: near \"SELEC\": syntax error: SQLITE_ERROR", true),
            ("no such column: x", true),
            ("D1_TYPE_ERROR: Type 'object' not supported", true),
            ("D1_ERROR: no such table: accounts: SQLITE_ERROR", false),
            ("D1_ERROR: injected failure: SQLITE_CONSTRAINT", false),
            ("Network connection lost.", false),
        ];
        for (message, bug) in cases {
            let e = Error::from_message(message.to_owned());
            assert_eq!(matches!(e, Error::Bug(_)), bug, "{message}");
        }
    }
}
