//! The mail history against mails queued, sent, retried and given up through the store's
//! own send queue: every mail of the customer once across pages, newest first, with its
//! recipients and delivery, never another customer's, along `mails_by_customer`.
//!
//! `c-a1` (recipients it1@, it2@): at 09:00 an alert, sent at once; at 09:10 an appliance
//! down notice, failed once and to be retried at 09:15; at 09:30 a recovery notice, not
//! tried yet, and an investigation report queued the same millisecond, sent; at 09:40 an
//! alert given up. `c-b1` (no recipients): one alert at 09:20.

use std::collections::HashSet;

use domain::mail::Mail;

use super::*;
use crate::Owner;
use crate::mails::{self, Attempt, Outgoing};
use crate::sample::at;
use crate::sample::portal::tenant;
use crate::testing::{Fixture, block_on, fixture};

fn queue(f: &Fixture, id: &str, customer: &str, kind: Kind, when: &str) {
    let out = Outgoing {
        id: id.into(),
        owner: Owner::trusted(customer),
        kind,
        mail: Mail {
            subject: format!("【みまもり】{id}"),
            text: "本文".into(),
            html: "<p>本文</p>".into(),
        },
    };
    block_on(f.db.run(mails::queue(&out, at(when)))).expect("queues");
}

/// The mails of the module doc.
fn mailed() -> Fixture {
    let f = fixture();
    f.db.execute_script(
        "INSERT INTO alert_recipients VALUES ('c-a1', 1, 'it1@example.jp'), ('c-a1', 2, 'it2@example.jp');",
    )
    .expect("recipients");
    queue(&f, "ml_1", "c-a1", Kind::Alert, "2026-12-01T00:00:00Z");
    queue(
        &f,
        "ml_2",
        "c-a1",
        Kind::ApplianceDown,
        "2026-12-01T00:10:00Z",
    );
    queue(&f, "ml_b", "c-b1", Kind::Alert, "2026-12-01T00:20:00Z");
    queue(
        &f,
        "ml_3",
        "c-a1",
        Kind::ApplianceRecovered,
        "2026-12-01T00:30:00Z",
    );
    queue(
        &f,
        "ml_4",
        "c-a1",
        Kind::Investigation,
        "2026-12-01T00:30:00Z",
    );
    queue(&f, "ml_5", "c-a1", Kind::Alert, "2026-12-01T00:40:00Z");
    let sent = |id: &str| Attempt::Sent {
        id: id.into(),
        attempts: 1,
    };
    let retry = Attempt::Failed {
        id: "ml_2".into(),
        attempts: 1,
        next: at("2026-12-01T00:15:00Z"),
        error: "mail API answered HTTP 500".into(),
    };
    block_on(mails::record(
        &f.db,
        &[sent("ml_1"), retry],
        at("2026-12-01T00:10:05Z"),
    ))
    .expect("records");
    block_on(mails::record(
        &f.db,
        &[sent("ml_4")],
        at("2026-12-01T00:30:05Z"),
    ))
    .expect("records");
    block_on(mails::no_recipients(&f.db, "ml_5")).expect("gives up");
    f
}

/// Every page for `customer`, `size` mails a page: the ids in order.
fn walk(f: &Fixture, customer: &str, size: u32) -> Vec<String> {
    let t = tenant(f, customer);
    let (mut ids, mut start, mut pages) = (Vec::new(), Start::Newest, 0);
    loop {
        let p = block_on(page(&f.db, &t, start, size)).expect("reads");
        assert!(p.mails.len() <= size as usize);
        ids.extend(p.mails.iter().map(|m| m.id.clone()));
        pages += 1;
        assert!(pages < 100, "pages end");
        match p.next {
            Some(c) => start = Start::After(c),
            None => return ids,
        }
    }
}

