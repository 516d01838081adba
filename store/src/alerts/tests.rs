//! The alert list and detail against the portal data set: one customer at a time, every
//! row once across pages, each filter, and an index for every filter combination.

use std::collections::HashSet;

use chrono::NaiveDate;
use domain::device::DeviceId;
use domain::page::Cursor;
use domain::period::Period;
use domain::report::{Action, Function};
use domain::severity::{RuleSet, Severity};

use super::*;
use crate::sample::count;
use crate::sample::portal::{portal, tenant};
use crate::testing::{Fixture, block_on};

fn period(from: &str, to: &str) -> Period {
    let today: NaiveDate = "2026-12-01".parse().expect("a date");
    Period::parse(Some(from), Some(to), today, 90).expect("a period")
}

fn all() -> Filter {
    Filter {
        period: period("2026-11-25", "2026-12-01"),
        severity: None,
        function: None,
        device: None,
        host: None,
        action: None,
    }
}

/// Every page of `filter` for `customer`, `size` rows a page: the ids in order.
fn walk(f: &Fixture, customer: &str, filter: &Filter, size: u32) -> Vec<i64> {
    let t = tenant(f, customer);
    let (mut ids, mut start, mut pages) = (Vec::new(), Start::Newest, 0);
    loop {
        let p = block_on(page(&f.db, &t, filter, start, size)).expect("reads");
        assert!(p.alerts.len() <= size as usize);
        ids.extend(p.alerts.iter().map(|a| a.id));
        pages += 1;
        assert!(pages < 100, "pages end");
        match p.next {
            Some(c) => start = Start::After(c),
            None => return ids,
        }
    }
}

fn ids_where(f: &Fixture, condition: &str) -> HashSet<i64> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: i64,
    }
    let rows: Vec<Id> = block_on(f.db.all(Query::new(format!(
        "SELECT id FROM threats WHERE {condition}"
    ))))
    .expect("reads");
    rows.into_iter().map(|r| r.id).collect()
}

#[test]
fn paging_returns_every_row_of_the_customer_once_newest_first() {
    let f = portal();
    let expected = ids_where(&f, "customer_id = 'c-a1'");
    assert_eq!(expected.len(), 8);
    for size in [1, 2, 3, 8, 50] {
        let ids = walk(&f, "c-a1", &all(), size);
        assert_eq!(ids.len(), expected.len(), "page size {size}");
        assert_eq!(ids.iter().copied().collect::<HashSet<_>>(), expected);
    }
    let t = tenant(&f, "c-a1");
    let first = block_on(page(&f.db, &t, &all(), Start::Newest, 50)).expect("reads");
    let order: Vec<(DateTime<Utc>, i64)> = first.alerts.iter().map(|a| (a.last_at, a.id)).collect();
    let mut sorted = order.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(order, sorted);
    assert_eq!(first.next, None);
}

#[test]
fn repeats_are_one_row_with_their_count() {
    let f = portal();
    let high = Filter {
        severity: Some(Severity::High),
        period: period("2026-11-30", "2026-11-30"),
        ..all()
    };
    let p = block_on(page(&f.db, &tenant(&f, "c-a1"), &high, Start::Newest, 10)).expect("reads");
    assert_eq!(p.alerts.len(), 1);
    assert_eq!(p.alerts[0].count, 2);
    assert_eq!(p.alerts[0].host, "192.168.1.23");
    assert_eq!(p.alerts[0].appliance, "本社");
}

