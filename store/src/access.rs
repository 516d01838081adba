//! Tenant scope by construction. Every function of this crate that reads or writes one
//! customer's data takes a [`Tenant`]: proof that the caller's [`Access`] may see that
//! customer. Only this crate builds either — an `Access` comes from a resolver (the
//! portal session, an API token), a `Tenant` from [`customer`] or [`customers`], which
//! apply `domain::access`'s rule in SQL — so a handler that forgot the check does not
//! compile. A customer outside the scope is answered like one that does not exist.

use chrono::{DateTime, Utc};
use domain::access::Scope;
use serde::Deserialize;

use crate::{Db, Error, Query};

/// The customers a scope reaches: `:role` and `:scope` bound by [`Access::bind`].
const VISIBLE_CUSTOMERS: &str = "SELECT id FROM customers WHERE \
     :role = 'operator' \
     OR (:role = 'reseller' AND reseller_id = :scope) \
     OR (:role = 'customer' AND id = :scope)";

/// What a resolved caller may reach. Built only by the resolvers of this crate.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    scope: Scope,
}

impl Access {
    /// Only resolvers (sessions, API tokens) and this crate's tests grant access.
    pub(crate) fn granted(scope: Scope) -> Access {
        Access { scope }
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The operator's proof, for what only the operator reads (the audit log, every API
    /// token); `None` for anyone else.
    pub fn operator(&self) -> Option<Operator> {
        matches!(self.scope, Scope::Operator).then_some(Operator(()))
    }

    /// Binds `:role` and `:scope` for `VISIBLE_CUSTOMERS`.
    pub(crate) fn bind(&self, q: Query) -> Query {
        q.bind("role", self.scope.role())
            .bind("scope", self.scope.scope_id())
    }

    /// `id IN (…customers this access reaches…)`, for a column named `column`.
    pub(crate) fn visible(column: &str) -> String {
        format!("{column} IN ({VISIBLE_CUSTOMERS})")
    }
}

/// Proof that the caller is the operator: only [`Access::operator`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator(());

/// A customer the caller may see: the only way to name a customer to this crate. It has
/// no public constructor and does not deserialize: only the queries below make one.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    id: String,
    name: String,
    reseller_id: Option<String>,
    contract_ended_at: Option<DateTime<Utc>>,
    /// The database that holds the customer's data (`crate::directory`).
    shard: usize,
}

/// A customer row as read, before it becomes a [`Tenant`].
#[derive(Deserialize)]
pub(crate) struct Row {
    id: String,
    name: String,
    reseller_id: Option<String>,
    #[serde(with = "crate::time::ms_opt", default)]
    contract_ended_at: Option<DateTime<Utc>>,
    #[serde(default)]
    shard: usize,
}

impl From<Row> for Tenant {
    fn from(r: Row) -> Tenant {
        Tenant {
            id: r.id,
            name: r.name,
            reseller_id: r.reseller_id,
            contract_ended_at: r.contract_ended_at,
            shard: r.shard,
        }
    }
}

impl Tenant {
    /// A customer admin's own company as the session query reads it (`crate::sessions`),
    /// whose contract runs (the session would not be live otherwise).
    pub(crate) fn own(
        id: String,
        name: String,
        reseller_id: Option<String>,
        shard: usize,
    ) -> Tenant {
        Tenant {
            id,
            name,
            reseller_id,
            contract_ended_at: None,
            shard,
        }
    }
    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn reseller_id(&self) -> Option<&str> {
        self.reseller_id.as_deref()
    }
    /// When the contract ended; such a customer gets no new appliances or accounts.
    pub fn contract_ended_at(&self) -> Option<DateTime<Utc>> {
        self.contract_ended_at
    }
    pub fn contract_ended(&self) -> bool {
        self.contract_ended_at.is_some()
    }
    /// The index of the database that holds this customer's data.
    pub fn shard(&self) -> usize {
        self.shard
    }
}

pub(crate) const COLUMNS: &str = "id, name, reseller_id, contract_ended_at, shard";

/// Customer `id`, if it exists and `access` may see it.
pub async fn customer(db: &Db, access: &Access, id: &str) -> Result<Option<Tenant>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM customers WHERE id = :customer AND {}",
        Access::visible("id")
    );
    let row: Option<Row> = db
        .first(access.bind(Query::new(sql)).bind("customer", id))
        .await?;
    Ok(row.map(Tenant::from))
}