#[test]
fn every_mail_of_the_customer_comes_once_newest_first_whatever_the_page_size() {
    let f = mailed();
    for size in [1, 2, 3, 5, 50] {
        assert_eq!(
            walk(&f, "c-a1", size),
            ["ml_5", "ml_4", "ml_3", "ml_2", "ml_1"],
            "page size {size}"
        );
    }
    let first = block_on(page(&f.db, &tenant(&f, "c-a1"), Start::Newest, 2)).expect("reads");
    assert_eq!(first.mails.len(), 2);
    assert_eq!(
        first.next.map(|c| c.at()),
        Some(at("2026-12-01T00:30:00Z")),
        "the cursor is the last row's"
    );
}

#[test]
fn each_mail_shows_when_what_to_whom_and_whether_it_was_delivered_or_is_retried() {
    let f = mailed();
    let p = block_on(page(&f.db, &tenant(&f, "c-a1"), Start::Newest, 50)).expect("reads");
    let by_id = |id: &str| p.mails.iter().find(|m| m.id == id).expect("listed");
    let alert = by_id("ml_1");
    assert_eq!(alert.kind, Kind::Alert);
    assert_eq!(alert.subject.as_deref(), Some("【みまもり】ml_1"));
    assert_eq!(alert.recipients, ["it1@example.jp", "it2@example.jp"]);
    assert_eq!(
        (
            alert.status,
            alert.attempts,
            alert.created_at,
            alert.sent_at,
            alert.retry_at
        ),
        (
            Delivery::Sent,
            1,
            at("2026-12-01T00:00:00Z"),
            Some(at("2026-12-01T00:10:05Z")),
            None
        )
    );
    let down = by_id("ml_2");
    assert_eq!(down.kind, Kind::ApplianceDown);
    assert_eq!(
        (down.status, down.attempts, down.sent_at, down.retry_at),
        (Delivery::Queued, 1, None, Some(at("2026-12-01T00:15:00Z")))
    );
    let recovered = by_id("ml_3");
    assert_eq!(
        (recovered.kind, recovered.status, recovered.attempts),
        (Kind::ApplianceRecovered, Delivery::Queued, 0)
    );
    assert_eq!(by_id("ml_4").kind, Kind::Investigation);
    assert_eq!(by_id("ml_4").status, Delivery::Sent);
    assert_eq!(by_id("ml_5").status, Delivery::Failed);
    assert_eq!(by_id("ml_5").retry_at, None);
}

#[test]
fn another_customers_mails_never_come_back() {
    let f = mailed();
    let a1: HashSet<String> = walk(&f, "c-a1", 2).into_iter().collect();
    assert!(!a1.contains("ml_b"));
    let b1 = block_on(page(&f.db, &tenant(&f, "c-b1"), Start::Newest, 50)).expect("reads");
    assert_eq!(b1.mails.len(), 1);
    assert_eq!(b1.mails[0].id, "ml_b");
    assert!(b1.mails[0].recipients.is_empty(), "queued to nobody");
    assert!(walk(&f, "c-a2", 2).is_empty());
    // A cursor taken from c-a1's list does not reach into c-b1's mails.
    let cursor = Cursor::new(at("2026-12-01T01:00:00Z"), i64::MAX);
    let after =
        block_on(page(&f.db, &tenant(&f, "c-b1"), Start::After(cursor), 50)).expect("reads");
    assert_eq!(after.mails.len(), 1);
}

#[test]
fn the_history_walks_the_customers_mail_index_in_order() {
    let f = mailed();
    let t = tenant(&f, "c-a1");
    let cursor = Cursor::new(at("2026-12-01T00:30:00Z"), 4);
    for q in [
        page_query(&t, Start::Newest, 11),
        page_query(&t, Start::After(cursor), 11),
    ] {
        let plan = f.db.plan(&q).expect("plans").join("\n");
        assert!(
            !plan.lines().any(|l| l.starts_with("SCAN ")),
            "{}\n{plan}",
            q.sql()
        );
        assert!(
            plan.contains("SEARCH mails USING INDEX mails_by_customer"),
            "{plan}"
        );
        assert!(
            !plan.contains("TEMP B-TREE"),
            "newest first along the index: {plan}"
        );
    }
}
