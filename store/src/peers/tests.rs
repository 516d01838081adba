//! 参加企業平均 against a data set of `COMPANIES` companies `c-p00`… with one appliance
//! each, all reporting on 11-25..12-01 (Tokyo): company k has k detections a day (IPS),
//! and `c-p00` (the viewer) 50 a day, 20 of them by its antivirus. `c-late` joins on
//! 12-01 only. The cron's refresh is run for each day, then the page's read.

use chrono::{NaiveDate, TimeDelta};
use domain::peers::{Band, Tenths};
use domain::period::Period;

use super::*;
use crate::cron::tick;
use crate::sample::portal::tenant;
use crate::testing::{Fixture, block_on, db};

const TODAY: &str = "2026-12-01";

fn today() -> NaiveDate {
    TODAY.parse().expect("a date")
}

fn now() -> DateTime<Utc> {
    "2026-12-01T10:00:00Z".parse().expect("a time")
}

fn name(k: usize) -> String {
    format!("c-p{k:02}")
}

/// A company with one appliance, reporting at noon (Tokyo) of each of `days`, with
/// `detections` per day and function.
fn company(f: &Fixture, id: &str, days: &[NaiveDate], detections: &[(&str, u64)]) {
    let hash = id.bytes().fold(0xcbf2_9ce4_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0193)
    });
    let device = format!("d{:011x}", hash & 0xfff_ffff_ffff);
    f.db.execute_script(&format!(
        "INSERT INTO customers (id, name, service_start, created_at) VALUES ('{id}', '{id}', '2026-01-01', 0);
         INSERT INTO devices (id, customer_id, name, created_at) VALUES ('{device}', '{id}', '本社', 0);"
    ))
    .expect("a company");
    for day in days {
        let noon = midnight(*day) + TimeDelta::hours(12);
        let hour = noon.timestamp_millis();
        f.db.execute_script(&format!(
            "INSERT INTO device_report_hours VALUES ('{device}', {hour}, 60);"
        ))
        .expect("a report hour");
        for (function, n) in detections.iter().filter(|(_, n)| *n > 0) {
            f.db.execute_script(&format!(
                "INSERT INTO threat_tier_days VALUES ('{id}', '{day}', '{device}', '{function}', 'low', {n});"
            ))
            .expect("detections");
        }
    }
}

fn week() -> Vec<NaiveDate> {
    (0..7).rev().map(|i| today() - TimeDelta::days(i)).collect()
}

/// The viewer and `others` companies, company k with `k` IPS detections a day.
fn cohort(others: usize) -> Fixture {
    let f = Fixture { db: db() };
    company(&f, &name(0), &week(), &[("ips", 30), ("antivirus", 20)]);
    for k in 1..=others {
        company(&f, &name(k), &week(), &[("ips", k as u64)]);
    }
    f
}

fn refresh_week(f: &Fixture) {
    for day in week() {
        block_on(refresh(
            &f.db,
            std::slice::from_ref(&f.db),
            &tick(),
            day,
            now(),
        ))
        .expect("refreshes");
    }
}

fn period(from: &str, to: &str) -> Period {
    Period::parse(Some(from), Some(to), today(), 90).expect("a period")
}

fn seen(f: &Fixture, viewer: &str, p: &Period, min: u32) -> Result<Comparison, Withheld> {
    block_on(comparison(&f.db, &f.db, &tenant(f, viewer), p, min)).expect("reads")
}

#[test]
fn the_average_of_the_others_leaves_the_viewer_out() {
    let f = cohort(10);
    refresh_week(&f);
    let c = seen(&f, "c-p00", &period("2026-11-25", TODAY), 10).expect("shown");
    // The others have 1..=10 a day: 5.5 a day, 38.5 a week.
    assert_eq!(c.days.len(), 7);
    assert!(
        c.days
            .iter()
            .all(|d| d.average == Tenths(55) && d.own == 50)
    );
    assert_eq!(c.average, 39);
    assert_eq!(c.own, 350);
    assert_eq!(c.band, Band::Top10);
    assert_eq!(c.companies, 10);
    let ips = c
        .by_function
        .iter()
        .find(|r| r.function == Function::Ips)
        .expect("ips");
    assert_eq!((ips.own, ips.average), (210, 39));
    let av = c
        .by_function
        .iter()
        .find(|r| r.function == Function::Antivirus)
        .expect("antivirus");
    assert_eq!((av.own, av.average), (140, 0));
}

#[test]
fn fewer_others_than_the_minimum_withhold_it() {
    let f = cohort(9);
    refresh_week(&f);
    assert_eq!(
        seen(&f, "c-p00", &period("2026-11-25", TODAY), 10),
        Err(Withheld)
    );
    // Ten take part, so each of them has nine others.
    assert_eq!(
        seen(&f, "c-p01", &period("2026-11-25", TODAY), 10),
        Err(Withheld)
    );
    assert!(seen(&f, "c-p01", &period("2026-11-25", TODAY), 9).is_ok());
}

