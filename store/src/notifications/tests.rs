//! The outbox: pending per customer, claimed once, mass activity dropped, indexes walked.

use domain::noise::{self, Sorted};
use domain::outbox::mail_day_start;

use super::*;
use crate::cron;
use crate::incidents;
use crate::sample::{EARLIER_TIME, NOW_TIME, at, beacon, count, reporter, scan, send};
use crate::testing::{block_on, fixture};

#[test]
fn pending_notifications_are_read_per_customer_with_their_earliest_due_time() {
    let f = fixture();
    let a = reporter(&f, "d0000000a001");
    let b = reporter(&f, "d0000000b001");
    send(
        &f,
        &a,
        "r-1",
        vec![
            scan("e-1", EARLIER_TIME, "2010935", 1433),
            beacon("e-2", EARLIER_TIME, "192.168.1.5"),
        ],
        NOW_TIME,
        1,
    )
    .expect("stores");
    send(
        &f,
        &b,
        "r-1",
        vec![scan("e-1", EARLIER_TIME, "2010935", 1433)],
        NOW_TIME,
        2,
    )
    .expect("stores");
    let now = at(NOW_TIME);
    let mut pending = block_on(notifications::pending(
        &f.db,
        &cron::tick(),
        mail_day_start(now),
    ))
    .expect("reads")
    .pending()
    .to_vec();
    pending.sort_by(|x, y| x.customer.cmp(&y.customer));
    let got: Vec<(&str, i64, Severity, u32)> = pending
        .iter()
        .map(|p| {
            (
                p.customer.as_str(),
                (p.due_at - now).num_minutes(),
                p.most_urgent,
                p.mailed_today,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("c-a1", 0, Severity::High, 0),
            ("c-b1", 5, pending[1].most_urgent, 0)
        ]
    );
}

use crate::notifications;

/// Report `r-1` of `reporter` with one ★★★ beacon from 192.168.1.5, as batch `batch`.
fn one_beacon(f: &crate::testing::Fixture, reporter: &crate::devices::Reporter, batch: i64) {
    send(
        f,
        reporter,
        "r-1",
        vec![beacon("e-1", EARLIER_TIME, "192.168.1.5")],
        NOW_TIME,
        batch,
    )
    .expect("stores");
}

#[test]
fn a_customers_notifications_are_claimed_by_one_mail_only() {
    let f = fixture();
    f.db.execute_script("INSERT INTO alert_recipients VALUES ('c-a1', 1, 'it@example.jp');")
        .expect("recipient");
    let a = reporter(&f, "d0000000a001");
    let b = reporter(&f, "d0000000b001");
    one_beacon(&f, &a, 1);
    one_beacon(&f, &b, 2);
    let now = at(NOW_TIME);
    let owner = a.owner();
    let due = block_on(notifications::due(&f.db, &owner, now - noise::LOOKBACK)).expect("reads");
    assert_eq!(due.len(), 1);
    let sorted = noise::sort(&due);
    // Two flushes race with what they both read: the first claims, the second gets nothing.
    assert!(block_on(claim(&f.db, &owner, "ml_1", &sorted, now)).expect("claims"));
    assert!(!block_on(claim(&f.db, &owner, "ml_2", &sorted, now)).expect("runs"));
    assert_eq!(count(&f, "SELECT count(*) AS n FROM mails"), 1);
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM notifications WHERE mail_id = 'ml_1'"
        ),
        1
    );
    // B's notification was not touched by A's claim.
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM notifications WHERE customer_id = 'c-b1' AND mail_id IS NULL"
        ),
        1
    );
    let lines = block_on(incidents::of_mail(&f.db, "ml_1")).expect("reads");
    assert_eq!((lines.listed.len(), lines.more), (1, 0));
    assert_eq!(lines.listed[0].owner.id(), "c-a1");
    let queued = block_on(crate::mails::queued(&f.db, "ml_1"))
        .expect("reads")
        .expect("queued");
    assert!(queued.unwritten_alert());
    assert_eq!(queued.recipients(), ["it@example.jp"]);
}

#[test]
fn another_customers_notification_ids_are_not_claimed_or_dropped() {
    let f = fixture();
    let a = reporter(&f, "d0000000a001");
    let b = reporter(&f, "d0000000b001");
    one_beacon(&f, &b, 2);
    let b_ids: Vec<i64> = block_on(notifications::due(&f.db, &b.owner(), at(NOW_TIME)))
        .expect("reads")
        .iter()
        .map(|d| d.id)
        .collect();
    let forged = Sorted {
        mailed: b_ids.clone(),
        mass: b_ids,
    };
    assert!(!block_on(claim(&f.db, &a.owner(), "ml_x", &forged, at(NOW_TIME))).expect("runs"));
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM notifications WHERE mail_id IS NULL"
        ),
        1
    );
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM incidents WHERE notice = 'mass'"
        ),
        0
    );
}

