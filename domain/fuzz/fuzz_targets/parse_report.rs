//! Arbitrary bytes as a device report body. `parse_report` must never panic, and whatever
//! it accepts must hold api-v1's promises: at most `MAX_EVENTS` events, a serialised report
//! that parses back to the same report, and storage rows that account for every event.

#![no_main]

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use domain::ingest::{Rows, THREAT_COLUMNS, USAGE_COLUMNS};
use domain::report::{MAX_EVENTS, parse_report};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The server's clock, fixed: the seeds and the dictionary carry times near it, so the
/// fuzzer can reach past the 7-day / 5-minute window checks.
static NOW: LazyLock<DateTime<Utc>> = LazyLock::new(|| {
    DateTime::parse_from_rfc3339("2026-11-25T10:00:00+09:00")
        .expect("a valid RFC 3339 time")
        .with_timezone(&Utc)
});

/// A `Rows` field as the JSON array of rows D1 receives.
fn rows(field: &str, json: &str) -> Vec<Value> {
    match serde_json::from_str(json) {
        Ok(Value::Array(rows)) => rows,
        other => panic!("Rows::{field} is not a JSON array: {other:?}\n{json}"),
    }
}

fuzz_target!(|body: &[u8]| {
    let now = *NOW;
    let Ok(report) = parse_report(body, now) else {
        return;
    };

    assert!(
        report.events.len() <= MAX_EVENTS,
        "{} events accepted",
        report.events.len()
    );

    let json = serde_json::to_string(&report).expect("an accepted report serialises");
    let again = parse_report(json.as_bytes(), now);
    assert_eq!(
        again.as_ref(),
        Ok(&report),
        "an accepted report does not survive a round trip through its own JSON:\n{json}"
    );

    let r = Rows::of(&report);
    let ids = rows("event_ids", &r.event_ids);
    let threats = rows("threats", &r.threats);
    let usage = rows("usage", &r.usage);
    assert!(
        ids.iter().all(Value::is_string),
        "event ids: {}",
        r.event_ids
    );
    for (table, rows, width) in [
        ("threats", &threats, THREAT_COLUMNS.len()),
        ("usage", &usage, USAGE_COLUMNS.len()),
    ] {
        for row in rows {
            assert!(
                row.as_array().is_some_and(|cells| cells.len() == width),
                "a {table} row is not an array of {width} cells: {row}"
            );
        }
    }
    assert_eq!(
        ids.len(),
        threats.len() + usage.len(),
        "one id per stored row"
    );
    assert_eq!(
        threats.len() + usage.len() + r.repeated_in_report,
        report.events.len(),
        "every event is stored once or counted as repeated"
    );
});
