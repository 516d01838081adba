//! SMS challenges as stored: at most one live code per account, kept as its keyed digest
//! (`domain::keyed`, made by the Worker),
//! for one phone, until it expires (`domain::onetime::SMS_CODE_TTL`). A new code replaces
//! an older one only after `SMS_RESEND_INTERVAL`, in the same statement, so parallel
//! requests send one code; every typed code counts an attempt before it is compared, so
//! parallel guesses cannot exceed `SMS_MAX_ATTEMPTS`; a right code is used once.

use chrono::{DateTime, Utc};
use domain::onetime::{SMS_CAP_WINDOW, SMS_CODE_TTL, SMS_MAX_ATTEMPTS, SMS_RESEND_INTERVAL};
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

/// The hourly caps on codes sent (`domain::config::Identity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub per_number: u32,
    pub overall: u32,
}

/// The statement `count_send` runs: one row written only while both caps have room.
pub(crate) fn count_send_query(phone: &str, caps: Caps, now: DateTime<Utc>) -> Query {
    Query::new(
        "INSERT INTO sms_sends (phone, sent_at) SELECT :phone, :now \
         WHERE (SELECT count(*) FROM sms_sends WHERE phone = :phone AND sent_at > :since) \
                 < :per_number \
           AND (SELECT count(*) FROM sms_sends WHERE sent_at > :since) < :overall",
    )
    .bind("phone", phone)
    .bind("now", now)
    .bind("since", now - SMS_CAP_WINDOW)
    .bind("per_number", caps.per_number)
    .bind("overall", caps.overall)
}

/// Counts one code about to be sent to `phone`, in one statement so parallel sends
/// cannot pass a cap together; `false` (nothing counted) when the number or the service
/// has used up its codes for the hour.
pub async fn count_send(
    db: &Db,
    phone: &str,
    caps: Caps,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    Ok(db.run(count_send_query(phone, caps, now)).await? == 1)
}

/// Forgets sends older than the caps' window (the cron's cleanup).
pub(crate) fn forget_sends(now: DateTime<Utc>) -> Query {
    Query::new("DELETE FROM sms_sends WHERE sent_at <= :since").bind("since", now - SMS_CAP_WINDOW)
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

    #[test]
    fn codes_are_capped_per_number_and_overall_within_the_hour() {
        let f = with_accounts();
        let caps = Caps {
            per_number: 2,
            overall: 3,
        };
        let send = |phone, t| block_on(count_send(&f.db, phone, caps, at(t))).expect("counts");
        assert!(send("+819011110000", 0));
        assert!(send("+819011110000", 60));
        assert!(!send("+819011110000", 120), "the third to one number");
        assert!(send("+819022220000", 180));
        assert!(!send("+819033330000", 240), "the fourth overall");
        let hour = SMS_CAP_WINDOW.num_seconds();
        assert!(
            send("+819011110000", hour + 1),
            "the first one has left the window"
        );
        let gone = block_on(f.db.run(forget_sends(at(hour + 61)))).expect("runs");
        assert_eq!(gone, 2);
        for q in [
            count_send_query("+819011110000", caps, at(0)),
            forget_sends(at(0)),
        ] {
            let plan = f.db.plan(&q).expect("plans").join("\n");
            assert!(!plan.contains("SCAN sms_sends"), "{plan}");
        }
    }
}
