use chrono::TimeDelta;

use super::*;
use crate::testing::{block_on, fixture};

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("in range")
}

fn with_accounts() -> crate::testing::Fixture {
    let f = fixture();
    f.db.execute_script(
        "INSERT INTO accounts (id, role, reseller_id, customer_id, email, login_id, password_hash, created_at) VALUES
           ('a-op', 'operator', NULL, NULL, 'op@example.jp', 'op', 'x', 0),
           ('a-ra', 'reseller', 'r-a', NULL, 'ra@example.jp', 'desk-a', 'x', 0),
           ('a-c1', 'customer', NULL, 'c-a1', 'c1@example.jp', 'admin-a1', 'x', 0);",
    )
    .expect("accounts");
    f
}

fn open(f: &crate::testing::Fixture, id: &str, account: &str, stage: Stage, now: DateTime<Utc>) {
    let origin = Origin::default();
    let new = New {
        id_hash: id,
        account,
        stage,
        signed_in: now,
        authenticated: now,
        origin: &origin,
        reveal: None,
    };
    block_on(f.db.run(start(&new, now, now + TimeDelta::hours(1)))).expect("starts");
}

#[test]
fn a_live_session_resolves_to_its_account_and_scope() {
    let f = with_accounts();
    open(&f, "s1", "a-ra", Stage::Full, at(1_000));
    let caller = block_on(current(&f.db, "s1", Stage::Full, at(2_000)))
        .expect("reads")
        .expect("live");
    assert_eq!(caller.login_id, "desk-a");
    assert_eq!(caller.scope(), &Scope::Reseller("r-a".into()));
    assert_eq!(caller.authenticated_at, at(1_000));
}

#[test]
fn a_customer_admins_session_carries_the_company_it_shows() {
    let f = with_accounts();
    open(&f, "s1", "a-c1", Stage::Full, at(1_000));
    open(&f, "s2", "a-ra", Stage::Full, at(1_000));
    let admin = block_on(current(&f.db, "s1", Stage::Full, at(2_000)))
        .expect("reads")
        .expect("live");
    let read = block_on(crate::access::customer(&f.db, admin.access(), "c-a1"))
        .expect("reads")
        .expect("visible");
    assert_eq!(admin.own_tenant(), Some(&read));
    let staff = block_on(current(&f.db, "s2", Stage::Full, at(2_000)))
        .expect("reads")
        .expect("live");
    assert_eq!(staff.own_tenant(), None);
}

#[test]
fn another_stage_an_expiry_or_a_revocation_is_no_session() {
    let f = with_accounts();
    open(&f, "s1", "a-c1", Stage::Verify, at(0));
    assert!(
        block_on(current(&f.db, "s1", Stage::Full, at(1)))
            .expect("reads")
            .is_none()
    );
    assert!(
        block_on(current(&f.db, "s1", Stage::Verify, at(3_600_001)))
            .expect("reads")
            .is_none()
    );
    block_on(f.db.run(revoke("s1", at(5)))).expect("revokes");
    assert!(
        block_on(current(&f.db, "s1", Stage::Verify, at(6)))
            .expect("reads")
            .is_none()
    );
}

#[test]
fn an_ended_contract_or_a_disabled_account_ends_its_sessions() {
    let f = with_accounts();
    open(&f, "s1", "a-c1", Stage::Full, at(0));
    open(&f, "s2", "a-ra", Stage::Full, at(0));
    f.db.execute_script("UPDATE customers SET contract_ended_at = 1 WHERE id = 'c-a1'")
        .expect("ends");
    f.db.execute_script("UPDATE accounts SET disabled = 1 WHERE id = 'a-ra'")
        .expect("disables");
    assert!(
        block_on(current(&f.db, "s1", Stage::Full, at(1)))
            .expect("reads")
            .is_none()
    );
    assert!(
        block_on(current(&f.db, "s2", Stage::Full, at(1)))
            .expect("reads")
            .is_none()
    );
}

#[test]
fn revoking_the_others_keeps_the_one_making_the_change() {
    let f = with_accounts();
    for id in ["s1", "s2", "s3"] {
        open(&f, id, "a-op", Stage::Full, at(0));
    }
    open(&f, "s4", "a-ra", Stage::Full, at(0));
    let changed = block_on(f.db.run(revoke_others("a-op", "s2", at(1)))).expect("revokes");
    assert_eq!(changed, 2);
    let live = |id| {
        block_on(current(&f.db, id, Stage::Full, at(2)))
            .expect("reads")
            .is_some()
    };
    assert_eq!(
        [live("s1"), live("s2"), live("s3"), live("s4")],
        [false, true, false, true]
    );
    assert_eq!(
        block_on(f.db.run(revoke_all("a-op", at(3)))).expect("revokes"),
        1
    );
}

#[test]
fn a_confirmed_password_moves_the_authentication_time() {
    let f = with_accounts();
    open(&f, "s1", "a-op", Stage::Full, at(1_000));
    block_on(f.db.run(reauthenticated("s1", at(50_000)))).expect("records");
    let caller = block_on(current(&f.db, "s1", Stage::Full, at(60_000)))
        .expect("reads")
        .expect("live");
    assert_eq!(caller.authenticated_at, at(50_000));
    block_on(f.db.run(renew("s1", at(60_000), at(10_000_000)))).expect("renews");
    assert!(
        block_on(current(&f.db, "s1", Stage::Full, at(9_000_000)))
            .expect("reads")
            .is_some()
    );
}

