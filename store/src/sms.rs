//! SMS challenges as stored: at most one live code per account, kept as its keyed digest
//! (`domain::keyed`, made by the Worker),
//! for one phone, until it expires (`domain::onetime::SMS_CODE_TTL`). A new code replaces
//! an older one only after `SMS_RESEND_INTERVAL`, in the same statement, so parallel
//! requests send one code; every typed code counts an attempt before it is compared, so
//! parallel guesses cannot exceed `SMS_MAX_ATTEMPTS`; a right code is used once.

use chrono::{DateTime, Utc};
use domain::onetime::{SMS_CODE_TTL, SMS_MAX_ATTEMPTS, SMS_RESEND_INTERVAL};
use serde::Deserialize;

use crate::{Db, Error, Query};

/// Stores a new code for `account` and `phone`; one row changed if it may be sent, none
/// while the last code is too recent.
pub fn offer(account: &str, phone: &str, code_hash: &str, now: DateTime<Utc>) -> Query {
    Query::new(
        "INSERT INTO sms_challenges (account_id, phone, code_hash, sent_at, expires_at, attempts) \
         VALUES (:account, :phone, :hash, :now, :expires, 0) \
         ON CONFLICT (account_id) DO UPDATE SET phone = excluded.phone, \
           code_hash = excluded.code_hash, sent_at = excluded.sent_at, \
           expires_at = excluded.expires_at, attempts = 0 \
         WHERE sms_challenges.sent_at <= :resend_before",
    )
    .bind("account", account)
    .bind("phone", phone)
    .bind("hash", code_hash)
    .bind("now", now)
    .bind("expires", now + SMS_CODE_TTL)
    .bind("resend_before", now - SMS_RESEND_INTERVAL)
}

/// Takes back a code that could not be sent.
pub fn withdraw(account: &str) -> Query {
    Query::new("DELETE FROM sms_challenges WHERE account_id = :account").bind("account", account)
}

#[derive(Deserialize)]
struct Hash {
    code_hash: String,
}

/// Counts one attempt at the live challenge of `account` for `phone`; the hash to
/// compare the typed code with, or `None` when there is no live challenge or its
/// attempts are used up.
pub async fn attempt(
    db: &Db,
    account: &str,
    phone: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, Error> {
    let row: Option<Hash> = db
        .first(
            Query::new(
                "UPDATE sms_challenges SET attempts = attempts + 1 \
                 WHERE account_id = :account AND phone = :phone AND attempts < :max \
                   AND expires_at > :now \
                 RETURNING code_hash",
            )
            .bind("account", account)
            .bind("phone", phone)
            .bind("max", SMS_MAX_ATTEMPTS)
            .bind("now", now),
        )
        .await?;
    Ok(row.map(|r| r.code_hash))
}

/// Uses the right code `code_hash`: only the request whose statement changes the row
/// may go on.
pub fn consume(account: &str, code_hash: &str) -> Query {
    Query::new("DELETE FROM sms_challenges WHERE account_id = :account AND code_hash = :hash")
        .bind("account", account)
        .bind("hash", code_hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::tests::with_accounts;
    use crate::testing::block_on;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("in range")
    }

    #[test]
    fn a_code_is_replaced_only_after_the_resend_interval() {
        let f = with_accounts();
        let run = |q| block_on(f.db.run(q)).expect("runs");
        assert_eq!(run(offer("a-c1", "+819012345678", "h1", at(0))), 1);
        assert_eq!(run(offer("a-c1", "+819012345678", "h2", at(1))), 0);
        let later = at(0) + SMS_RESEND_INTERVAL;
        assert_eq!(run(offer("a-c1", "+819012345678", "h3", later)), 1);
        let hash = block_on(attempt(&f.db, "a-c1", "+819012345678", later)).expect("reads");
        assert_eq!(hash.as_deref(), Some("h3"));
    }

    #[test]
    fn attempts_are_limited_and_counted_per_phone() {
        let f = with_accounts();
        block_on(f.db.run(offer("a-c1", "+81901", "h", at(0)))).expect("stores");
        let try_at = |phone| block_on(attempt(&f.db, "a-c1", phone, at(1))).expect("reads");
        assert_eq!(try_at("+81902"), None, "another phone");
        for _ in 0..SMS_MAX_ATTEMPTS {
            assert_eq!(try_at("+81901").as_deref(), Some("h"));
        }
        assert_eq!(try_at("+81901"), None, "attempts used up");
    }

    #[test]
    fn an_expired_code_is_no_challenge_and_a_right_one_is_used_once() {
        let f = with_accounts();
        block_on(f.db.run(offer("a-c1", "+81901", "h", at(0)))).expect("stores");
        let expired = at(0) + SMS_CODE_TTL + chrono::TimeDelta::seconds(1);
        assert_eq!(
            block_on(attempt(&f.db, "a-c1", "+81901", expired)).expect("reads"),
            None
        );
        assert_eq!(block_on(f.db.run(consume("a-c1", "h"))).expect("runs"), 1);
        assert_eq!(block_on(f.db.run(consume("a-c1", "h"))).expect("runs"), 0);
    }
}
