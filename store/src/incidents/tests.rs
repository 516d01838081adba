//! Incidents are reached through a scope or a mail's claim only.

use domain::access::Scope;
use domain::severity::Severity;

use super::*;
use crate::sample::{EARLIER_TIME, NOW_TIME, beacon, reporter, send};
use crate::testing::{block_on, fixture};

#[test]
fn an_incident_of_another_customer_is_like_one_that_does_not_exist() {
    let f = fixture();
    let b = reporter(&f, "d0000000b001");
    send(
        &f,
        &b,
        "r-1",
        vec![beacon("e-1", EARLIER_TIME, "192.168.1.23")],
        NOW_TIME,
        1,
    )
    .expect("stores");
    let reseller_a = Access::granted(Scope::Reseller("r-a".into()));
    let reseller_b = Access::granted(Scope::Reseller("r-b".into()));
    let customer_a1 = Access::granted(Scope::Customer("c-a1".into()));
    assert_eq!(
        block_on(visible(&f.db, &reseller_a, 1)).expect("reads"),
        None
    );
    assert_eq!(
        block_on(visible(&f.db, &customer_a1, 1)).expect("reads"),
        None
    );
    let seen = block_on(visible(&f.db, &reseller_b, 1))
        .expect("reads")
        .expect("visible");
    assert_eq!(seen.owner.id(), "c-b1");
    assert_eq!(seen.company, "B1株式会社");
    assert_eq!(seen.severity, Severity::High);
    assert_eq!(seen.line.host.as_deref(), Some("192.168.1.23"));
    assert_eq!(seen.line.appliance, "本社");
    assert_eq!(seen.line.count, 1);
    assert!(!seen.line.reason.is_empty());
}

#[test]
fn a_mails_lines_are_found_by_its_claim_through_an_index() {
    let f = fixture();
    let plan = f.db.plan(&of_mail_query("ml_x")).expect("plans").join("\n");
    assert!(plan.contains("notifications_by_mail"), "{plan}");
    assert!(!plan.contains("SCAN incidents"), "{plan}");
}
