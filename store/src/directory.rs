//! Where a customer's data lives. One D1 database holds 10 GB and serves 1,000 queries per
//! invocation, so a customer's rows (devices, events, incidents, mails) may live in any one
//! of several databases; `customers.shard` in the main database is the directory that says
//! which. The main database (shard 0) also holds identity — resellers, customers, accounts,
//! sessions, tokens, the audit log — and the all-company aggregates. No statement joins two
//! customers' rows. Some per-customer statements still read the customer's own row of
//! `customers` next to its data (the token check in every ingest batch, the company name
//! and recipients of a mail, retention's list of customers); before a customer's data
//! moves off the main database those must read a copy of that row kept on its shard.

use crate::{Db, Tenant};

/// The databases of a deployment: the main one and the shards by index.
#[derive(Clone)]
pub struct Databases {
    shards: Vec<Db>,
}

impl Databases {
    /// A deployment of one database, which holds everything.
    pub fn single(main: Db) -> Databases {
        Databases { shards: vec![main] }
    }

    /// The main database first, then the other shards in index order.
    pub fn sharded(main: Db, others: Vec<Db>) -> Databases {
        let mut shards = vec![main];
        shards.extend(others);
        Databases { shards }
    }

    /// Identity, the directory and the all-company aggregates.
    pub fn main(&self) -> &Db {
        &self.shards[0]
    }

    /// The database that holds `tenant`'s data; the main one for a shard this deployment
    /// does not have (a directory ahead of its bindings must not lose a customer).
    pub fn of(&self, tenant: &Tenant) -> &Db {
        self.shards
            .get(tenant.shard())
            .unwrap_or_else(|| self.main())
    }

    /// Every database, for sweeps that visit each shard.
    pub fn all(&self) -> &[Db] {
        &self.shards
    }
}

#[cfg(test)]
mod tests {
    use domain::access::Scope;

    use super::*;
    use crate::testing::{block_on, db, fixture};
    use crate::{Access, Query, access};

    #[derive(serde::Deserialize)]
    struct Name {
        name: String,
    }

    #[test]
    fn a_customer_is_read_from_the_database_its_directory_names() {
        let main = fixture();
        let shard = db();
        shard
            .execute_script(
                "INSERT INTO customers (id, name, service_start, created_at)
                   VALUES ('c-a2', 'copy on shard 1', '2026-01-01', 0);
                 INSERT INTO devices (id, customer_id, name, created_at)
                   VALUES ('d0000000a002', 'c-a2', '支店 (shard 1)', 0);",
            )
            .expect("shard rows");
        main.db
            .execute_script("UPDATE customers SET shard = 1 WHERE id = 'c-a2'")
            .expect("moves");
        let dbs = Databases::sharded(main.db.clone(), vec![shard]);
        let operator = Access::granted(Scope::Operator);
        let device_name = |customer: &str| -> String {
            let tenant = block_on(access::customer(dbs.main(), &operator, customer))
                .expect("reads")
                .expect("visible");
            let q = Query::new("SELECT name FROM devices WHERE customer_id = :c")
                .bind("c", tenant.id());
            let row: Name = block_on(dbs.of(&tenant).first(q))
                .expect("reads")
                .expect("one");
            row.name
        };
        assert_eq!(device_name("c-a1"), "本社");
        assert_eq!(device_name("c-a2"), "支店 (shard 1)");
    }

    #[test]
    fn a_shard_the_deployment_lacks_falls_back_to_the_main_database() {
        let f = fixture();
        f.db.execute_script("UPDATE customers SET shard = 7 WHERE id = 'c-b1'")
            .expect("moves");
        let dbs = Databases::single(f.db.clone());
        let operator = Access::granted(Scope::Operator);
        let tenant = block_on(access::customer(dbs.main(), &operator, "c-b1"))
            .expect("reads")
            .expect("visible");
        assert_eq!(tenant.shard(), 7);
        assert_eq!(dbs.all().len(), 1);
        let q = Query::new("SELECT name FROM customers WHERE id = :c").bind("c", tenant.id());
        let row: Name = block_on(dbs.of(&tenant).first(q))
            .expect("reads")
            .expect("one");
        assert_eq!(row.name, "B1株式会社");
    }
}
