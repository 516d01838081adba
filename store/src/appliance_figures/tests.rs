//! 自社UTM同士を比べる against the portal data set (`sample::portal`): c-a1's 本社 and 支店
//! over 11-30..12-01, one customer at a time, along primary keys.

use chrono::NaiveDate;

use super::*;
use crate::sample::portal::{now, portal, tenant};
use crate::testing::{Fixture, block_on};

fn period() -> Period {
    let today: NaiveDate = "2026-12-01".parse().expect("a date");
    Period::parse(Some("2026-11-30"), Some("2026-12-01"), today, 90).expect("a period")
}

fn read(f: &Fixture, customer: &str) -> Vec<Figures> {
    block_on(figures(&f.db, &tenant(f, customer), &period(), now())).expect("reads")
}

fn day(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

#[test]
fn each_appliance_has_its_own_days_tiers_and_functions() {
    let f = portal();
    // By name: 支店 sorts before 本社.
    let [shiten, honsha] = &read(&f, "c-a1")[..] else {
        panic!("two appliances")
    };
    assert_eq!(
        (honsha.name.as_str(), shiten.name.as_str()),
        ("本社", "支店")
    );
    assert_eq!(
        honsha.days,
        [(day("2026-11-30"), 3), (day("2026-12-01"), 5)]
    );
    assert_eq!(
        shiten.days,
        [(day("2026-11-30"), 0), (day("2026-12-01"), 1)]
    );
    assert_eq!(honsha.detections() + shiten.detections(), 9);
    assert_eq!(shiten.by_function, [(Function::Ips, 1)]);
    assert_eq!(shiten.by_tier.len(), 4);
}

#[test]
fn the_online_share_counts_the_hours_with_reports() {
    let f = portal();
    let all = read(&f, "c-a1");
    // 44 hours from 11-30 00:00 in Tokyo to 20:00 on 12-01 (the hour under way counts);
    // 本社 reported in two of them, 支店 in one.
    assert_eq!(all[1].online_percent, Some(5));
    assert_eq!(all[0].online_percent, Some(2));
}

#[test]
fn another_customers_appliances_are_not_listed() {
    let f = portal();
    let a2 = read(&f, "c-a2");
    assert_eq!(a2.len(), 1);
    assert_eq!(a2[0].id, "d0000000a002");
    assert_eq!(a2[0].detections(), 1);
}

#[test]
fn every_read_walks_an_index() {
    let f = portal();
    let t = tenant(&f, "c-a1");
    for q in [per_day_query(&t, &period()), hours_query(&t, &period())] {
        let plan = f.db.plan(&q).expect("plans");
        assert!(
            !plan.iter().any(|l| l.starts_with("SCAN ")),
            "{}: {plan:?}",
            q.sql()
        );
    }
}
