//! Times in the database: integer milliseconds since the epoch, UTC, in every table. They
//! are bound through `Arg::from(DateTime<Utc>)` and read back here; nothing else converts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

/// A stored time; `None` when out of range.
pub fn from_ms(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// Reads a `NOT NULL` time column into `DateTime<Utc>` (`#[serde(with = "store::time::ms")]`).
pub mod ms {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let ms = f64::deserialize(d)?;
        from_ms(ms as i64).ok_or_else(|| serde::de::Error::custom("time out of range"))
    }
}

/// Reads a nullable time column (`#[serde(with = "store::time::ms_opt", default)]`).
pub mod ms_opt {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<f64>::deserialize(d)? {
            None => Ok(None),
            Some(ms) => from_ms(ms as i64)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("time out of range")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Row {
        #[serde(with = "ms")]
        at: DateTime<Utc>,
        #[serde(with = "ms_opt", default)]
        until: Option<DateTime<Utc>>,
    }

    #[test]
    fn stored_milliseconds_read_back_as_times() {
        let row: Row =
            serde_json::from_str(r#"{"at": 1700000000123, "until": null}"#).expect("decodes");
        assert_eq!(row.at.timestamp_millis(), 1_700_000_000_123);
        assert_eq!(row.until, None);
        let row: Row = serde_json::from_str(r#"{"at": 1.0, "until": 2}"#).expect("decodes");
        assert_eq!(row.until.map(|t| t.timestamp_millis()), Some(2));
    }
}
