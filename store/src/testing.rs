//! Test support: a fresh in-memory database with every migration applied, a small
//! executor for the store's futures, and a fixture of two resellers' customers.

use std::path::Path;

use crate::Db;

/// A database migrated from the repository's `migrations/`.
pub fn db() -> Db {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    Db::migrated(&dir).expect("migrations apply")
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures_executor::block_on(f)
}

pub struct Fixture {
    pub db: Db,
}

/// Resellers `r-a` (customers `c-a1`, `c-a2`) and `r-b` (`c-b1`); one appliance per
/// customer (`d0000000a001`, `d0000000a002`, `d0000000b001`).
pub fn fixture() -> Fixture {
    let db = db();
    db.execute_script(
        "INSERT INTO resellers (id, name, created_at) VALUES ('r-a', 'A販売店', 0), ('r-b', 'B販売店', 0);
         INSERT INTO customers (id, reseller_id, name, service_start, created_at) VALUES
           ('c-a1', 'r-a', 'A1株式会社', '2026-01-01', 0),
           ('c-a2', 'r-a', 'A2株式会社', '2026-01-01', 0),
           ('c-b1', 'r-b', 'B1株式会社', '2026-01-01', 0);
         INSERT INTO devices (id, customer_id, name, created_at) VALUES
           ('d0000000a001', 'c-a1', '本社', 0),
           ('d0000000a002', 'c-a2', '本社', 0),
           ('d0000000b001', 'c-b1', '本社', 0);",
    )
    .expect("fixture");
    Fixture { db }
}
