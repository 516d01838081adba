//! /usage against a data set of usage records sent through the real ingest batch: the
//! company's, each appliance's and each busy host's top names, by hits and by bytes,
//! over the period, one customer at a time, along the rollups' keys.
//!
//! As of 2026-12-01 19:00 in Tokyo:
//! - `c-a1` 本社 (`d0000000a001`): on 11-30 sns (10 hits, 1,000 B) and video (3, 90,000)
//!   from 192.168.1.23, Zoom (5, 50,000) from 192.168.1.40; on 12-01 sns (4, 100) from
//!   192.168.1.40, business (8, 800) from a host known by its MAC only, LINE (2, 10)
//!   from a host not known. 支店 (`d0000000a011`): on 12-01 search (20, 200) from
//!   192.168.5.5.
//! - `c-a2`: on 12-01 sns (100, 100) from 10.0.0.5.

use chrono::NaiveDate;
use domain::period::Period;
use serde_json::{Value, json};

use super::*;
use crate::sample::portal::tenant;
use crate::sample::{count, reporter, send};
use crate::testing::{Fixture, block_on, fixture};

const NOW: &str = "2026-12-01T10:00:00Z";

/// A usage record of `kind` `name` for the hour from `start`, from `client`.
fn record(
    id: &str,
    start: &str,
    kind: &str,
    name: &str,
    hits: u64,
    bytes: u64,
    client: Value,
) -> Value {
    let start: DateTime = start.parse().expect("a time");
    let mut r = json!({
        "type": "usage", "event_id": id, "period_start": start.to_rfc3339(),
        "period_end": (start + chrono::TimeDelta::hours(1)).to_rfc3339(),
        "kind": kind, "name": name, "hits": hits, "bytes": bytes,
    });
    if !client.is_null() {
        r["client"] = client;
    }
    r
}

type DateTime = chrono::DateTime<chrono::Utc>;

fn ip(ip: &str) -> Value {
    json!({"ip": ip})
}

/// The data set of the module doc.
fn used() -> Fixture {
    let f = fixture();
    f.db.execute_script(
        "INSERT INTO devices (id, customer_id, name, created_at) VALUES ('d0000000a011', 'c-a1', '支店', 0);",
    )
    .expect("a second appliance");
    let (honsha, shiten, a2) = (
        reporter(&f, "d0000000a001"),
        reporter(&f, "d0000000a011"),
        reporter(&f, "d0000000a002"),
    );
    let (yesterday, today) = ("2026-11-30T01:00:00Z", "2026-12-01T01:00:00Z");
    let reports = [
        (
            &honsha,
            vec![
                record(
                    "u-1",
                    yesterday,
                    "web_category",
                    "sns",
                    10,
                    1_000,
                    ip("192.168.1.23"),
                ),
                record(
                    "u-2",
                    yesterday,
                    "web_category",
                    "video",
                    3,
                    90_000,
                    ip("192.168.1.23"),
                ),
                record(
                    "u-3",
                    yesterday,
                    "application",
                    "Zoom",
                    5,
                    50_000,
                    ip("192.168.1.40"),
                ),
                record(
                    "u-4",
                    today,
                    "web_category",
                    "sns",
                    4,
                    100,
                    ip("192.168.1.40"),
                ),
                record(
                    "u-5",
                    today,
                    "web_category",
                    "business",
                    8,
                    800,
                    json!({"mac": "00:11:22:33:44:55"}),
                ),
                record("u-6", today, "application", "LINE", 2, 10, Value::Null),
            ],
        ),
        (
            &shiten,
            vec![record(
                "s-1",
                today,
                "web_category",
                "search",
                20,
                200,
                ip("192.168.5.5"),
            )],
        ),
        (
            &a2,
            vec![record(
                "x-1",
                today,
                "web_category",
                "sns",
                100,
                100,
                ip("10.0.0.5"),
            )],
        ),
    ];
    for (batch, (reporter, events)) in reports.into_iter().enumerate() {
        let batch = i64::try_from(batch).expect("small") + 1;
        send(&f, reporter, &format!("r-{batch}"), events, NOW, batch).expect("stores");
    }
    f
}

fn period(from: &str, to: &str) -> Period {
    let today: NaiveDate = "2026-12-01".parse().expect("a date");
    Period::parse(Some(from), Some(to), today, 90).expect("a period")
}

fn read(f: &Fixture, customer: &str, p: &Period) -> Usage {
    block_on(usage(&f.db, &tenant(f, customer), p)).expect("reads")
}

/// `(name, hits, bytes)` of a list.
fn names(list: &[Named]) -> Vec<(&str, u64, u64)> {
    list.iter()
        .map(|n| (n.name.as_str(), n.hits, n.bytes))
        .collect()
}

