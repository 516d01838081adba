//! Resellers as stored: an id and a name. Whether a caller may name a reseller is
//! `domain::access::Scope::reaches_reseller`'s rule, applied before these reads.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::{Db, Error, Query};

#[derive(Deserialize)]
struct Name {
    name: String,
}

/// Whether reseller `id` exists.
pub async fn exists(db: &Db, id: &str) -> Result<bool, Error> {
    Ok(name(db, id).await?.is_some())
}

/// The name of reseller `id`, if it exists.
pub async fn name(db: &Db, id: &str) -> Result<Option<String>, Error> {
    let row: Option<Name> = db
        .first(Query::new("SELECT name FROM resellers WHERE id = :id").bind("id", id))
        .await?;
    Ok(row.map(|r| r.name))
}

/// A new reseller.
pub fn create(id: &str, name: &str, now: DateTime<Utc>) -> Query {
    Query::new("INSERT INTO resellers (id, name, created_at) VALUES (:id, :name, :now)")
        .bind("id", id)
        .bind("name", name)
        .bind("now", now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, fixture};

    #[test]
    fn a_created_reseller_exists_with_its_name() {
        let f = fixture();
        assert_eq!(
            block_on(name(&f.db, "r-a")).expect("reads").as_deref(),
            Some("A販売店")
        );
        assert!(!block_on(exists(&f.db, "r-new")).expect("reads"));
        let now = DateTime::from_timestamp_millis(5).expect("in range");
        block_on(f.db.run(create("r-new", "新販売店", now))).expect("creates");
        assert!(block_on(exists(&f.db, "r-new")).expect("reads"));
        assert!(block_on(f.db.run(create("r-new", "again", now))).is_err());
    }
}
