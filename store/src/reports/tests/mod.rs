//! The ingest batch against the real schema: idempotent by report and event id, atomic,
//! grouping events into incidents within the window, and walking indexes only.

use super::*;
use crate::sample::{
    EARLIER_TIME, NOW_TIME, at, beacon, count, reporter, scan, send, usage, with_ingest,
};
use crate::testing::fixture;

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
    let events = vec![beacon("e-1", EARLIER, "192.168.1.5"), usage("u-1", EARLIER)];
    let queries = with_ingest(&r, "r-1", events, at(NOW), 1, |ingest| {
        statements(&r, ingest)
    });
    for q in queries {
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

mod tiers;
