//! The problems page against the portal data set: what waits for the admin, in order;
//! 対応しました only by the customer's own accounts and for its own incidents.

use domain::handling::Note;
use domain::report::Function;
use domain::severity::Severity;

use super::*;
use crate::sample::portal::{now, portal, tenant};
use crate::testing::{Fixture, block_on};

fn accounts(f: &Fixture) {
    f.db.execute_script(
        "INSERT INTO accounts (id, role, customer_id, email, login_id, password_hash, created_at) VALUES
           ('acc-a1', 'customer', 'c-a1', 'admin@a1.example.jp', 'a1admin', 'h', 0),
           ('acc-b1', 'customer', 'c-b1', 'admin@b1.example.jp', 'b1admin', 'h', 0);",
    )
    .expect("accounts");
}

fn open_of(f: &Fixture, customer: &str) -> Vec<Problem> {
    block_on(open(&f.db, &tenant(f, customer), 50)).expect("reads")
}

fn id_of(f: &Fixture, customer: &str, host: &str) -> i64 {
    crate::sample::count(
        f,
        &format!(
            "SELECT max(id) AS n FROM incidents WHERE customer_id = '{customer}' AND host = '{host}'"
        ),
    )
}

fn note(s: &str) -> Note {
    Note::parse(s).expect("a valid note")
}

/// `account` marks incident `id` as customer `customer`'s admin, with `text`.
fn mark(f: &Fixture, customer: &str, account: &str, id: i64, text: &str) -> Marked {
    block_on(mark_handled(
        &f.db,
        &tenant(f, customer),
        account,
        id,
        &note(text),
        now(),
    ))
    .expect("answers")
}

#[test]
fn the_open_problems_are_the_urgent_tiers_most_urgent_first_then_latest() {
    let f = portal();
    let open = open_of(&f, "c-a1");
    let seen: Vec<(Severity, Option<&str>, String)> = open
        .iter()
        .map(|p| {
            (
                p.incident.severity,
                p.host_ip.as_deref(),
                p.incident.line.last_seen.format("%m-%d").to_string(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (Severity::High, Some("192.168.1.23"), "12-01".into()),
            (Severity::High, Some("192.168.1.23"), "11-30".into()),
            (Severity::Medium, Some("192.168.1.40"), "12-01".into()),
            (
                Severity::Investigating,
                Some("192.168.1.41"),
                "12-01".into()
            ),
        ],
        "no ★☆☆ scan waits for the admin"
    );
    let stopped = &open[2];
    assert_eq!(stopped.function, Function::Antivirus);
    assert_eq!(stopped.rule, "malware-file-stopped");
    assert_eq!(stopped.host_mac.as_deref(), Some("00:11:22:33:44:55"));
    assert_eq!(stopped.incident.line.appliance, "本社");
    assert_eq!(stopped.incident.line.file.as_deref(), Some("x.exe"));
    assert_eq!(stopped.guidance, Severity::Medium.guidance());
    assert!(!stopped.incident.line.reason.is_empty());
    assert!(open[3].guidance.contains("調査"));
    assert!(open.iter().all(|p| p.handled.is_none()));
    assert_eq!(open_of(&f, "c-a2").len(), 1);
}

#[test]
fn a_handled_incident_leaves_the_open_list_for_the_handled_one_with_who_when_and_why() {
    let f = portal();
    accounts(&f);
    let a1 = tenant(&f, "c-a1");
    let id = id_of(&f, "c-a1", "192.168.1.40");
    let marked = mark(
        &f,
        "c-a1",
        "acc-a1",
        id,
        "フルスキャンを実行し、問題はありませんでした",
    );
    assert_eq!(marked, Marked::Marked);
    let open = open_of(&f, "c-a1");
    assert_eq!(open.len(), 3);
    assert!(open.iter().all(|p| p.incident.id != id));
    let done = block_on(handled(&f.db, &a1, 50)).expect("reads");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].incident.id, id);
    assert_eq!(
        done[0].handled,
        Some(Handled {
            at: now(),
            by: "acc-a1".into(),
            by_email: Some("admin@a1.example.jp".into()),
            note: "フルスキャンを実行し、問題はありませんでした".into(),
        })
    );
    // The first record stands.
    let again = mark(&f, "c-a1", "acc-a1", id, "二度目");
    assert_eq!(again, Marked::AlreadyHandled);
    let done = block_on(handled(&f.db, &a1, 50)).expect("reads");
    assert_eq!(
        done[0].handled.as_ref().map(|h| h.note.as_str()),
        Some("フルスキャンを実行し、問題はありませんでした")
    );
}

#[test]
fn another_customers_incident_cannot_be_marked() {
    let f = portal();
    accounts(&f);
    let b1_incident = id_of(&f, "c-b1", "192.168.2.9");
    let marked = mark(&f, "c-a1", "acc-a1", b1_incident, "");
    assert_eq!(marked, Marked::NotFound);
    assert_eq!(open_of(&f, "c-b1").len(), 1);
}

#[test]
fn another_customers_account_cannot_mark_this_customers_incident() {
    let f = portal();
    accounts(&f);
    let a1_incident = id_of(&f, "c-a1", "192.168.1.40");
    let marked = mark(&f, "c-a1", "acc-b1", a1_incident, "");
    assert_eq!(marked, Marked::NotFound);
    // Nor a staff account, nor a disabled one of the customer.
    f.db.execute_script("UPDATE accounts SET disabled = 1 WHERE id = 'acc-a1'")
        .expect("disables");
    let disabled = mark(&f, "c-a1", "acc-a1", a1_incident, "");
    assert_eq!(disabled, Marked::NotFound);
    assert_eq!(open_of(&f, "c-a1").len(), 4);
}

#[test]
fn the_problem_reads_and_the_mark_walk_indexes() {
    let f = portal();
    let t = tenant(&f, "c-a1");
    for q in [
        open_query(&t, 50),
        handled_query(&t, 50),
        mark_query(&t, "acc-a1", 1, &note("x"), now()),
        marked_query(&t, "acc-a1", 1),
    ] {
        let plan = f.db.plan(&q).expect("plans");
        for table in ["incidents", "threats", "devices", "customers", "accounts"] {
            assert!(
                !plan.iter().any(|l| l.starts_with(&format!("SCAN {table}"))),
                "{}: {plan:?}",
                q.sql()
            );
        }
    }
    let open = f.db.plan(&open_query(&t, 50)).expect("plans").join("\n");
    assert!(open.contains("incidents_unhandled"), "{open}");
    assert!(!open.contains("TEMP B-TREE"), "{open}");
    let done = f.db.plan(&handled_query(&t, 50)).expect("plans").join("\n");
    assert!(done.contains("incidents_handled"), "{done}");
    assert!(!done.contains("TEMP B-TREE"), "{done}");
}
