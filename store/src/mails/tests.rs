//! The send queue: attempts recorded, retries due, nothing sent twice.

use super::*;
use crate::sample::{at, count};
use crate::testing::{block_on, fixture};

fn outgoing(id: &str, customer: &str) -> Outgoing {
    Outgoing {
        id: id.into(),
        owner: crate::Owner::trusted(customer),
        kind: Kind::from(Notice::WentDown),
        mail: Mail {
            subject: "件名".into(),
            text: "本文".into(),
            html: "<p>本文</p>".into(),
        },
    }
}

fn due_ids(f: &crate::testing::Fixture, now: DateTime<Utc>, limit: usize) -> Vec<String> {
    block_on(due(&f.db, &crate::cron::tick(), now, limit))
        .expect("reads")
        .into_iter()
        .map(|q| q.id)
        .collect()
}

#[test]
fn due_mails_are_read_a_page_at_a_time_and_a_pages_attempts_recorded_at_once() {
    let f = fixture();
    f.db.execute_script("INSERT INTO alert_recipients VALUES ('c-a1', 1, 'a@example.jp');")
        .expect("recipients");
    let now = at("2026-12-01T10:00:00Z");
    for (i, id) in ["ml_1", "ml_2", "ml_3"].into_iter().enumerate() {
        let queued_at = now - chrono::TimeDelta::minutes(3 - i as i64);
        block_on(f.db.run(queue(&outgoing(id, "c-a1"), queued_at))).expect("queues");
    }
    let page = block_on(due(&f.db, &crate::cron::tick(), now, 2)).expect("reads");
    assert_eq!(
        page.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(),
        ["ml_1", "ml_2"]
    );
    assert_eq!(page[0].subject.as_deref(), Some("件名"));
    let later = at("2026-12-01T10:05:00Z");
    let attempts = [
        Attempt::Sent {
            id: "ml_1".into(),
            attempts: 1,
        },
        Attempt::Failed {
            id: "ml_2".into(),
            attempts: 1,
            next: later,
            error: "mail API answered HTTP 500".into(),
        },
    ];
    block_on(record(&f.db, &attempts, now)).expect("records");
    assert_eq!(due_ids(&f, now, 2), ["ml_3"]);
    assert_eq!(
        due_ids(&f, later, 2),
        ["ml_3", "ml_2"],
        "by the time of their next attempt"
    );
    assert_eq!(
        count(&f, "SELECT count(*) AS n FROM mails WHERE status = 'sent'"),
        1
    );
}

#[test]
fn a_queued_mail_is_retried_when_due_and_sent_once() {
    let f = fixture();
    f.db.execute_script("INSERT INTO alert_recipients VALUES ('c-a1', 2, 'b@example.jp'), ('c-a1', 1, 'a@example.jp');")
        .expect("recipients");
    let now = at("2026-12-01T10:00:00Z");
    block_on(f.db.run(queue(&outgoing("ml_1", "c-a1"), now))).expect("queues");
    let q = block_on(queued(&f.db, "ml_1"))
        .expect("reads")
        .expect("queued");
    assert_eq!(q.recipients(), ["a@example.jp", "b@example.jp"]);
    assert_eq!((q.attempts, q.unwritten_alert()), (0, false));
    assert_eq!(due_ids(&f, now, 50), ["ml_1"]);
    let later = at("2026-12-01T10:05:00Z");
    let failed = Attempt::Failed {
        id: "ml_1".into(),
        attempts: 1,
        next: later,
        error: "mail API answered HTTP 500".into(),
    };
    block_on(record(&f.db, &[failed], now)).expect("records");
    assert!(due_ids(&f, now, 50).is_empty());
    assert_eq!(due_ids(&f, later, 50), ["ml_1"]);
    let sent = Attempt::Sent {
        id: "ml_1".into(),
        attempts: 2,
    };
    block_on(record(&f.db, std::slice::from_ref(&sent), later)).expect("records");
    block_on(record(&f.db, &[sent], later)).expect("a second record changes nothing");
    assert_eq!(block_on(queued(&f.db, "ml_1")).expect("reads"), None);
    assert_eq!(
        count(
            &f,
            "SELECT attempts AS n FROM mails WHERE status = 'sent' AND last_error IS NULL"
        ),
        2
    );
    let plan = f.db.plan(&due_query(now, 50)).expect("plans").join("\n");
    assert!(plan.contains("mails_due"), "{plan}");
}

#[test]
fn a_mail_without_recipients_fails_and_texts_are_written_later() {
    let f = fixture();
    let now = at("2026-12-01T10:00:00Z");
    block_on(f.db.run(queue(&outgoing("ml_2", "c-b1"), now))).expect("queues");
    assert!(
        block_on(queued(&f.db, "ml_2"))
            .expect("reads")
            .expect("queued")
            .recipients()
            .is_empty()
    );
    let texts = Mail {
        subject: "新".into(),
        text: "t".into(),
        html: "h".into(),
    };
    block_on(write(&f.db, "ml_2", &texts)).expect("writes");
    let q = block_on(queued(&f.db, "ml_2"))
        .expect("reads")
        .expect("queued");
    assert_eq!(q.subject.as_deref(), Some("新"));
    block_on(no_recipients(&f.db, "ml_2")).expect("records");
    assert_eq!(block_on(queued(&f.db, "ml_2")).expect("reads"), None);
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM mails WHERE status = 'failed'"
        ),
        1
    );
}
