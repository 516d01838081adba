//! Tokens, registration, enrollment and the lists, against the real schema.

use domain::access::Scope;
use domain::admission::{Code, Standing};

use super::*;
use crate::sample::{at, count};
use crate::testing::{Fixture, block_on, fixture};
use crate::{Access, access};

fn tenant(f: &Fixture, id: &str) -> Tenant {
    block_on(access::customer(
        &f.db,
        &Access::granted(Scope::Operator),
        id,
    ))
    .expect("reads")
    .expect("exists")
}

fn id(s: &str) -> DeviceId {
    DeviceId::parse(s).expect("a device id")
}

#[test]
fn a_tenant_lists_its_own_appliances_only() {
    let f = fixture();
    let a1 = tenant(&f, "c-a1");
    let listed = block_on(list(&f.db, &a1)).expect("reads");
    let ids: Vec<&str> = listed.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["d0000000a001"]);
    let b1 = tenant(&f, "c-b1");
    let listed = block_on(list(&f.db, &b1)).expect("reads");
    assert!(listed.iter().all(|d| d.id == "d0000000b001"));
    let plan = f.db.plan(&list_query(&a1)).expect("plans").join("\n");
    assert!(plan.contains("devices_by_customer"), "{plan}");
}

#[test]
fn a_token_resolves_to_its_appliance_with_its_standing_and_bucket() {
    let f = fixture();
    f.db.execute_script(
        "INSERT INTO device_tokens (token_hash, device_id, issued_at, revoked_at) VALUES
           ('h-live', 'd0000000a001', 0, NULL), ('h-old', 'd0000000a001', 0, 3);
         UPDATE devices SET disabled = 1, rate_tokens = 2.5, rate_at = 1000 WHERE id = 'd0000000a001';",
    )
    .expect("tokens");
    let found = block_on(by_token(&f.db, "h-live"))
        .expect("reads")
        .expect("live");
    assert_eq!(found.reporter.device_id(), "d0000000a001");
    assert_eq!(found.reporter.owner().id(), "c-a1");
    assert_eq!(
        found.standing,
        Standing {
            disabled: true,
            contract_ended: false
        }
    );
    assert_eq!(
        found.bucket.map(|b| (b.tokens, b.at.timestamp_millis())),
        Some((2.5, 1000))
    );
    assert_eq!(block_on(by_token(&f.db, "h-old")).expect("reads"), None);
    assert_eq!(block_on(by_token(&f.db, "h-none")).expect("reads"), None);
    let plan =
        f.db.plan(&by_token_query("h-live"))
            .expect("plans")
            .join("\n");
    assert!(!plan.contains("SCAN "), "{plan}");
}

#[test]
fn registering_another_customers_device_id_is_refused_and_issues_no_code() {
    let f = fixture();
    let a1 = tenant(&f, "c-a1");
    let now = at("2026-12-01T00:00:00Z");
    let code = NewCode {
        code_hash: "code-1",
        expires_at: at("2026-12-31T00:00:00Z"),
    };
    let taken = block_on(register(
        &f.db,
        &a1,
        &id("d0000000b001"),
        "盗む",
        &code,
        now,
    ))
    .expect("runs");
    assert_eq!(taken, Registered::Taken);
    assert_eq!(count(&f, "SELECT count(*) AS n FROM enrollment_codes"), 0);
    assert_eq!(
        count(&f, "SELECT count(*) AS n FROM devices WHERE name = '盗む'"),
        0
    );
    let issued = block_on(register(
        &f.db,
        &a1,
        &id("d0000000a001"),
        "新本社",
        &code,
        now,
    ))
    .expect("runs");
    assert_eq!(issued, Registered::Issued);
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM devices WHERE name = '新本社' AND customer_id = 'c-a1'"
        ),
        1
    );
    let fresh = NewCode {
        code_hash: "code-2",
        ..code
    };
    let new = block_on(register(
        &f.db,
        &a1,
        &id("0e0000000009"),
        "支店",
        &fresh,
        now,
    ))
    .expect("runs");
    assert_eq!(new, Registered::Issued);
    assert_eq!(count(&f, "SELECT count(*) AS n FROM enrollment_codes"), 2);
}

#[test]
fn a_new_code_voids_the_earlier_unused_codes_of_that_device_only() {
    let f = fixture();
    let now = at("2026-12-02T00:00:00Z");
    let a1 = tenant(&f, "c-a1");
    let device = id("d0000000a001");
    let code = |hash| NewCode {
        code_hash: hash,
        expires_at: now + chrono::TimeDelta::days(30),
    };
    for hash in ["slip-1", "slip-2"] {
        let issued = block_on(register(&f.db, &a1, &device, "本社", &code(hash), now));
        assert_eq!(issued.expect("runs"), Registered::Issued);
    }
    assert!(
        block_on(enrollment_code(&f.db, "slip-1", &device))
            .expect("reads")
            .is_none()
    );
    assert!(
        block_on(enrollment_code(&f.db, "slip-2", &device))
            .expect("reads")
            .is_some()
    );
    // Another appliance's code and a used code of this one stay.
    let branch = id("0e0000000009");
    block_on(register(
        &f.db,
        &a1,
        &branch,
        "支店",
        &code("branch-1"),
        now,
    ))
    .expect("runs");
    let details = Details::default();
    assert!(block_on(enroll(&f.db, "slip-2", "h-1", &device, &details, now)).expect("runs"));
    block_on(register(&f.db, &a1, &device, "本社", &code("slip-3"), now)).expect("runs");
    let (used, _) = block_on(enrollment_code(&f.db, "slip-2", &device))
        .expect("reads")
        .expect("the used code is kept");
    assert!(used.used);
    assert!(
        block_on(enrollment_code(&f.db, "branch-1", &branch))
            .expect("reads")
            .is_some()
    );
}

