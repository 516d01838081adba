//! The ★-tier daily rollup (`threat_tier_days`) as the ingest batch writes it and as
//! migration 0017 backfilled it from the rows stored before: events by tier, function and
//! Asia/Tokyo day.

use super::{EARLIER, Query};
use crate::sample::{beacon, count, reporter, scan, send};
use crate::testing::{block_on, fixture};

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
fn migration_0017_backfills_the_tier_rollup_and_hosts_from_the_threats_already_stored() {
    let db = crate::testing::db_before("0017");
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
    db.execute_script(&crate::testing::migration("0017_tier_days.sql"))
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
