//! 月次レポート against the portal data set (`sample::portal`): c-a1's November (本社's
//! two C2 beacons from 192.168.1.23 and a scan of 192.168.1.10 on 11-30) and December so
//! far, as of 2026-12-01 19:00 in Tokyo.

use domain::mail::Mail;
use domain::severity::Severity;

use super::*;
use crate::mails::Kind;
use crate::sample::count;
use crate::sample::portal::{now, portal, tenant};
use crate::testing::{Fixture, block_on};

fn month(s: &str) -> Month {
    Month::parse(s).expect("a month")
}

fn making() -> Making {
    Making {
        now: now(),
        today: domain::period::today(now()),
        min_companies: 10,
        tops: true,
    }
}

fn made(f: &Fixture, customer: &str, m: &str) -> Report {
    block_on(report(
        &f.db,
        &f.db,
        &tenant(f, customer),
        month(m),
        making(),
    ))
    .expect("reads")
    .expect("a month begun")
}

fn mail(f: &Fixture, id: &str) -> Outgoing {
    Outgoing {
        id: id.into(),
        owner: tenant(f, "c-a1").owner(),
        kind: Kind::MonthlyReport,
        mail: Mail {
            subject: "月次レポート".into(),
            text: "t".into(),
            html: "h".into(),
        },
    }
}

#[test]
fn a_closed_month_has_its_counts_its_open_problem_and_its_top_threats_and_hosts() {
    let f = portal();
    let nov = made(&f, "c-a1", "2026-11");
    assert!(nov.closed);
    assert_eq!(nov.detections(), 3);
    assert_eq!(nov.by_tier[0], (Severity::High, 2));
    assert_eq!(nov.problems_open, 1);
    assert_eq!(nov.headline(), "対応が必要な問題が残っています");
    assert_eq!(
        nov.top_threats,
        [
            Ranked {
                name: "ET MALWARE Win32/Emotet CnC Beacon".into(),
                count: 2
            },
            Ranked {
                name: "ET SCAN Suspicious inbound to port 22".into(),
                count: 1
            },
        ]
    );
    assert_eq!(
        nov.top_hosts[0],
        Ranked {
            name: "192.168.1.23".into(),
            count: 2
        }
    );
    assert_eq!(nov.days.len(), 30);
    assert_eq!(nov.appliances.len(), 2);
    assert_eq!(nov.peers, None, "one company is no cohort");
}

#[test]
fn the_month_so_far_has_no_top_lists_and_a_month_not_begun_no_report() {
    let f = portal();
    let dec = made(&f, "c-a1", "2026-12");
    assert!(!dec.closed);
    assert!(dec.top_threats.is_empty());
    assert_eq!(dec.days.len(), 1);
    let january = block_on(report(
        &f.db,
        &f.db,
        &tenant(&f, "c-a1"),
        month("2027-01"),
        making(),
    ))
    .expect("reads");
    assert_eq!(january, None);
}

#[test]
fn a_month_without_detections_still_has_its_report() {
    let f = portal();
    let oct = made(&f, "c-b1", "2026-10");
    assert_eq!(oct.detections(), 0);
    assert_eq!(oct.headline(), "この月の検知はありませんでした");
}

#[test]
fn a_report_is_kept_and_mailed_once_and_then_no_longer_due() {
    let f = portal();
    let nov = made(&f, "c-a1", "2026-11");
    let cron = crate::cron::tick();
    let due_ids = |f: &Fixture| -> Vec<String> {
        block_on(due(&f.db, &cron, month("2026-11"), 10))
            .expect("reads")
            .iter()
            .map(|t| t.id().to_owned())
            .collect()
    };
    assert_eq!(due_ids(&f), ["c-a1", "c-a2", "c-b1"]);
    // A customer that came in December has no November report.
    f.db.execute_script(&format!(
        "INSERT INTO customers (id, name, service_start, created_at) VALUES ('c-new', '新規', '2026-11-01', {});",
        month("2026-11").end().timestamp_millis()
    ))
    .expect("a new customer");
    assert!(!due_ids(&f).contains(&"c-new".to_owned()));
    assert!(
        block_on(save(
            &f.db,
            &tenant(&f, "c-a1"),
            &nov,
            &mail(&f, "ml_m1"),
            now()
        ))
        .expect("saves")
    );
    // A second tick that made it again keeps the first and mails nothing more.
    assert!(
        !block_on(save(
            &f.db,
            &tenant(&f, "c-a1"),
            &nov,
            &mail(&f, "ml_m2"),
            now()
        ))
        .expect("saves")
    );
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM mails WHERE kind = 'monthly_report'"
        ),
        1
    );
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM mails WHERE id = 'ml_m1' AND status = 'queued'"
        ),
        1
    );
    assert_eq!(due_ids(&f), ["c-a2", "c-b1"]);
    let kept_nov = block_on(kept(&f.db, &tenant(&f, "c-a1"), month("2026-11"))).expect("reads");
    assert_eq!(kept_nov, Some(nov));
    assert_eq!(
        block_on(kept_months(&f.db, &tenant(&f, "c-a1"))).expect("reads"),
        [month("2026-11")]
    );
    assert_eq!(
        block_on(kept(&f.db, &tenant(&f, "c-a2"), month("2026-11"))).expect("reads"),
        None
    );
}

#[test]
fn every_read_walks_an_index() {
    let f = portal();
    let t = tenant(&f, "c-a1");
    let nov = month("2026-11");
    for q in [
        tops_query(&t, nov, "name"),
        tops_query(&t, nov, "host"),
        counts_query(&t, nov),
    ] {
        let plan = f.db.plan(&q).expect("plans");
        assert!(
            !plan
                .iter()
                // A constant row and the few grouped rows of a subquery are no table scan.
                .any(|l| l.starts_with("SCAN ")
                    && l != "SCAN CONSTANT ROW"
                    && !l.starts_with("SCAN (subquery")),
            "{}: {plan:?}",
            q.sql()
        );
    }
}