#[test]
fn an_enrollment_code_is_read_for_its_own_device_only() {
    let f = fixture();
    let a1 = tenant(&f, "c-a1");
    let expires_at = at("2026-12-31T00:00:00Z");
    let code = NewCode {
        code_hash: "code-1",
        expires_at,
    };
    block_on(register(
        &f.db,
        &a1,
        &id("d0000000a001"),
        "本社",
        &code,
        at("2026-12-01T00:00:00Z"),
    ))
    .expect("registers");
    let found = block_on(enrollment_code(&f.db, "code-1", &id("d0000000a001"))).expect("reads");
    assert_eq!(
        found,
        Some((
            Code {
                expires_at,
                used: false
            },
            Standing {
                disabled: false,
                contract_ended: false
            }
        ))
    );
    assert_eq!(
        block_on(enrollment_code(&f.db, "code-1", &id("d0000000a002"))).expect("reads"),
        None
    );
}

#[test]
fn a_code_is_exchanged_once_and_the_loser_of_a_race_gets_no_token() {
    let f = fixture();
    let a1 = tenant(&f, "c-a1");
    let device = id("d0000000a001");
    let code = NewCode {
        code_hash: "code-1",
        expires_at: at("2026-12-31T00:00:00Z"),
    };
    block_on(register(
        &f.db,
        &a1,
        &device,
        "本社",
        &code,
        at("2026-12-01T00:00:00Z"),
    ))
    .expect("registers");
    f.db.execute_script("INSERT INTO device_tokens (token_hash, device_id, issued_at) VALUES ('h-earlier', 'd0000000a001', 0);")
        .expect("earlier token");
    let details = Details {
        model: Some("UTM-100"),
        firmware: None,
    };
    let now = at("2026-12-02T00:00:00Z");
    // Both read the code as unused; both try to exchange it.
    let first = block_on(enroll(&f.db, "code-1", "h-first", &device, &details, now)).expect("runs");
    let second =
        block_on(enroll(&f.db, "code-1", "h-second", &device, &details, now)).expect("runs");
    assert_eq!((first, second), (true, false));
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM device_tokens WHERE revoked_at IS NULL"
        ),
        1
    );
    assert!(
        block_on(by_token(&f.db, "h-first"))
            .expect("reads")
            .is_some()
    );
    assert!(
        block_on(by_token(&f.db, "h-second"))
            .expect("reads")
            .is_none()
    );
    // Enrolling revoked the device's earlier token.
    assert!(
        block_on(by_token(&f.db, "h-earlier"))
            .expect("reads")
            .is_none()
    );
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM devices WHERE model = 'UTM-100'"
        ),
        1
    );
    let (code, _) = block_on(enrollment_code(&f.db, "code-1", &device))
        .expect("reads")
        .expect("there");
    assert!(code.used);
}

#[test]
fn the_sweep_counts_the_fleet_and_its_offline_appliances_in_one_query() {
    let f = fixture();
    f.db.execute_script(
        "UPDATE devices SET last_seen_at = 42 WHERE id = 'd0000000b001';
         UPDATE devices SET last_seen_at = 41 WHERE id = 'd0000000a001';",
    )
    .expect("seen");
    let cron = crate::cron::tick();
    let count = |before: i64| {
        let before = chrono::DateTime::from_timestamp_millis(before).expect("a time");
        block_on(fleet(&f.db, &cron, before)).expect("reads")
    };
    // a002 never reported: offline whatever the bound.
    assert_eq!(
        count(42),
        Fleet {
            devices: 3,
            offline: 2
        }
    );
    assert_eq!(
        count(41),
        Fleet {
            devices: 3,
            offline: 1
        }
    );
    assert_eq!(
        count(43),
        Fleet {
            devices: 3,
            offline: 3
        }
    );
}

#[test]
fn a_code_tells_the_standing_of_its_appliance_for_admission() {
    let f = fixture();
    let b1 = tenant(&f, "c-b1");
    let device = id("d0000000b001");
    let code = NewCode {
        code_hash: "code-b",
        expires_at: at("2026-12-31T00:00:00Z"),
    };
    block_on(register(
        &f.db,
        &b1,
        &device,
        "本社",
        &code,
        at("2026-12-01T00:00:00Z"),
    ))
    .expect("registers");
    f.db.execute_script(
        "UPDATE customers SET contract_ended_at = 5 WHERE id = 'c-b1';
         UPDATE devices SET disabled = 1 WHERE id = 'd0000000b001';",
    )
    .expect("stopped");
    let (code, standing) = block_on(enrollment_code(&f.db, "code-b", &device))
        .expect("reads")
        .expect("issued");
    assert_eq!(
        domain::admission::redeem(code, standing, at("2026-12-02T00:00:00Z")),
        Err(domain::admission::Refusal::ContractEnded)
    );
}
