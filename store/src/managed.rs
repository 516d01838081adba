//! Another person's account, reached by staff: a [`Managed`] is the proof that the
//! caller may manage it (`domain::access::manages`: the operator anyone, a reseller its
//! own staff and its customers' admins, a company the admins of that company), and the resets of this module take
//! one. An account outside the caller's reach is `None`, like one that does not exist.

use chrono::{DateTime, Utc};
use domain::access::{Manages, Scope, manages};

use crate::accounts::{AccountRow, CLEAR_FACTORS, by_id};
use crate::{Access, Db, Error, Query, access};

/// An account `access` may manage, as it was when read.
#[derive(Debug, Clone)]
pub struct Managed {
    row: AccountRow,
    scope: Scope,
}

impl Managed {
    pub fn row(&self) -> &AccountRow {
        &self.row
    }
    pub fn id(&self) -> &str {
        &self.row.id
    }
    /// The managed account's own scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
}

/// Account `id` if `access` may manage it.
pub async fn managed(db: &Db, access: &Access, id: &str) -> Result<Option<Managed>, Error> {
    let Some(row) = by_id(db, id).await? else {
        return Ok(None);
    };
    let Some(scope) = row.scope() else {
        return Ok(None);
    };
    let allowed = match manages(access.scope(), &scope) {
        Manages::Yes => true,
        Manages::No => false,
        Manages::IfCustomerVisible(c) => access::customer(db, access, c).await?.is_some(),
    };
    Ok(allowed.then_some(Managed { row, scope }))
}

/// A temporary password (a reset) valid until `expires`.
pub fn set_temporary_password(m: &Managed, hash: &str, expires: DateTime<Utc>) -> Query {
    Query::new(
        "UPDATE accounts SET password_hash = :hash, temp_expires_at = :expires WHERE id = :id",
    )
    .bind("id", m.id())
    .bind("hash", hash)
    .bind("expires", expires)
}

/// Puts back the password the account had when read (a temporary one with its expiry).
pub fn restore_password(m: &Managed) -> Query {
    Query::new(
        "UPDATE accounts SET password_hash = :hash, temp_expires_at = :expires WHERE id = :id",
    )
    .bind("id", m.id())
    .bind("hash", m.row.password_hash.as_str())
    .bind("expires", m.row.temp_expires_at)
}

/// The user chooses a second factor again at the next sign-in; recovery codes go.
pub fn reset_second_factor(m: &Managed) -> Vec<Query> {
    vec![
        Query::new(format!(
            "UPDATE accounts SET second_factor = NULL, {CLEAR_FACTORS} WHERE id = :id"
        ))
        .bind("id", m.id()),
        crate::recovery::forget(m.id()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, fixture};

    fn with_accounts() -> crate::testing::Fixture {
        let f = fixture();
        f.db.execute_script(
            "INSERT INTO accounts (id, role, reseller_id, customer_id, email, login_id, password_hash, created_at, second_factor, totp_secret) VALUES
               ('a-op', 'operator', NULL, NULL, 'op@example.jp', 'op', 'h-op', 0, NULL, NULL),
               ('a-ra', 'reseller', 'r-a', NULL, 'ra@example.jp', 'desk-a', 'h-ra', 0, NULL, NULL),
               ('a-rb', 'reseller', 'r-b', NULL, 'rb@example.jp', 'desk-b', 'h-rb', 0, NULL, NULL),
               ('a-c1', 'customer', NULL, 'c-a1', 'c1@example.jp', 'admin-a1', 'h-c1', 0, 'totp', 'sealed'),
               ('a-b1', 'customer', NULL, 'c-b1', 'b1@example.jp', 'admin-b1', 'h-b1', 0, NULL, NULL);",
        )
        .expect("accounts");
        f
    }

    #[test]
    fn staff_manage_exactly_the_accounts_of_their_reach() {
        let f = with_accounts();
        let reach = |access: &Access| -> Vec<&str> {
            ["a-op", "a-ra", "a-rb", "a-c1", "a-b1", "a-none"]
                .into_iter()
                .filter(|id| {
                    block_on(managed(&f.db, access, id))
                        .expect("reads")
                        .is_some()
                })
                .collect()
        };
        let all = ["a-op", "a-ra", "a-rb", "a-c1", "a-b1"];
        assert_eq!(reach(&Access::granted(Scope::Operator)), all);
        assert_eq!(
            reach(&Access::granted(Scope::Reseller("r-a".into()))),
            ["a-ra", "a-c1"]
        );
        // API tokens are never a customer's; the rule would give an admin its own company.
        assert_eq!(
            reach(&Access::granted(Scope::Customer("c-a1".into()))),
            ["a-c1"]
        );
        assert!(reach(&Access::granted(Scope::Reseller("r-none".into()))).is_empty());
    }

    #[test]
    fn a_reset_changes_only_the_managed_account_and_can_be_undone() {
        let f = with_accounts();
        let desk = Access::granted(Scope::Reseller("r-a".into()));
        let m = block_on(managed(&f.db, &desk, "a-c1"))
            .expect("reads")
            .expect("managed");
        let expires = DateTime::from_timestamp_millis(999).expect("in range");
        block_on(f.db.run(set_temporary_password(&m, "tmp", expires))).expect("resets");
        let now = block_on(by_id(&f.db, "a-c1")).expect("reads").expect("row");
        assert_eq!(
            (now.password_hash.as_str(), now.temp_expires_at),
            ("tmp", Some(expires))
        );
        block_on(f.db.run(restore_password(&m))).expect("restores");
        let back = block_on(by_id(&f.db, "a-c1")).expect("reads").expect("row");
        assert_eq!(
            (back.password_hash.as_str(), back.temp_expires_at),
            ("h-c1", None)
        );
        block_on(f.db.batch(reset_second_factor(&m))).expect("resets");
        let reset = block_on(by_id(&f.db, "a-c1")).expect("reads").expect("row");
        assert_eq!((reset.second_factor, reset.totp_secret), (None, None));
        let other = block_on(by_id(&f.db, "a-b1")).expect("reads").expect("row");
        assert_eq!(other.password_hash, "h-b1");
    }
}
