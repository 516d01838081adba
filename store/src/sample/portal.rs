//! A portal data set of several customers, sent through the real ingest batch: the reads
//! of the dashboard, the problems and the alert list are tested against it.
//!
//! As of [`NOW`] (2026-12-01 19:00 in Tokyo):
//! - `c-a1` 本社 (`d0000000a001`, reported at NOW): on 11-30 two ★★★ beacons from
//!   192.168.1.23 and a ★☆☆ scan; on 12-01 another beacon (a new incident: the first went
//!   quiet), scans of two ports, a ★★☆ stopped download on 192.168.1.40 and a 調査中 event
//!   from 192.168.1.41. 支店 (`d0000000a011`, last report an hour ago, so オフライン): one scan.
//! - `c-a2`: one beacon from 10.0.0.5. `c-b1`: one stopped download.

use chrono::{DateTime, TimeDelta, Utc};
use domain::access::Scope;
use serde_json::{Value, json};

use crate::sample::{at, beacon, reporter, scan, send};
use crate::testing::{Fixture, block_on, fixture};
use crate::{Access, Tenant};

pub(crate) const NOW: &str = "2026-12-01T10:00:00Z";
pub(crate) const THRESHOLD: TimeDelta = TimeDelta::minutes(5);

pub(crate) fn now() -> DateTime<Utc> {
    at(NOW)
}

/// A malware download the antivirus stopped (★★☆) at `host`.
pub(crate) fn stopped(id: &str, at: &str, host: &str) -> Value {
    json!({
        "type": "threat", "event_id": id, "occurred_at": at, "function": "antivirus",
        "action": "blocked", "direction": "outbound",
        "threat": {"name": "Trojan.GenericKD", "category": "malware", "vendor_severity": "high"},
        "src": {"ip": host, "mac": "00:11:22:33:44:55", "port": 50000},
        "dst": {"ip": "203.0.113.50", "port": 80},
        "url": "http://bad.example/x.exe", "file": {"name": "x.exe"},
    })
}

/// Traffic no rule decides (調査中) from `host`.
pub(crate) fn undecided(id: &str, at: &str, host: &str) -> Value {
    json!({
        "type": "threat", "event_id": id, "occurred_at": at, "function": "other",
        "action": "detected", "direction": "outbound",
        "threat": {"name": "Odd outbound traffic", "vendor_severity": "high"},
        "src": {"ip": host}, "dst": {"ip": "203.0.113.77", "port": 8443},
    })
}

/// The fixture with the data set of the module doc stored.
pub(crate) fn portal() -> Fixture {
    let f = fixture();
    f.db.execute_script(
        "INSERT INTO devices (id, customer_id, name, created_at) VALUES ('d0000000a011', 'c-a1', '支店', 0);",
    )
    .expect("a second appliance");
    let honsha = reporter(&f, "d0000000a001");
    let shiten = reporter(&f, "d0000000a011");
    let (a2, b1) = (reporter(&f, "d0000000a002"), reporter(&f, "d0000000b001"));
    let yesterday = "2026-11-30T09:59:00Z";
    let today = "2026-12-01T09:59:00Z";
    let reports = [
        (
            &honsha,
            "r-1",
            vec![
                beacon("a-1", yesterday, "192.168.1.23"),
                beacon("a-2", yesterday, "192.168.1.23"),
                scan("a-3", yesterday, "2001", 22),
            ],
            "2026-11-30T10:00:00Z",
        ),
        (
            &honsha,
            "r-2",
            vec![
                beacon("a-4", today, "192.168.1.23"),
                scan("a-5", "2026-12-01T09:50:00Z", "2001", 22),
                scan("a-6", today, "2002", 3389),
                stopped("a-7", "2026-12-01T09:58:00Z", "192.168.1.40"),
                undecided("a-8", "2026-12-01T09:57:00Z", "192.168.1.41"),
            ],
            NOW,
        ),
        (
            &shiten,
            "r-3",
            vec![scan("s-1", "2026-12-01T08:59:00Z", "2001", 22)],
            "2026-12-01T09:00:00Z",
        ),
        (&a2, "r-4", vec![beacon("x-1", today, "10.0.0.5")], NOW),
        (&b1, "r-5", vec![stopped("y-1", today, "192.168.2.9")], NOW),
    ];
    for (batch, (reporter, id, events, received)) in reports.into_iter().enumerate() {
        let batch = i64::try_from(batch).expect("small") + 1;
        send(&f, reporter, id, events, received, batch).expect("stores");
    }
    f
}

/// Customer `id` as the operator reaches it.
pub(crate) fn tenant(f: &Fixture, id: &str) -> Tenant {
    block_on(crate::access::customer(
        &f.db,
        &Access::granted(Scope::Operator),
        id,
    ))
    .expect("reads")
    .expect("exists")
}
