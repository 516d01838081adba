use super::*;
use crate::testing::{Fixture, block_on, fixture};

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("in range")
}

/// The fixture's resellers and customers with an operator (`a-op`, login `op`), a
/// reseller's staff member (`a-ra`, `desk-a`) and a customer admin (`a-c1`, `Admin-A1`).
pub(crate) fn with_accounts() -> Fixture {
    let f = fixture();
    f.db.execute_script(
        "INSERT INTO accounts (id, role, reseller_id, customer_id, email, login_id, password_hash, created_at) VALUES
           ('a-op', 'operator', NULL, NULL, 'op@example.jp', 'op', 'x', 0),
           ('a-ra', 'reseller', 'r-a', NULL, 'ra@example.jp', 'desk-a', 'x', 0),
           ('a-c1', 'customer', NULL, 'c-a1', 'c1@example.jp', 'Admin-A1', 'x', 0);",
    )
    .expect("accounts");
    f
}

fn login(f: &Fixture, login_id: &str) -> Option<String> {
    block_on(usable_by_login_id(&f.db, login_id))
        .expect("reads")
        .map(|a| a.id)
}

#[test]
fn a_login_id_is_found_in_any_case() {
    let f = with_accounts();
    assert_eq!(login(&f, "admin-a1").as_deref(), Some("a-c1"));
    assert_eq!(login(&f, "ADMIN-A1").as_deref(), Some("a-c1"));
    assert_eq!(login(&f, "desk-a").as_deref(), Some("a-ra"));
    assert_eq!(login(&f, "nobody"), None);
    assert_eq!(login(&f, ""), None);
}

#[test]
fn a_disabled_account_or_an_ended_contract_does_not_sign_in() {
    let f = with_accounts();
    f.db.execute_script("UPDATE accounts SET disabled = 1 WHERE id = 'a-ra'")
        .expect("disables");
    f.db.execute_script("UPDATE customers SET contract_ended_at = 1 WHERE id = 'c-a1'")
        .expect("ends");
    assert_eq!(login(&f, "desk-a"), None);
    assert_eq!(login(&f, "admin-a1"), None);
    assert_eq!(login(&f, "op").as_deref(), Some("a-op"));
    assert!(
        block_on(usable_by_id(&f.db, "a-ra"))
            .expect("reads")
            .is_none()
    );
    let managed = block_on(by_id(&f.db, "a-ra"))
        .expect("reads")
        .expect("kept");
    assert_eq!(managed.scope(), Some(Scope::Reseller("r-a".into())));
}

#[test]
fn an_issued_account_signs_in_with_its_temporary_password_first() {
    let f = with_accounts();
    let scope = Scope::Customer("c-b1".into());
    let new = NewAccount {
        id: "a-new",
        scope: &scope,
        email: "new@example.jp",
        login_id: "tmp-abc",
        password_hash: "h",
        temp_expires_at: at(9_000),
    };
    block_on(f.db.run(issue(&new, at(1)))).expect("issues");
    let row = block_on(usable_by_login_id(&f.db, "tmp-abc"))
        .expect("reads")
        .expect("found");
    assert_eq!(row.scope().as_ref(), Some(&scope));
    assert_eq!(row.temp_expires_at, Some(at(9_000)));
    assert_eq!(row.stage_after_password(), Stage::Setup);
    assert!(
        block_on(f.db.run(issue(&new, at(2)))).is_err(),
        "ids are unique"
    );
    block_on(f.db.run(withdraw("a-new"))).expect("withdraws");
    assert_eq!(login(&f, "tmp-abc"), None);
}