#[test]
fn the_company_ranks_its_categories_and_applications_by_hits_and_by_bytes_over_the_period() {
    let f = used();
    let two_days = read(&f, "c-a1", &period("2026-11-30", "2026-12-01"));
    let web = &two_days.company.categories;
    assert_eq!(
        names(&web.by_hits),
        [
            ("search", 20, 200),
            ("sns", 14, 1_100),
            ("business", 8, 800),
            ("video", 3, 90_000)
        ]
    );
    assert_eq!(
        names(&web.by_bytes),
        [
            ("video", 3, 90_000),
            ("sns", 14, 1_100),
            ("business", 8, 800),
            ("search", 20, 200)
        ]
    );
    assert_eq!(
        names(&two_days.company.applications.by_hits),
        [("Zoom", 5, 50_000), ("LINE", 2, 10)]
    );
    let today = read(&f, "c-a1", &period("2026-12-01", "2026-12-01"));
    assert_eq!(
        names(&today.company.categories.by_hits),
        [("search", 20, 200), ("business", 8, 800), ("sns", 4, 100)]
    );
    assert_eq!(
        names(&today.company.applications.by_bytes),
        [("LINE", 2, 10)]
    );
}

#[test]
fn each_appliance_and_each_busiest_host_has_its_own_lists() {
    let f = used();
    let u = read(&f, "c-a1", &period("2026-11-30", "2026-12-01"));
    let appliances: Vec<(&str, &str)> = u
        .appliances
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str()))
        .collect();
    assert_eq!(
        appliances,
        [("d0000000a011", "支店"), ("d0000000a001", "本社")]
    );
    assert_eq!(
        names(&u.appliances[0].tops.categories.by_hits),
        [("search", 20, 200)]
    );
    assert!(u.appliances[0].tops.applications.by_hits.is_empty());
    assert_eq!(
        names(&u.appliances[1].tops.categories.by_hits),
        [
            ("sns", 14, 1_100),
            ("business", 8, 800),
            ("video", 3, 90_000)
        ]
    );
    // The busiest hosts first: by IP, by MAC when the record has no IP, "" when neither.
    let hosts: Vec<(&str, u64, u64)> = u
        .hosts
        .iter()
        .map(|h| (h.host.as_str(), h.hits, h.bytes))
        .collect();
    assert_eq!(
        hosts,
        [
            ("192.168.5.5", 20, 200),
            ("192.168.1.23", 13, 91_000),
            ("192.168.1.40", 9, 50_100),
            ("00:11:22:33:44:55", 8, 800),
            ("", 2, 10)
        ]
    );
    let host40 = &u.hosts[2].tops;
    assert_eq!(names(&host40.categories.by_hits), [("sns", 4, 100)]);
    assert_eq!(names(&host40.applications.by_bytes), [("Zoom", 5, 50_000)]);
    assert_eq!(
        names(&u.hosts[1].tops.categories.by_bytes),
        [("video", 3, 90_000), ("sns", 10, 1_000)]
    );
}

#[test]
fn only_the_top_ten_names_and_hosts_come_back_and_ties_go_by_name() {
    let f = fixture();
    let r = reporter(&f, "d0000000a001");
    // n01 … n12: hits falling, bytes rising; n10, n11 and n12 tie on hits. 12 hosts.
    let events: Vec<Value> = (1..=12u64)
        .map(|i| {
            record(
                &format!("u-{i}"),
                "2026-12-01T01:00:00Z",
                "application",
                &format!("n{i:02}"),
                13 - i.min(10),
                i * 100,
                ip(&format!("192.168.1.{i}")),
            )
        })
        .collect();
    send(&f, &r, "r-1", events, NOW, 1).expect("stores");
    let u = read(&f, "c-a1", &period("2026-12-01", "2026-12-01"));
    let apps = &u.company.applications;
    let of = |list: &[Named]| list.iter().map(|n| n.name.clone()).collect::<Vec<_>>();
    let n = |range: &mut dyn Iterator<Item = u64>| {
        range.map(|i| format!("n{i:02}")).collect::<Vec<_>>()
    };
    assert_eq!(of(&apps.by_hits), n(&mut (1..=10)));
    assert_eq!(of(&apps.by_bytes), n(&mut (3..=12).rev()));
    assert_eq!(u.hosts.len(), 10);
    assert_eq!(u.hosts[0].host, "192.168.1.1");
    // Hosts tied on hits (.10, .11 and .12, 3 each) go by their text: .10 is the tenth.
    assert_eq!(u.hosts[9].host, "192.168.1.10");
    let shown: Vec<&str> = u.hosts.iter().map(|h| h.host.as_str()).collect();
    assert!(!shown.contains(&"192.168.1.11"), "{shown:?}");
}

