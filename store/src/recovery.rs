//! Recovery codes as stored: only the keyed digest of each normalized code (`domain::keyed`,
//! made by the Worker with a key outside the database), per account. A
//! code is good once — spending it is one statement that changes a row only while the
//! code is unused — and a new set (or no second factor) replaces every earlier code.

use chrono::{DateTime, Utc};

use crate::Query;

/// Replaces every code of `account` with `hashes`.
pub fn replace(account: &str, hashes: &[String]) -> Vec<Query> {
    let mut qs = vec![forget(account)];
    qs.extend(hashes.iter().map(|h| {
        Query::new("INSERT INTO recovery_codes (account_id, code_hash) VALUES (:account, :hash)")
            .bind("account", account)
            .bind("hash", h)
    }));
    qs
}

/// Removes every code of `account`.
pub fn forget(account: &str) -> Query {
    Query::new("DELETE FROM recovery_codes WHERE account_id = :account").bind("account", account)
}

/// Spends the code `hash` of `account`: one row changed if it was there and unused.
pub fn spend(account: &str, hash: &str, now: DateTime<Utc>) -> Query {
    Query::new(
        "UPDATE recovery_codes SET used_at = :now \
         WHERE account_id = :account AND code_hash = :hash AND used_at IS NULL",
    )
    .bind("account", account)
    .bind("hash", hash)
    .bind("now", now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::tests::with_accounts;
    use crate::testing::block_on;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).expect("in range")
    }

    #[test]
    fn a_recovery_code_is_good_once() {
        let f = with_accounts();
        block_on(f.db.batch(replace("a-c1", &["h1".into(), "h2".into()]))).expect("stores");
        assert_eq!(
            block_on(f.db.run(spend("a-c1", "h1", at(1)))).expect("runs"),
            1
        );
        assert_eq!(
            block_on(f.db.run(spend("a-c1", "h1", at(2)))).expect("runs"),
            0
        );
        assert_eq!(
            block_on(f.db.run(spend("a-c1", "h2", at(3)))).expect("runs"),
            1
        );
    }

    #[test]
    fn a_code_belongs_to_its_account_and_a_new_set_replaces_the_old() {
        let f = with_accounts();
        block_on(f.db.batch(replace("a-c1", &["h1".into()]))).expect("stores");
        assert_eq!(
            block_on(f.db.run(spend("a-ra", "h1", at(1)))).expect("runs"),
            0
        );
        block_on(f.db.batch(replace("a-c1", &["h9".into()]))).expect("replaces");
        assert_eq!(
            block_on(f.db.run(spend("a-c1", "h1", at(2)))).expect("runs"),
            0
        );
        assert_eq!(
            block_on(f.db.run(spend("a-c1", "h9", at(3)))).expect("runs"),
            1
        );
    }

    #[test]
    fn a_stored_code_is_its_keyed_digest_and_no_other_key_spends_it() {
        use domain::keyed::{Kind, code_key, digest};
        use sha2::{Digest, Sha256};
        let f = with_accounts();
        let code = "k7m2q9x4w3z8";
        let stored = digest(
            &code_key("seal-key-0123456789"),
            Kind::Recovery,
            "a-c1",
            code,
        );
        block_on(f.db.batch(replace("a-c1", std::slice::from_ref(&stored)))).expect("stores");
        #[derive(serde::Deserialize)]
        struct Row {
            code_hash: String,
        }
        let row: Row = block_on(f.db.first(Query::new("SELECT code_hash FROM recovery_codes")))
            .expect("reads")
            .expect("one row");
        let plain: String = Sha256::digest(code.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(!row.code_hash.contains(&plain), "not the plain SHA-256");
        let elsewhere = digest(
            &code_key("a-copied-database-key"),
            Kind::Recovery,
            "a-c1",
            code,
        );
        assert_ne!(elsewhere, row.code_hash);
        assert_eq!(
            block_on(f.db.run(spend("a-c1", &plain, at(1)))).expect("runs"),
            0
        );
        assert_eq!(
            block_on(f.db.run(spend("a-c1", &elsewhere, at(1)))).expect("runs"),
            0
        );
        assert_eq!(
            block_on(f.db.run(spend("a-c1", &stored, at(2)))).expect("runs"),
            1
        );
    }
}