#[test]
fn own_credentials_replace_temporary_ones_once_and_never_take_a_used_id() {
    let f = with_accounts();
    f.db.execute_script("UPDATE accounts SET temp_expires_at = 100 WHERE id IN ('a-c1', 'a-ra')")
        .expect("temporary");
    let run = |q| block_on(f.db.run(q)).expect("runs");
    assert_eq!(
        run(set_own_credentials("a-c1", "OP", "h2", at(5))),
        0,
        "taken, in any case"
    );
    assert_eq!(run(set_own_credentials("a-c1", "mine", "h2", at(5))), 1);
    assert_eq!(
        run(set_own_credentials("a-c1", "mine2", "h3", at(6))),
        0,
        "done already"
    );
    let row = block_on(by_id(&f.db, "a-c1"))
        .expect("reads")
        .expect("kept");
    assert_eq!(
        (row.login_id.as_str(), row.password_hash.as_str()),
        ("mine", "h2")
    );
    assert_eq!(row.temp_expires_at, None);
    assert_eq!(row.stage_after_password(), Stage::Choose);
}

#[test]
fn a_failed_reset_puts_the_old_password_back_with_its_expiry() {
    let f = with_accounts();
    f.db.execute_script("UPDATE accounts SET temp_expires_at = 100 WHERE id = 'a-ra'")
        .expect("temporary");
    let before = block_on(by_id(&f.db, "a-ra"))
        .expect("reads")
        .expect("kept");
    let operator = crate::Access::granted(domain::access::Scope::Operator);
    let m = block_on(crate::managed::managed(&f.db, &operator, "a-ra"))
        .expect("reads")
        .expect("managed");
    block_on(f.db.run(crate::managed::set_temporary_password(&m, "new", at(999)))).expect("resets");
    block_on(f.db.run(crate::managed::restore_password(&m))).expect("restores");
    let after = block_on(by_id(&f.db, "a-ra"))
        .expect("reads")
        .expect("kept");
    assert_eq!(after, before);
    assert_eq!(
        block_on(f.db.run(rehash("a-ra", "not-the-hash", "h9"))).expect("runs"),
        0
    );
}

#[test]
fn enabling_and_clearing_second_factors() {
    let f = with_accounts();
    let run = |q| block_on(f.db.run(q)).expect("runs");
    let row = || {
        block_on(by_id(&f.db, "a-c1"))
            .expect("reads")
            .expect("kept")
    };
    run(set_pending_totp("a-c1", "sealed", at(3)));
    assert_eq!(row().totp_pending_at, Some(at(3)));
    assert_eq!(
        run(enable_totp("a-c1", 10, "other")),
        0,
        "replaced meanwhile"
    );
    assert_eq!(run(enable_totp("a-c1", 10, "sealed")), 1);
    let enabled = row();
    assert_eq!(enabled.second_factor, Some(SecondFactor::Totp));
    assert_eq!(enabled.totp_secret.as_deref(), Some("sealed"));
    assert_eq!(enabled.stage_after_password(), Stage::Verify);
    assert_eq!(run(use_totp_step("a-c1", 10)), 0, "a code is good once");
    assert_eq!(run(use_totp_step("a-c1", 11)), 1);
    run(set_pending_phone("a-c1", "+8190"));
    run(enable_sms("a-c1", "+8190"));
    let sms = row();
    assert_eq!(sms.second_factor, Some(SecondFactor::Sms));
    assert_eq!((sms.totp_secret, sms.sms_pending_phone), (None, None));
    block_on(f.db.batch(choose_no_factor("a-c1"))).expect("clears");
    assert_eq!(row().second_factor, Some(SecondFactor::None));
    assert_eq!(row().stage_after_password(), Stage::Full);
    let operator = crate::Access::granted(domain::access::Scope::Operator);
    let m = block_on(crate::managed::managed(&f.db, &operator, "a-c1"))
        .expect("reads")
        .expect("managed");
    block_on(f.db.batch(crate::managed::reset_second_factor(&m))).expect("resets");
    assert_eq!(row().second_factor, None);
    assert_eq!(row().sms_phone, None);
}

#[test]
fn finding_an_account_by_login_id_uses_its_unique_index() {
    let f = with_accounts();
    let plan =
        f.db.plan(&by_login_id_query("x"))
            .expect("plans")
            .join("\n");
    assert!(plan.contains("SEARCH a USING INDEX"), "{plan}");
    assert!(!plan.contains("SCAN a"), "{plan}");
}