#[test]
fn another_customers_usage_never_counts() {
    let f = used();
    let p = period("2026-11-30", "2026-12-01");
    let a1 = read(&f, "c-a1", &p);
    assert!(a1.hosts.iter().all(|h| h.host != "10.0.0.5"));
    assert_eq!(
        a1.company.categories.by_hits[1],
        Named {
            name: "sns".into(),
            hits: 14,
            bytes: 1_100
        }
    );
    let a2 = read(&f, "c-a2", &p);
    assert_eq!(names(&a2.company.categories.by_hits), [("sns", 100, 100)]);
    assert_eq!(a2.appliances.len(), 1);
    assert_eq!(a2.hosts.len(), 1);
    let b1 = read(&f, "c-b1", &p);
    assert_eq!(b1.company, Tops::default());
    assert!(b1.hosts.is_empty());
    assert_eq!(b1.appliances[0].tops, Tops::default());
}

#[test]
fn the_host_rollup_counts_each_new_record_once_and_sums_up_to_the_appliance_rollup() {
    let f = fixture();
    let r = reporter(&f, "d0000000a001");
    let first = vec![
        record(
            "u-1",
            "2026-12-01T01:00:00Z",
            "web_category",
            "sns",
            4,
            40,
            ip("192.168.1.5"),
        ),
        record(
            "u-2",
            "2026-12-01T02:00:00Z",
            "web_category",
            "sns",
            6,
            60,
            ip("192.168.1.5"),
        ),
    ];
    send(&f, &r, "r-1", first.clone(), NOW, 1).expect("stores");
    // The same report again, and a new one repeating an event already stored.
    send(&f, &r, "r-1", first.clone(), NOW, 2).expect("stores");
    let mut again = first;
    again.push(record(
        "u-3",
        "2026-12-01T02:00:00Z",
        "web_category",
        "sns",
        1,
        10,
        Value::Null,
    ));
    send(&f, &r, "r-2", again, NOW, 3).expect("stores");
    assert_eq!(
        count(
            &f,
            "SELECT hits AS n FROM usage_host_days WHERE host = '192.168.1.5' AND name = 'sns'"
        ),
        10
    );
    assert_eq!(
        count(&f, "SELECT hits AS n FROM usage_host_days WHERE host = ''"),
        1
    );
    assert_eq!(
        count(&f, "SELECT sum(hits) AS n FROM usage_host_days"),
        count(&f, "SELECT sum(hits) AS n FROM usage_days")
    );
}

#[test]
fn migration_0019_backfills_host_usage_from_the_records_already_stored() {
    let db = crate::testing::db_before("0019");
    // 2026-11-30T15:30Z is already 12-01 in Tokyo.
    db.execute_script(
        "INSERT INTO usage_records VALUES
           ('d1', 'u-1', 'c-1', 1796000400000, 1796004000000, 'application', 'Zoom', 3, 30, '192.168.1.5', 'aa'),
           ('d1', 'u-2', 'c-1', 1796052600000, 1796056200000, 'application', 'Zoom', 4, 40, '192.168.1.5', NULL),
           ('d1', 'u-3', 'c-1', 1796052600000, 1796056200000, 'application', 'Zoom', 5, 50, NULL, 'bb'),
           ('d1', 'u-4', 'c-1', 1796052600000, 1796056200000, 'application', 'Zoom', 6, 60, NULL, NULL);",
    )
    .expect("old rows");
    db.execute_script(&crate::testing::migration(
        "0019_outages_and_host_usage.sql",
    ))
    .expect("0019 applies over stored rows");
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Day {
        day: String,
        host: String,
        hits: i64,
        bytes: i64,
    }
    let days: Vec<Day> = block_on(db.all(Query::new(
        "SELECT day, host, hits, bytes FROM usage_host_days ORDER BY day, host",
    )))
    .expect("reads");
    let day = |d: &str, h: &str, hits, bytes| Day {
        day: d.into(),
        host: h.into(),
        hits,
        bytes,
    };
    assert_eq!(
        days,
        [
            day("2026-11-30", "192.168.1.5", 3, 30),
            day("2026-12-01", "", 6, 60),
            day("2026-12-01", "192.168.1.5", 4, 40),
            day("2026-12-01", "bb", 5, 50)
        ]
    );
}

#[test]
fn the_usage_reads_walk_the_rollups_keys() {
    let f = used();
    let (t, p) = (tenant(&f, "c-a1"), period("2026-09-03", "2026-12-01"));
    let queries = [
        (company_query(&t, &p), "usage_days"),
        (appliances_query(&t, &p), "usage_days"),
        (busiest_query(&t, &p), "usage_host_days"),
        (hosts_query(&t, &p, r#"["192.168.1.5"]"#), "usage_host_days"),
    ];
    for (q, table) in queries {
        let plan = f.db.plan(&q).expect("plans").join("\n");
        assert!(
            !plan.lines().any(|l| l
                .trim_start_matches(['|', '-', '`', ' '])
                .starts_with(&format!("SCAN {table}"))),
            "{}\n{plan}",
            q.sql()
        );
        assert!(
            plan.contains(&format!(
                "SEARCH {table} USING PRIMARY KEY (customer_id=? AND day>? AND day<?)"
            )),
            "{}\n{plan}",
            q.sql()
        );
    }
}