#[test]
fn each_filter_keeps_only_its_rows() {
    let f = portal();
    let device = |s: &str| Some(DeviceId::parse(s).expect("an id"));
    let cases: Vec<(Filter, &str)> = vec![
        (
            Filter {
                severity: Some(Severity::High),
                ..all()
            },
            "severity = 'high'",
        ),
        (
            Filter {
                severity: Some(Severity::Investigating),
                ..all()
            },
            "severity = 'investigating'",
        ),
        (
            Filter {
                function: Some(Function::Antivirus),
                ..all()
            },
            "function = 'antivirus'",
        ),
        (
            Filter {
                device: device("d0000000a011"),
                ..all()
            },
            "device_id = 'd0000000a011'",
        ),
        (
            Filter {
                host: Some("192.168.1.40".into()),
                ..all()
            },
            "host = '192.168.1.40'",
        ),
        (
            Filter {
                action: Some(Action::Blocked),
                ..all()
            },
            "action = 'blocked'",
        ),
        (
            Filter {
                severity: Some(Severity::Low),
                device: device("d0000000a001"),
                ..all()
            },
            "severity = 'low' AND device_id = 'd0000000a001'",
        ),
        (
            Filter {
                period: period("2026-12-01", "2026-12-01"),
                action: Some(Action::Detected),
                ..all()
            },
            "action = 'detected' AND day = '2026-12-01'",
        ),
        (
            Filter {
                period: period("2026-11-30", "2026-11-30"),
                ..all()
            },
            "day = '2026-11-30'",
        ),
        // Another customer's appliance filters everything out.
        (
            Filter {
                device: device("d0000000b001"),
                ..all()
            },
            "0",
        ),
    ];
    for (filter, condition) in cases {
        let expected = ids_where(&f, &format!("customer_id = 'c-a1' AND {condition}"));
        let got: HashSet<i64> = walk(&f, "c-a1", &filter, 2).into_iter().collect();
        assert_eq!(got, expected, "{condition}");
    }
    assert_eq!(
        ids_where(
            &f,
            "customer_id = 'c-a1' AND severity = 'low' AND device_id = 'd0000000a001'"
        )
        .len(),
        3,
        "the data set has rows for the combined filter"
    );
}

#[test]
fn another_customers_alert_is_like_one_that_does_not_exist() {
    let f = portal();
    let b1 = count(
        &f,
        "SELECT max(id) AS n FROM threats WHERE customer_id = 'c-b1'",
    );
    assert_eq!(
        block_on(detail(&f.db, &tenant(&f, "c-a1"), b1)).expect("reads"),
        None
    );
    assert!(
        block_on(detail(&f.db, &tenant(&f, "c-b1"), b1))
            .expect("reads")
            .is_some()
    );
    assert_eq!(
        block_on(detail(&f.db, &tenant(&f, "c-a1"), 999_999)).expect("reads"),
        None
    );
    let listed: HashSet<i64> = walk(&f, "c-a2", &all(), 5).into_iter().collect();
    assert_eq!(listed, ids_where(&f, "customer_id = 'c-a2'"));
}

#[test]
fn the_detail_has_every_field_the_rule_its_incident_and_the_mails_about_it() {
    let f = portal();
    let a1 = tenant(&f, "c-a1");
    let id = count(
        &f,
        "SELECT id AS n FROM threats WHERE host = '192.168.1.40'",
    );
    let d = block_on(detail(&f.db, &a1, id))
        .expect("reads")
        .expect("found");
    assert_eq!(d.alert.function, Function::Antivirus);
    assert_eq!(d.alert.action, Action::Blocked);
    assert_eq!(d.alert.severity, Severity::Medium);
    assert_eq!(d.alert.rule, "malware-file-stopped");
    assert_eq!(d.alert.src_mac.as_deref(), Some("00:11:22:33:44:55"));
    assert_eq!(d.alert.url.as_deref(), Some("http://bad.example/x.exe"));
    assert_eq!(d.alert.file_name.as_deref(), Some("x.exe"));
    assert_eq!(d.alert.dst_port, Some(80));
    assert_eq!(d.alert.first_event_id, "a-7");
    assert_eq!(d.reason, RuleSet::current().reason("malware-file-stopped"));
    assert_eq!(d.guidance, Severity::Medium.guidance());
    let incident = d.incident.expect("its incident");
    assert_eq!(incident.severity, Severity::Medium);
    assert_eq!(incident.handled_at, None);
    assert_eq!(
        incident.id,
        count(
            &f,
            "SELECT id AS n FROM incidents WHERE host = '192.168.1.40'"
        )
    );
    assert!(d.mails.is_empty(), "not mailed yet");
    f.db.execute_script(&format!(
        "INSERT INTO mails (id, customer_id, kind, recipients, subject, status, next_attempt_at, created_at, sent_at)
           VALUES ('ml_1', 'c-a1', 'alert', '[]', '【★★☆】検知のお知らせ', 'sent', 0, 1764583300000, 1764583310000);
         UPDATE notifications SET mail_id = 'ml_1' WHERE incident_id = {};",
        incident.id
    ))
    .expect("mailed");
    let d = block_on(detail(&f.db, &a1, id))
        .expect("reads")
        .expect("found");
    assert_eq!(d.mails.len(), 1);
    assert_eq!(d.mails[0].status, "sent");
    assert_eq!(d.mails[0].subject.as_deref(), Some("【★★☆】検知のお知らせ"));
    assert_eq!(d.mails[0].sent_at, crate::time::from_ms(1_764_583_310_000));
}

