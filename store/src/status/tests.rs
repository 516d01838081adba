//! The dashboard against the portal data set: counts from the tier rollup, the problem
//! banner, the appliances' cards, one customer at a time, along indexes.

use chrono::NaiveDate;
use domain::offline::Status as Online;
use domain::period::{Period, Preset};
use domain::report::Function;
use domain::severity::Severity;

use super::*;
use crate::sample::portal::{THRESHOLD, now, portal, tenant};
use crate::testing::{Fixture, block_on};

fn period(from: &str, to: &str) -> Period {
    let today: NaiveDate = "2026-12-01".parse().expect("a date");
    Period::parse(Some(from), Some(to), today, 90).expect("a period")
}

fn read(f: &Fixture, customer: &str, p: &Period) -> Status {
    block_on(status(&f.db, &tenant(f, customer), p, now(), THRESHOLD)).expect("reads")
}

#[test]
fn detections_are_counted_by_tier_and_function_over_the_period() {
    let f = portal();
    let two_days = read(&f, "c-a1", &period("2026-11-30", "2026-12-01"));
    assert_eq!(
        two_days.by_tier,
        [
            (Severity::High, 3),
            (Severity::Medium, 1),
            (Severity::Low, 4),
            (Severity::Investigating, 1)
        ]
    );
    assert_eq!(
        two_days.by_function,
        [
            (Function::Ips, 7),
            (Function::Antivirus, 1),
            (Function::Other, 1)
        ]
    );
    assert_eq!(two_days.detections(), 9);
    let today = read(&f, "c-a1", &period("2026-12-01", "2026-12-01"));
    assert_eq!(today.by_tier[0], (Severity::High, 1));
    assert_eq!(today.detections(), 6);
}

#[test]
fn another_customers_detections_are_not_counted() {
    let f = portal();
    let p = period("2026-11-30", "2026-12-01");
    let a2 = read(&f, "c-a2", &p);
    assert_eq!(a2.detections(), 1);
    assert_eq!(a2.by_tier[0], (Severity::High, 1));
    assert_eq!(a2.appliances.len(), 1);
    let b1 = read(&f, "c-b1", &p);
    assert_eq!(b1.by_tier[1], (Severity::Medium, 1));
    assert_eq!(b1.by_function, [(Function::Antivirus, 1)]);
}

#[test]
fn each_appliance_shows_its_state_by_the_offline_rule_and_its_detections() {
    let f = portal();
    let s = read(
        &f,
        "c-a1",
        &Period::preset(Preset::Days7, "2026-12-01".parse().expect("a date"), 90),
    );
    let cards: Vec<(&str, &str, Online, u64)> = s
        .appliances
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str(), a.status, a.detections))
        .collect();
    assert_eq!(
        cards,
        [
            ("d0000000a011", "支店", Online::Offline, 1),
            ("d0000000a001", "本社", Online::Online, 8)
        ]
    );
    assert_eq!(
        s.appliances[0].last_seen_at,
        Some(crate::sample::at("2026-12-01T09:00:00Z"))
    );
    // The threshold is the configured one: an hour and a half of patience keeps 支店 online.
    let patient = block_on(status(
        &f.db,
        &tenant(&f, "c-a1"),
        &period("2026-12-01", "2026-12-01"),
        now(),
        chrono::TimeDelta::minutes(90),
    ))
    .expect("reads");
    assert_eq!(patient.appliances[0].status, Online::Online);
}

#[test]
fn a_problem_is_an_unhandled_incident_needing_the_admin_active_in_the_period() {
    let f = portal();
    assert!(read(&f, "c-a1", &period("2026-11-30", "2026-11-30")).problem);
    assert!(read(&f, "c-b1", &period("2026-12-01", "2026-12-01")).problem);
    assert!(!read(&f, "c-a1", &period("2026-11-01", "2026-11-29")).problem);
    // Once every ★★★/★★☆/調査中 incident is handled, only ★☆☆ ones are left: no problem.
    f.db.execute_script(
        "UPDATE incidents SET handled_at = 1, handled_by = 'acc' \
         WHERE customer_id = 'c-a1' AND severity_rank <> 2",
    )
    .expect("handled");
    assert!(!read(&f, "c-a1", &period("2026-11-30", "2026-12-01")).problem);
    assert!(read(&f, "c-a2", &period("2026-11-30", "2026-12-01")).problem);
}

#[test]
fn a_customer_without_appliances_or_detections_reads_zeros() {
    let f = portal();
    f.db.execute_script(
        "INSERT INTO customers (id, reseller_id, name, service_start, created_at) \
         VALUES ('c-new', 'r-a', '新規株式会社', '2026-12-01', 0);",
    )
    .expect("a customer");
    let s = read(&f, "c-new", &period("2026-11-30", "2026-12-01"));
    assert_eq!(s.detections(), 0);
    assert!(s.by_function.is_empty());
    assert!(s.appliances.is_empty());
    assert!(!s.problem);
}

#[test]
fn the_dashboard_reads_walk_indexes() {
    let f = portal();
    let (t, p) = (tenant(&f, "c-a1"), period("2026-09-03", "2026-12-01"));
    for q in [counts_query(&t, &p), problem_query(&t, &p)] {
        let plan = f.db.plan(&q).expect("plans");
        assert!(
            !plan
                .iter()
                .any(|l| l.starts_with("SCAN ") && l != "SCAN CONSTANT ROW"),
            "{}: {plan:?}",
            q.sql()
        );
    }
    let counts = f.db.plan(&counts_query(&t, &p)).expect("plans").join("\n");
    assert!(
        counts.contains(
            "SEARCH threat_tier_days USING PRIMARY KEY (customer_id=? AND day>? AND day<?)"
        ),
        "{counts}"
    );
    let problem = f.db.plan(&problem_query(&t, &p)).expect("plans").join("\n");
    assert!(problem.contains("incidents_unhandled"), "{problem}");
}