#[test]
fn a_company_that_reported_on_no_day_is_not_counted() {
    let f = cohort(10);
    company(&f, "c-quiet", &[], &[]);
    refresh_week(&f);
    let days: Vec<PeerCount> = block_on(f.db.all(Query::new(
        "SELECT companies FROM peer_days WHERE day = '2026-12-01' AND function = ''",
    )))
    .expect("reads");
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].companies, 11);
    let c = seen(&f, "c-quiet", &period(TODAY, TODAY), 10).expect("shown");
    assert_eq!(c.own, 0);
    // Eleven others: (1 + … + 10 + 50) / 11.
    assert_eq!(c.days[0].average, Tenths(95));
}

#[derive(serde::Deserialize)]
struct PeerCount {
    companies: i64,
}

#[test]
fn a_day_not_refreshed_yet_withholds_the_period_that_holds_it() {
    let f = cohort(10);
    block_on(refresh(
        &f.db,
        std::slice::from_ref(&f.db),
        &tick(),
        today(),
        now(),
    ))
    .expect("refreshes");
    assert!(seen(&f, "c-p00", &period(TODAY, TODAY), 10).is_ok());
    assert_eq!(
        seen(&f, "c-p00", &period("2026-11-30", TODAY), 10),
        Err(Withheld)
    );
}

#[test]
fn a_refresh_takes_in_what_came_since_and_counts_nothing_twice() {
    let f = cohort(10);
    refresh_week(&f);
    f.db.execute_script(
        "UPDATE threat_tier_days SET events = events + 11 WHERE customer_id = 'c-p01' AND day = '2026-12-01'",
    )
    .expect("late detections");
    refresh_week(&f);
    let c = seen(&f, "c-p00", &period(TODAY, TODAY), 10).expect("shown");
    assert_eq!(c.days[0].average, Tenths(66));
}

#[test]
fn no_other_companys_figures_can_be_told_by_choosing_periods_or_functions() {
    // Moving detections from one of the others to another, on any day, changes nothing
    // the viewer can see for any period it may choose: what it sees is the others' sums.
    let seen_all = |f: &Fixture| {
        let days = week();
        let mut all = Vec::new();
        for (i, from) in days.iter().enumerate() {
            for to in &days[i..] {
                let p = period(&from.to_string(), &to.to_string());
                all.push(seen(f, "c-p00", &p, 10));
            }
        }
        all
    };
    let f = cohort(10);
    refresh_week(&f);
    let before = seen_all(&f);
    f.db.execute_script(
        "UPDATE threat_tier_days SET events = events - 3 WHERE customer_id = 'c-p05' AND day = '2026-11-28';
         UPDATE threat_tier_days SET events = events + 3 WHERE customer_id = 'c-p02' AND day = '2026-11-28';",
    )
    .expect("moves detections");
    refresh_week(&f);
    let after = seen_all(&f);
    assert_eq!(before.len(), 28);
    assert!(before.iter().all(Result::is_ok));
    assert_eq!(before, after);
}

#[test]
fn a_period_is_covered_once_every_day_has_its_figures() {
    let f = cohort(10);
    let week = period("2026-11-25", TODAY);
    assert!(!block_on(covered(&f.db, &week)).expect("reads"));
    refresh_week(&f);
    assert!(block_on(covered(&f.db, &week)).expect("reads"));
}

#[test]
fn the_days_a_tick_refreshes_are_today_yesterday_and_the_missing_newest_first() {
    let f = cohort(0);
    let first = today() - TimeDelta::days(89);
    let due_now = block_on(due(&f.db, &tick(), today(), first)).expect("reads");
    assert_eq!(due_now.len(), 2 + MISSING_PER_TICK);
    assert_eq!(
        due_now[..3],
        [
            today(),
            today() - TimeDelta::days(1),
            today() - TimeDelta::days(2)
        ]
    );
    for day in &due_now {
        block_on(refresh(
            &f.db,
            std::slice::from_ref(&f.db),
            &tick(),
            *day,
            now(),
        ))
        .expect("refreshes");
    }
    let next = block_on(due(&f.db, &tick(), today(), first)).expect("reads");
    assert_eq!(
        next[2],
        today() - TimeDelta::days(2 + MISSING_PER_TICK as i64)
    );
}

#[test]
fn the_page_reads_walk_primary_keys_and_the_refresh_passes_each_appliance_once() {
    let f = cohort(3);
    let t = tenant(&f, "c-p00");
    let p = period("2026-11-25", TODAY);
    for q in [
        peer_days_query(&p),
        own_query(&t, &p),
        totals_query(today()),
        function_sums_query(today()),
        member_functions_query(today()),
    ] {
        let plan = f.db.plan(&q).expect("plans");
        assert!(
            !plan.iter().any(|l| l.starts_with("SCAN ")),
            "{}: {plan:?}",
            q.sql()
        );
    }
    let plan = f.db.plan(&members_query(today())).expect("plans");
    let scans: Vec<&String> = plan.iter().filter(|l| l.starts_with("SCAN ")).collect();
    assert_eq!(scans.len(), 1, "{plan:?}");
    assert!(scans[0].starts_with("SCAN d"), "{plan:?}");
}