#[test]
fn a_beacon_of_yesterday_belongs_to_yesterdays_incident_not_todays() {
    let f = portal();
    let a1 = tenant(&f, "c-a1");
    let (old, new) = (
        count(
            &f,
            "SELECT min(id) AS n FROM threats WHERE host = '192.168.1.23'",
        ),
        count(
            &f,
            "SELECT max(id) AS n FROM threats WHERE host = '192.168.1.23'",
        ),
    );
    let incident = |id| {
        block_on(detail(&f.db, &a1, id))
            .expect("reads")
            .and_then(|d| d.incident)
            .map(|i| (i.count, i.first_at.format("%m-%d").to_string()))
    };
    assert_eq!(incident(old), Some((2, "11-30".to_owned())));
    assert_eq!(incident(new), Some((1, "12-01".to_owned())));
}

#[test]
fn every_filter_combination_walks_an_index_in_page_order() {
    let f = portal();
    let t = tenant(&f, "c-a1");
    let cursor = Cursor::parse("1764583140000.5").expect("a cursor");
    for bits in 0..32u32 {
        let on = |i: u32| bits & (1 << i) != 0;
        let filter = Filter {
            severity: on(0).then_some(Severity::High),
            function: on(1).then_some(Function::Ips),
            device: on(2).then(|| DeviceId::parse("d0000000a001").expect("an id")),
            host: on(3).then(|| "192.168.1.23".to_owned()),
            action: on(4).then_some(Action::Detected),
            ..all()
        };
        for start in [Start::Newest, Start::After(cursor)] {
            let q = page_query(&t, &filter, start, 51);
            let plan = f.db.plan(&q).expect("plans");
            assert!(
                plan.iter()
                    .any(|l| l.starts_with("SEARCH t USING INDEX threats_by")),
                "{bits:05b}: {plan:?}"
            );
            assert!(
                !plan
                    .iter()
                    .any(|l| l.starts_with("SCAN") || l.contains("TEMP B-TREE")),
                "{bits:05b}: {plan:?}"
            );
        }
    }
    // A later page starts its walk at the cursor: the range's upper end is just past it.
    let (_, args) = page_query(&t, &all(), Start::After(cursor), 51)
        .numbered()
        .expect("bound");
    assert!(
        args.contains(&crate::Arg::Int(1_764_583_140_001)),
        "{args:?}"
    );
    for q in [
        alert_query(&t, 1),
        incident_query(&t, 1),
        mails_query(&t, 1),
        of_incident_query(&t, 1),
    ] {
        let plan = f.db.plan(&q).expect("plans");
        assert!(
            !plan.iter().any(|l| l.starts_with("SCAN")),
            "{}: {plan:?}",
            q.sql()
        );
    }
}

#[test]
fn a_mails_incident_leads_to_its_latest_detection_of_its_own_customer_only() {
    let f = portal();
    let a1 = tenant(&f, "c-a1");
    let incident = count(
        &f,
        "SELECT max(id) AS n FROM incidents WHERE host = '192.168.1.23'",
    );
    let latest = count(
        &f,
        "SELECT max(id) AS n FROM threats WHERE host = '192.168.1.23'",
    );
    assert_eq!(
        block_on(of_incident(&f.db, &a1, incident)).expect("reads"),
        Some(latest)
    );
    let a2 = tenant(&f, "c-a2");
    assert_eq!(
        block_on(of_incident(&f.db, &a2, incident)).expect("reads"),
        None
    );
    assert_eq!(
        block_on(of_incident(&f.db, &a1, 999_999)).expect("reads"),
        None
    );
}
