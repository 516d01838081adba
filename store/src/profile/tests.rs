use domain::profile::parse_patch;

use super::*;
use crate::testing::{block_on, fixture};
use crate::{Access, access};
use domain::access::Scope;

fn tenant(f: &crate::testing::Fixture, id: &str) -> Tenant {
    block_on(access::customer(
        &f.db,
        &Access::granted(Scope::Operator),
        id,
    ))
    .expect("reads")
    .expect("exists")
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("in range")
}

#[test]
fn a_record_reads_the_customer_its_recipients_in_order_and_its_appliances() {
    let f = fixture();
    f.db.execute_script(
        "INSERT INTO alert_recipients VALUES ('c-a1', 2, 'b@example.jp'), ('c-a1', 1, 'a@example.jp'),
           ('c-a2', 1, 'other@example.jp');
         INSERT INTO devices (id, customer_id, name, disabled, last_seen_at, created_at)
           VALUES ('d0000000a009', 'c-a1', '支店', 1, 5000, 0);",
    )
    .expect("rows");
    let r = block_on(read(&f.db, &tenant(&f, "c-a1"))).expect("reads");
    assert_eq!(r.profile.name, "A1株式会社");
    assert_eq!(r.profile.alert_recipients, ["a@example.jp", "b@example.jp"]);
    assert_eq!(r.reseller_id.as_deref(), Some("r-a"));
    assert_eq!(r.service_start.to_string(), "2026-01-01");
    // By name: 支店 sorts before 本社.
    assert_eq!(
        r.devices,
        [
            Device {
                id: "d0000000a009".into(),
                name: "支店".into(),
                disabled: true,
                last_seen_at: Some(at(5000))
            },
            Device {
                id: "d0000000a001".into(),
                name: "本社".into(),
                disabled: false,
                last_seen_at: None
            },
        ]
    );
    // No appliance, no recipient: empty lists, not an error.
    f.db.execute_script("DELETE FROM devices WHERE customer_id = 'c-b1';")
        .expect("deletes");
    let b = block_on(read(&f.db, &tenant(&f, "c-b1"))).expect("reads");
    assert!(b.devices.is_empty() && b.profile.alert_recipients.is_empty());
}

#[test]
fn a_change_replaces_the_fields_and_recipients_and_keeps_its_history() {
    let f = fixture();
    f.db.execute_script("INSERT INTO alert_recipients VALUES ('c-a1', 1, 'a@example.jp');")
        .expect("rows");
    let t = tenant(&f, "c-a1");
    let before = block_on(read(&f.db, &t)).expect("reads");
    let change = parse_patch(
        r#"{"contact": {"name": "見守 花子", "email": "hanako@example.jp"},
             "alert_recipients": ["c@example.jp", "a@example.jp"]}"#
            .as_bytes(),
    )
    .expect("valid");
    let (next, changes) = change.apply(&before.profile);
    block_on(f.db.batch(change_queries(
        &t,
        &next,
        &changes,
        By::Login("desk-a"),
        at(10),
    )))
    .expect("stores");
    let after = block_on(read(&f.db, &t)).expect("reads");
    assert_eq!(after.profile, next);
    assert_eq!(
        after.profile.alert_recipients,
        ["c@example.jp", "a@example.jp"]
    );
    let h = block_on(history(&f.db, &t, 10)).expect("reads");
    let fields: Vec<_> = h.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(
        fields,
        ["alert_recipients", "contact.email", "contact.name"]
    );
    assert_eq!(h[0].old_value, "a@example.jp");
    assert_eq!(h[0].new_value, "c@example.jp, a@example.jp");
    assert_eq!(h[0].by_login.as_deref(), Some("desk-a"));
    // Another customer's record is untouched.
    let other = block_on(read(&f.db, &tenant(&f, "c-a2"))).expect("reads");
    assert_eq!(other.profile.contact.name, "");
    assert!(
        block_on(history(&f.db, &tenant(&f, "c-a2"), 10))
            .expect("reads")
            .is_empty()
    );
    // Nothing changed: nothing to store.
    assert!(change_queries(&t, &next, &[], By::Token("tok"), at(11)).is_empty());
}
