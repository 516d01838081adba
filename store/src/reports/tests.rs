//! The ingest batch against the real schema: idempotent by report and event id, atomic,
//! grouping events into incidents within the window, and walking indexes only.

use domain::incident::timing;
use domain::ingest::Rows;
use domain::ratelimit::Bucket;
use domain::report::parse_report;
use domain::severity::RuleSet;
use serde_json::json;

use super::*;
use crate::sample::{
    ALERTS, EARLIER_TIME, NOW_TIME, at, beacon, count, reporter, scan, send, usage,
};
use crate::testing::{block_on, fixture};

const NOW: &str = NOW_TIME;
const EARLIER: &str = EARLIER_TIME;

#[test]
fn the_same_report_sent_twice_is_stored_once() {
    let f = fixture();
    let r = reporter(&f, "d0000000a001");
    let events = || {
        vec![
            beacon("e-1", EARLIER, "192.168.1.23"),
            usage("u-1", EARLIER),
        ]
    };
    let first = send(&f, &r, "r-1", events(), NOW, 1).expect("stores");
    assert_eq!(
        first,
        Stored {
            report: true,
            accepted: 2
        }
    );
    let again = send(&f, &r, "r-1", events(), "2026-12-01T10:00:30Z", 2).expect("stores");
    assert_eq!(
        again,
        Stored {
            report: false,
            accepted: 0
        }
    );
    assert_eq!(count(&f, "SELECT count(*) AS n FROM threats"), 1);
    assert_eq!(count(&f, "SELECT sum(count) AS n FROM incidents"), 1);
    assert_eq!(
        count(&f, "SELECT sum(events) AS n FROM threat_tier_days"),
        1
    );
    assert_eq!(count(&f, "SELECT count(*) AS n FROM notifications"), 1);
    assert_eq!(count(&f, "SELECT count(*) AS n FROM usage_records"), 1);
    assert_eq!(
        count(&f, "SELECT sum(reports) AS n FROM device_report_hours"),
        1
    );
    // A re-send is still a heartbeat.
    assert_eq!(
        count(
            &f,
            "SELECT last_seen_at AS n FROM devices WHERE id = 'd0000000a001'"
        ),
        at("2026-12-01T10:00:30Z").timestamp_millis()
    );
}

#[test]
fn an_event_already_stored_is_neither_stored_nor_counted_again_in_a_new_report() {
    let f = fixture();
    let r = reporter(&f, "d0000000a001");
    send(
        &f,
        &r,
        "r-1",
        vec![beacon("e-1", EARLIER, "192.168.1.23")],
        NOW,
        1,
    )
    .expect("stores");
    let next = send(
        &f,
        &r,
        "r-2",
        vec![
            beacon("e-1", EARLIER, "192.168.1.23"),
            beacon("e-2", EARLIER, "192.168.1.23"),
        ],
        "2026-12-01T10:01:00Z",
        2,
    )
    .expect("stores");
    assert_eq!(
        next,
        Stored {
            report: true,
            accepted: 1
        }
    );
    assert_eq!(count(&f, "SELECT sum(count) AS n FROM threats"), 2);
    assert_eq!(count(&f, "SELECT sum(events) AS n FROM threat_days"), 2);
    assert_eq!(
        count(&f, "SELECT sum(events) AS n FROM threat_tier_days"),
        2
    );
    assert_eq!(count(&f, "SELECT sum(count) AS n FROM incidents"), 2);
}

#[test]
fn the_tier_rollup_counts_each_new_event_by_its_star_tier_and_tokyo_day() {
    let f = fixture();
    let r = reporter(&f, "d0000000a001");
    // 2026-12-01T15:30Z is already 12-02 in Tokyo.
    send(
        &f,
        &r,
        "r-1",
        vec![
            beacon("e-1", EARLIER, "192.168.1.23"),
            beacon("e-2", EARLIER, "192.168.1.23"),
            scan("e-3", EARLIER, "2001", 22),
            scan("e-4", "2026-12-01T15:30:00Z", "2001", 22),
        ],
        "2026-12-01T15:31:00Z",
        1,
    )
    .expect("stores");
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Day {
        day: String,
        function: String,
        severity: String,
        events: i64,
    }
    let days: Vec<Day> = block_on(f.db.all(Query::new(
        "SELECT day, function, severity, events FROM threat_tier_days          WHERE customer_id = 'c-a1' AND device_id = 'd0000000a001' ORDER BY day, severity",
    )))
    .expect("reads");
    let day = |d: &str, s: &str, n| Day {
        day: d.into(),
        function: "ips".into(),
        severity: s.into(),
        events: n,
    };
    assert_eq!(
        days,
        [
            day("2026-12-01", "high", 2),
            day("2026-12-01", "low", 1),
            day("2026-12-02", "low", 1)
        ]
    );
    // Every threat row knows its internal host: the source outbound, the target inbound.
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM threats WHERE \
             (direction = 'outbound' AND host = '192.168.1.23') OR \
             (direction = 'inbound' AND host = '192.168.1.10')"
        ),
        3
    );
}

