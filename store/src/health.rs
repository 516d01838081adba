//! Whether the database answers with our schema: one read of one of our own tables, so an
//! unreachable database and one without the schema both count as unavailable.

use crate::{Db, Error, Query};

pub async fn ping(db: &Db) -> Result<(), Error> {
    db.all::<serde_json::Value>(Query::new("SELECT 1 AS ok FROM customers LIMIT 1"))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, db};

    #[test]
    fn a_migrated_database_answers_and_one_without_the_schema_does_not() {
        let d = db();
        assert_eq!(block_on(ping(&d)), Ok(()));
        d.execute_script("DROP TABLE alert_recipients; DROP TABLE customers;")
            .ok();
        assert!(matches!(block_on(ping(&d)), Err(Error::Unavailable(_))));
    }
}