#[test]
fn cleanup_drops_what_ended_a_day_ago_and_keeps_the_rest() {
    let f = with_accounts();
    open(&f, "old", "a-op", Stage::Full, at(0));
    open(&f, "new", "a-op", Stage::Full, at(0));
    block_on(f.db.run(revoke("old", at(1)))).expect("revokes");
    let now = at(1) + TimeDelta::days(1) + TimeDelta::milliseconds(1);
    let touched = block_on(cleanup(&f.db, now, 400)).expect("cleans");
    assert!(touched >= 1);
    #[derive(Deserialize)]
    struct Id {
        id_hash: String,
    }
    let left: Vec<Id> =
        block_on(f.db.all(Query::new("SELECT id_hash FROM sessions"))).expect("reads");
    assert_eq!(
        left.iter().map(|i| i.id_hash.as_str()).collect::<Vec<_>>(),
        ["new"]
    );
}

#[test]
fn resolving_a_session_reads_by_primary_key() {
    let f = with_accounts();
    let plan =
        f.db.plan(&current_query("x", at(0)))
            .expect("plans")
            .join("\n");
    assert!(plan.contains("SEARCH s USING"), "{plan}");
    assert!(!plan.contains("SCAN s"), "{plan}");
}

#[test]
fn a_session_counts_its_codes_up_to_the_limit() {
    let f = with_accounts();
    open(&f, "s1", "a-c1", Stage::Verify, at(0));
    for n in 1..=domain::session::MAX_CODE_FAILURES {
        assert_eq!(block_on(count_code(&f.db, "s1")).expect("counts"), Some(n));
    }
    assert_eq!(block_on(count_code(&f.db, "s1")).expect("counts"), None);
    open(&f, "s2", "a-c1", Stage::Verify, at(0));
    block_on(f.db.run(revoke("s2", at(1)))).expect("revokes");
    assert_eq!(block_on(count_code(&f.db, "s2")).expect("counts"), None);
}

#[test]
fn the_account_page_lists_only_live_signed_in_sessions_of_its_account() {
    let f = with_accounts();
    open(&f, "old", "a-op", Stage::Full, at(0));
    open(&f, "new", "a-op", Stage::Full, at(10));
    open(&f, "pending", "a-op", Stage::Verify, at(10));
    open(&f, "ended", "a-op", Stage::Full, at(10));
    open(&f, "theirs", "a-ra", Stage::Full, at(10));
    block_on(f.db.run(revoke("ended", at(11)))).expect("revokes");
    let listed = block_on(signed_in(&f.db, "a-op", at(20))).expect("lists");
    let ids: Vec<&str> = listed.iter().map(|s| s.id_hash.as_str()).collect();
    assert_eq!(ids, ["new", "old"]);
    assert_eq!(listed[0].last_seen_at, at(10));
}

#[test]
fn recovery_codes_are_revealed_once() {
    let f = with_accounts();
    let origin = Origin::default();
    let new = New {
        id_hash: "s1",
        account: "a-c1",
        stage: Stage::Full,
        signed_in: at(0),
        authenticated: at(0),
        origin: &origin,
        reveal: Some("[\"a\",\"b\"]"),
    };
    block_on(f.db.run(start(&new, at(0), at(100_000)))).expect("starts");
    assert_eq!(
        block_on(take_reveal(&f.db, "s1"))
            .expect("takes")
            .as_deref(),
        Some("[\"a\",\"b\"]")
    );
    assert_eq!(block_on(take_reveal(&f.db, "s1")).expect("takes"), None);
    assert_eq!(block_on(take_reveal(&f.db, "nobody")).expect("takes"), None);
}

#[test]
fn a_caller_carries_the_chosen_second_factor() {
    let f = with_accounts();
    f.db.execute_script(
        "UPDATE accounts SET second_factor = 'sms', sms_phone = '+8190' WHERE id = 'a-c1'",
    )
    .expect("sets");
    open(&f, "s1", "a-c1", Stage::Verify, at(0));
    let caller = block_on(current(&f.db, "s1", Stage::Verify, at(1)))
        .expect("reads")
        .expect("live");
    assert_eq!(caller.second_factor, Some(SecondFactor::Sms));
    assert_eq!(caller.sms_phone.as_deref(), Some("+8190"));
}

#[test]
fn a_new_id_for_the_same_sign_in_keeps_its_start_and_password_time() {
    let f = with_accounts();
    let origin = Origin::default();
    let new = New {
        id_hash: "s2",
        account: "a-c1",
        stage: Stage::Full,
        signed_in: at(1_000),
        authenticated: at(2_000),
        origin: &origin,
        reveal: None,
    };
    block_on(f.db.run(start(&new, at(9_000), at(100_000)))).expect("starts");
    let caller = block_on(current(&f.db, "s2", Stage::Full, at(9_500)))
        .expect("reads")
        .expect("live");
    assert_eq!(
        caller.created_at,
        at(1_000),
        "the sign-in's start, not the new id's"
    );
    assert_eq!(caller.authenticated_at, at(2_000));
    let listed = block_on(signed_in(&f.db, "a-c1", at(9_500))).expect("lists");
    assert_eq!(listed[0].last_seen_at, at(9_000));
}