#[test]
fn a_failure_inside_the_batch_leaves_nothing_behind() {
    let f = fixture();
    let r = reporter(&f, "d0000000a001");
    f.db.execute_script(
        "CREATE TRIGGER fail_usage BEFORE INSERT ON usage_days \
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
    )
    .expect("trigger");
    let failed = send(
        &f,
        &r,
        "r-1",
        vec![
            beacon("e-1", EARLIER, "192.168.1.23"),
            usage("u-1", EARLIER),
        ],
        NOW,
        1,
    );
    assert!(matches!(failed, Err(Error::Unavailable(_))), "{failed:?}");
    for table in [
        "device_reports",
        "device_events",
        "threats",
        "threat_days",
        "threat_tier_days",
        "incidents",
        "notifications",
        "usage_records",
        "device_report_hours",
    ] {
        assert_eq!(
            count(&f, &format!("SELECT count(*) AS n FROM {table}")),
            0,
            "{table}"
        );
    }
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM devices WHERE last_seen_at IS NOT NULL"
        ),
        0
    );
}

#[test]
fn a_revoked_token_or_stopped_appliance_stores_nothing() {
    let f = fixture();
    let r = reporter(&f, "d0000000a001");
    f.db.execute_script("UPDATE device_tokens SET revoked_at = 1;")
        .expect("revoke");
    let revoked = send(
        &f,
        &r,
        "r-1",
        vec![beacon("e-1", EARLIER, "192.168.1.5")],
        NOW,
        1,
    )
    .expect("runs");
    assert_eq!(
        revoked,
        Stored {
            report: false,
            accepted: 0
        }
    );
    let b = reporter(&f, "d0000000b001");
    f.db.execute_script("UPDATE customers SET contract_ended_at = 1 WHERE id = 'c-b1';")
        .expect("end");
    let ended = send(
        &f,
        &b,
        "r-1",
        vec![beacon("e-1", EARLIER, "192.168.1.5")],
        NOW,
        2,
    )
    .expect("runs");
    assert_eq!(
        ended,
        Stored {
            report: false,
            accepted: 0
        }
    );
    assert_eq!(count(&f, "SELECT count(*) AS n FROM threats"), 0);
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM devices WHERE last_seen_at IS NOT NULL"
        ),
        0
    );
}

#[test]
fn the_same_threat_at_the_same_host_within_the_window_is_one_incident() {
    let f = fixture();
    let r = reporter(&f, "d0000000a001");
    send(
        &f,
        &r,
        "r-1",
        vec![beacon("e-1", EARLIER, "192.168.1.23")],
        NOW,
        1,
    )
    .expect("stores");
    send(
        &f,
        &r,
        "r-2",
        vec![beacon("e-2", "2026-12-01T10:29:00Z", "192.168.1.23")],
        "2026-12-01T10:30:00Z",
        2,
    )
    .expect("stores");
    assert_eq!(count(&f, "SELECT count(*) AS n FROM incidents"), 1);
    assert_eq!(count(&f, "SELECT count AS n FROM incidents"), 2);
    // Another host is another incident.
    send(
        &f,
        &r,
        "r-3",
        vec![beacon("e-3", "2026-12-01T10:30:00Z", "192.168.1.99")],
        "2026-12-01T10:31:00Z",
        3,
    )
    .expect("stores");
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM incidents WHERE closed_at IS NULL"
        ),
        2
    );
    // Only the report that opened an incident queued a notification.
    assert_eq!(count(&f, "SELECT count(*) AS n FROM notifications"), 2);
}

#[test]
fn after_a_quiet_window_the_next_event_opens_a_new_incident() {
    let f = fixture();
    let r = reporter(&f, "d0000000a001");
    send(
        &f,
        &r,
        "r-1",
        vec![beacon("e-1", EARLIER, "192.168.1.23")],
        NOW,
        1,
    )
    .expect("stores");
    send(
        &f,
        &r,
        "r-2",
        vec![beacon("e-2", "2026-12-01T11:00:30Z", "192.168.1.23")],
        "2026-12-01T11:01:00Z",
        2,
    )
    .expect("stores");
    assert_eq!(count(&f, "SELECT count(*) AS n FROM incidents"), 2);
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM incidents WHERE closed_at IS NOT NULL"
        ),
        1
    );
    assert_eq!(count(&f, "SELECT count(*) AS n FROM notifications"), 2);
}

