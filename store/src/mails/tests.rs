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
    let cron = crate::cron::tick();
    assert_eq!(block_on(due(&f.db, &cron, now)).expect("reads"), ["ml_1"]);
    let later = at("2026-12-01T10:05:00Z");
    block_on(retry_at(
        &f.db,
        "ml_1",
        1,
        later,
        "mail API answered HTTP 500",
    ))
    .expect("records");
    assert!(block_on(due(&f.db, &cron, now)).expect("reads").is_empty());
    assert_eq!(block_on(due(&f.db, &cron, later)).expect("reads"), ["ml_1"]);
    block_on(sent(&f.db, "ml_1", 2, later)).expect("records");
    assert_eq!(block_on(queued(&f.db, "ml_1")).expect("reads"), None);
    assert_eq!(
        count(
            &f,
            "SELECT attempts AS n FROM mails WHERE status = 'sent' AND last_error IS NULL"
        ),
        2
    );
    let plan = f.db.plan(&due_query(now)).expect("plans").join("\n");
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