/// Every customer `access` may see, by name.
pub async fn customers(db: &Db, access: &Access) -> Result<Vec<Tenant>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM customers WHERE {} ORDER BY name, id",
        Access::visible("id")
    );
    let rows: Vec<Row> = db.all(access.bind(Query::new(sql))).await?;
    Ok(rows.into_iter().map(Tenant::from).collect())
}

/// The customer a page shows: the one asked for (staff), or the caller's own company when
/// none is named (a customer admin).
pub async fn page_customer(
    db: &Db,
    access: &Access,
    requested: Option<&str>,
) -> Result<Option<Tenant>, Error> {
    match requested.or_else(|| access.scope().own_customer()) {
        Some(id) => customer(db, access, id).await,
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, fixture};

    #[test]
    fn each_scope_sees_exactly_its_customers() {
        let f = fixture();
        let ids = |access: &Access| -> Vec<String> {
            block_on(customers(&f.db, access))
                .expect("reads")
                .iter()
                .map(|t| t.id().to_owned())
                .collect()
        };
        assert_eq!(
            ids(&Access::granted(Scope::Operator)),
            ["c-a1", "c-a2", "c-b1"]
        );
        assert_eq!(
            ids(&Access::granted(Scope::Reseller("r-a".into()))),
            ["c-a1", "c-a2"]
        );
        assert_eq!(
            ids(&Access::granted(Scope::Customer("c-b1".into()))),
            ["c-b1"]
        );
        assert!(ids(&Access::granted(Scope::Reseller("r-none".into()))).is_empty());
    }

    #[test]
    fn a_customer_outside_the_scope_is_like_one_that_does_not_exist() {
        let f = fixture();
        let reseller_a = Access::granted(Scope::Reseller("r-a".into()));
        let customer_a1 = Access::granted(Scope::Customer("c-a1".into()));
        assert!(
            block_on(customer(&f.db, &reseller_a, "c-a1"))
                .expect("reads")
                .is_some()
        );
        assert_eq!(
            block_on(customer(&f.db, &reseller_a, "c-b1")).expect("reads"),
            None
        );
        assert_eq!(
            block_on(customer(&f.db, &reseller_a, "c-zz")).expect("reads"),
            None
        );
        assert_eq!(
            block_on(customer(&f.db, &customer_a1, "c-a2")).expect("reads"),
            None
        );
        // A scope id that happens to look like SQL is only a value.
        let odd = Access::granted(Scope::Reseller("r-a' OR '1'='1".into()));
        assert!(block_on(customers(&f.db, &odd)).expect("reads").is_empty());
    }

    #[test]
    fn only_the_operator_gets_the_operators_proof() {
        assert!(Access::granted(Scope::Operator).operator().is_some());
        assert!(
            Access::granted(Scope::Reseller("r-a".into()))
                .operator()
                .is_none()
        );
        assert!(
            Access::granted(Scope::Customer("c-a1".into()))
                .operator()
                .is_none()
        );
    }

    #[test]
    fn a_customer_admin_lands_on_their_own_company() {
        let f = fixture();
        let admin = Access::granted(Scope::Customer("c-a2".into()));
        let own = block_on(page_customer(&f.db, &admin, None)).expect("reads");
        assert_eq!(own.map(|t| t.id().to_owned()).as_deref(), Some("c-a2"));
        let staff = Access::granted(Scope::Operator);
        assert_eq!(
            block_on(page_customer(&f.db, &staff, None)).expect("reads"),
            None
        );
    }

    #[test]
    fn visibility_uses_the_primary_key_and_the_reseller_index() {
        let f = fixture();
        let access = Access::granted(Scope::Reseller("r-a".into()));
        let sql = format!(
            "SELECT {COLUMNS} FROM customers WHERE {}",
            Access::visible("id")
        );
        let plan =
            f.db.plan(&access.bind(Query::new(sql)))
                .expect("plans")
                .join("\n");
        assert!(
            !plan.contains("SCAN customers\n") || plan.contains("USING"),
            "{plan}"
        );
    }
}