#[test]
fn three_stars_are_due_at_once_and_lower_tiers_after_the_batch_window() {
    let f = fixture();
    let r = reporter(&f, "d0000000a001");
    send(
        &f,
        &r,
        "r-1",
        vec![
            beacon("e-1", EARLIER, "192.168.1.23"),
            scan("e-2", EARLIER, "2010935", 1433),
        ],
        NOW,
        1,
    )
    .expect("stores");
    let now = at(NOW).timestamp_millis();
    assert_eq!(
        count(&f, "SELECT due_at AS n FROM notifications WHERE rank = 0"),
        now
    );
    assert_eq!(
        count(&f, "SELECT due_at AS n FROM notifications WHERE rank > 0"),
        now + 5 * 60_000
    );
}

#[test]
fn the_batch_walks_indexes_not_whole_tables() {
    let f = fixture();
    let r = reporter(&f, "d0000000a001");
    let now = at(NOW);
    let body = json!({"report_id": "r-1", "sent_at": now.to_rfc3339(),
        "events": [beacon("e-1", EARLIER, "192.168.1.5"), usage("u-1", EARLIER)]});
    let report = parse_report(body.to_string().as_bytes(), now).expect("valid");
    let rules = RuleSet::current();
    let rows = Rows::rated(&report, &rules);
    let ingest = Ingest {
        token_hash: "h-d0000000a001",
        report: &report,
        rows: &rows,
        batch: 1,
        bucket: Bucket {
            tokens: 5.0,
            at: now,
        },
        rules_version: rules.version,
        timing: timing(&ALERTS, now),
        now,
    };
    for q in statements(&r, &ingest) {
        let plan = f.db.plan(&q).expect("plans").join("\n");
        for table in [
            "threats",
            "usage_records",
            "incidents",
            "notifications",
            "device_events",
            "devices",
        ] {
            assert!(
                !plan.lines().any(|l| l == format!("SCAN {table}")),
                "{}\n{plan}",
                q.sql()
            );
        }
    }
}

#[test]
fn migration_0017_backfills_the_tier_rollup_and_hosts_from_the_threats_already_stored() {
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let before = std::env::temp_dir().join(format!("mimamori-0017-{}", std::process::id()));
    std::fs::create_dir_all(&before).expect("a temporary folder");
    for file in std::fs::read_dir(&migrations).expect("migrations") {
        let path = file.expect("an entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".sql") && name < "0017" {
            std::fs::copy(&path, before.join(name)).expect("copies");
        }
    }
    let db = crate::Db::migrated(&before).expect("migrations up to 0016 apply");
    std::fs::remove_dir_all(&before).ok();
    db.execute_script(
        "INSERT INTO threats (customer_id, device_id, bucket, sig_key, src_key, action, direction,
           function, day, first_event_id, first_at, last_at, count, name, vendor_severity,
           src_ip, dst_ip, severity)
         VALUES
           ('c-1', 'd1', 0, 's1', '', 'detected', 'outbound', 'ips', '2026-11-30', 'e1', 0, 0, 3, 'n',
            'critical', '192.168.1.5', '203.0.113.9', 'high'),
           ('c-1', 'd1', 1, 's1', '', 'detected', 'outbound', 'ips', '2026-11-30', 'e2', 0, 0, 2, 'n',
            'critical', '192.168.1.6', '203.0.113.9', 'high'),
           ('c-1', 'd1', 2, 's2', '', 'blocked', 'inbound', 'ips', '2026-11-30', 'e3', 0, 0, 4, 'n',
            'medium', '198.51.100.7', '192.168.1.10', 'low');",
    )
    .expect("old rows");
    db.execute_script(
        &std::fs::read_to_string(migrations.join("0017_tier_days.sql")).expect("0017"),
    )
    .expect("0017 applies over stored rows");
    let f = crate::testing::Fixture { db };
    assert_eq!(
        count(
            &f,
            "SELECT events AS n FROM threat_tier_days WHERE severity = 'high'"
        ),
        5
    );
    assert_eq!(
        count(
            &f,
            "SELECT events AS n FROM threat_tier_days WHERE severity = 'low'"
        ),
        4
    );
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM threats WHERE host IN ('192.168.1.5', '192.168.1.6', '192.168.1.10')"
        ),
        3
    );
}