#[test]
fn mass_notifications_are_dropped_and_their_incidents_marked() {
    let f = fixture();
    let a = reporter(&f, "d0000000a001");
    one_beacon(&f, &a, 1);
    let ids: Vec<i64> = block_on(notifications::due(&f.db, &a.owner(), at(NOW_TIME)))
        .expect("reads")
        .iter()
        .map(|d| d.id)
        .collect();
    let sorted = Sorted {
        mailed: vec![],
        mass: ids,
    };
    assert!(!block_on(claim(&f.db, &a.owner(), "ml_1", &sorted, at(NOW_TIME))).expect("runs"));
    assert_eq!(count(&f, "SELECT count(*) AS n FROM notifications"), 0);
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM incidents WHERE notice = 'mass'"
        ),
        1
    );
    assert_eq!(count(&f, "SELECT count(*) AS n FROM mails"), 0);
}

#[test]
fn the_flush_reads_walk_indexes() {
    let f = fixture();
    let owner = crate::Owner::trusted("c-a1");
    let now = at(NOW_TIME);
    let mut queries = vec![due_query(&owner, now), pending_query(now)];
    queries.extend(claim_queries(
        &owner,
        "ml_1",
        &Sorted {
            mailed: vec![1],
            mass: vec![2],
        },
        now,
    ));
    for q in queries {
        let plan = f.db.plan(&q).expect("plans").join("\n");
        for table in ["threats", "incidents", "notifications"] {
            assert!(
                !plan.lines().any(|l| l == format!("SCAN {table}")),
                "{}\n{plan}",
                q.sql()
            );
        }
    }
}

/// `n` pending ★☆☆ notifications of `c-a1`'s appliance, each of its own incident, due an
/// hour before `NOW_TIME`.
fn backlog(f: &crate::testing::Fixture, n: u32) {
    let due = at(NOW_TIME).timestamp_millis() - 3_600_000;
    f.db.execute_script(&format!(
        "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {n})
         INSERT INTO incidents (id, customer_id, device_id, sig_key, host, name, function,
           action, direction, severity_rank, rule, rules_version, first_at, last_at, count,
           batch, created_at)
         SELECT 1000000 + i, 'c-a1', 'd0000000a001', 'sig-' || i, '192.168.1.9',
           'ET POLICY noise ' || i, 'ips', 'detected', 'inbound', 2, '', 1, {due}, {due}, 1,
           9, {due} FROM k;
         INSERT INTO notifications (customer_id, incident_id, rank, due_at, created_at)
           SELECT 'c-a1', id, 2, {due}, {due} FROM incidents WHERE id > 1000000;"
    ))
    .expect("backlog");
}

#[test]
fn a_backlog_of_lower_alerts_never_holds_back_a_high_one_and_a_flush_stays_bounded() {
    let f = fixture();
    f.db.execute_script("INSERT INTO alert_recipients VALUES ('c-a1', 1, 'it@example.jp');")
        .expect("recipient");
    let a = reporter(&f, "d0000000a001");
    backlog(&f, 100_000);
    one_beacon(&f, &a, 1);
    let now = at(NOW_TIME);
    let owner = a.owner();
    let due = block_on(notifications::due(&f.db, &owner, now - noise::LOOKBACK)).expect("reads");
    assert_eq!(due.len(), noise::JUDGED_AT_MOST as usize, "a bounded read");
    let high = count(&f, "SELECT id AS n FROM notifications WHERE rank = 0");
    assert_eq!(due[0].id, high, "the ★★★ is judged first");
    let sorted = noise::sort(&due);
    assert!(block_on(claim(&f.db, &owner, "ml_1", &sorted, now)).expect("claims"));
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM notifications WHERE mail_id IS NULL"
        ),
        0,
        "one mail takes the whole backlog"
    );
    let claimed = block_on(incidents::of_mail(&f.db, "ml_1")).expect("reads");
    assert_eq!(claimed.listed.len(), domain::mail::LISTED_AT_MOST);
    assert_eq!(claimed.more, 100_001 - domain::mail::LISTED_AT_MOST);
    assert_eq!(claimed.listed[0].severity, Severity::High);
    let lines: Vec<_> = claimed.listed.iter().map(|i| i.line.clone()).collect();
    let mail = domain::mail::alert_batch("A1株式会社", &lines, claimed.more, "https://p.example");
    assert!(mail.subject.contains("★★★"), "{}", mail.subject);
    assert!(mail.text.contains("ほか99951件"), "the rest are counted");
}
