//! Test support: a fresh in-memory database with every migration applied, a small
//! executor for the store's futures, and a fixture of two resellers' customers.

use std::path::Path;

use crate::Db;

/// A database migrated from the repository's `migrations/`.
pub fn db() -> Db {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    Db::migrated(&dir).expect("migrations apply")
}

/// A database migrated only up to the migration before `number` (e.g. `"0017"`), to
/// arrange rows as they were before it and then run it (`migration`).
pub fn db_before(number: &str) -> Db {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let before = std::env::temp_dir().join(format!("mimamori-{number}-{}", std::process::id()));
    std::fs::create_dir_all(&before).expect("a temporary folder");
    for file in std::fs::read_dir(&dir).expect("migrations") {
        let path = file.expect("an entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".sql") && name < number {
            std::fs::copy(&path, before.join(name)).expect("copies");
        }
    }
    let db = Db::migrated(&before).expect("the earlier migrations apply");
    std::fs::remove_dir_all(&before).ok();
    db
}

/// The text of the migration file `name`.
pub fn migration(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    std::fs::read_to_string(dir.join(name)).expect("a migration file")
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
