//! Sign-in throttling as stored, safe against parallel requests: an attempt is counted as
//! a failure *before* it is checked (a compare-and-set on the stored state, under
//! `domain::account::Throttle`'s rule), and taken back when it turns out right. Two
//! hundred simultaneous guesses therefore meet the limit after the fifth, not the last.
//! Keys are opaque here (the Worker hashes login ids and addresses).

use chrono::{DateTime, Utc};
use domain::account::{Limits, Throttle};
use domain::signin::Release;
use serde::Deserialize;

use crate::{Arg, Db, Error, Query};

#[derive(Deserialize)]
struct Row {
    failures: f64,
    first_failure: Option<f64>,
    locked_until: Option<f64>,
}

fn ms(v: Option<f64>) -> Arg {
    v.map_or(Arg::Null, |v| Arg::Int(v as i64))
}

/// Rounds of compare-and-set before an attempt is refused like a locked one (the caller
/// may try again).
const ROUNDS: usize = 8;

/// Counts one attempt against `key` under `limits`, unless the key is locked. `None`:
/// locked, do not check the attempt at all. `Some`: the state with this attempt counted
/// as a failure (locked already if it was the last one allowed), until a release takes
/// it back.
pub async fn reserve(
    db: &Db,
    key: &str,
    limits: Limits,
    now: DateTime<Utc>,
) -> Result<Option<Throttle>, Error> {
    for _ in 0..ROUNDS {
        let row: Option<Row> = db
            .first(
                Query::new(
                    "SELECT failures, first_failure, locked_until FROM signin_throttle \
                     WHERE key = :key",
                )
                .bind("key", key),
            )
            .await?;
        let state = row.as_ref().map_or_else(Throttle::default, |r| Throttle {
            failures: r.failures as u32,
            first_failure: r.first_failure.and_then(|t| crate::time::from_ms(t as i64)),
            locked_until: r.locked_until.and_then(|t| crate::time::from_ms(t as i64)),
        });
        if state.check(now).is_err() {
            return Ok(None);
        }
        let next = state.failed_under(limits, now);
        let q = match &row {
            None => Query::new(
                "INSERT INTO signin_throttle (key, failures, first_failure, locked_until) \
                 VALUES (:key, :failures, :first, :locked) ON CONFLICT (key) DO NOTHING",
            ),
            Some(was) => Query::new(
                "UPDATE signin_throttle SET failures = :failures, first_failure = :first, \
                   locked_until = :locked \
                 WHERE key = :key AND failures = :was_failures \
                   AND first_failure IS :was_first AND locked_until IS :was_locked",
            )
            .bind("was_failures", was.failures as i64)
            .bind("was_first", ms(was.first_failure))
            .bind("was_locked", ms(was.locked_until)),
        }
        .bind("key", key)
        .bind("failures", next.failures)
        .bind("first", next.first_failure)
        .bind("locked", next.locked_until);
        if db.run(q).await? == 1 {
            return Ok(Some(next));
        }
    }
    Ok(None)
}

/// What a right attempt does to `key` (`domain::signin::Release`): take back the one
/// attempt `reserve` counted — lifting the lock if counting it had locked the key — or
/// forget every failure.
pub fn release(key: &str, how: Release, limits: Limits) -> Query {
    match how {
        Release::ThisAttempt => Query::new(
            "UPDATE signin_throttle SET failures = failures - 1, \
               locked_until = CASE WHEN failures - 1 < :max THEN NULL ELSE locked_until END \
             WHERE key = :key AND failures > 0",
        )
        .bind("key", key)
        .bind("max", limits.max_failures),
        Release::Everything => {
            Query::new("DELETE FROM signin_throttle WHERE key = :key").bind("key", key)
        }
    }
}

/// Whether a refusal of the locked `key` at `now` is the first of its lock, and so worth
/// an audit entry: true once per lock, whatever the number of parallel refusals; false
/// when the key is not locked (`reserve` gave up on a busy row).
pub async fn first_refusal(db: &Db, key: &str, now: DateTime<Utc>) -> Result<bool, Error> {
    let changed = db
        .run(
            Query::new(
                "UPDATE signin_throttle SET noted_until = locked_until \
                 WHERE key = :key AND locked_until > :now AND noted_until IS NOT locked_until",
            )
            .bind("key", key)
            .bind("now", now),
        )
        .await?;
    Ok(changed == 1)
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use domain::account::PER_LOGIN_ID;

    use super::*;
    use crate::testing::{block_on, db};

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("in range")
    }

    fn reserve_at(db: &Db, key: &str, now: DateTime<Utc>) -> Option<Throttle> {
        block_on(reserve(db, key, PER_LOGIN_ID, now)).expect("counts")
    }

    #[test]
    fn each_attempt_is_counted_and_the_last_allowed_one_locks() {
        let db = db();
        for n in 1..=PER_LOGIN_ID.max_failures {
            let state = reserve_at(&db, "k", at(i64::from(n))).expect("not locked yet");
            assert_eq!(state.failures, n);
        }
        assert!(reserve_at(&db, "k", at(10)).is_none(), "locked");
        assert!(reserve_at(&db, "other", at(10)).is_some(), "keys are apart");
    }

    #[test]
    fn a_lock_ends_after_the_lockout() {
        let db = db();
        for n in 0..PER_LOGIN_ID.max_failures {
            reserve_at(&db, "k", at(i64::from(n))).expect("counted");
        }
        assert!(reserve_at(&db, "k", at(60)).is_none());
        let later = at(0) + domain::account::LOCKOUT + TimeDelta::minutes(1);
        assert!(reserve_at(&db, "k", later).is_some());
    }

    #[test]
    fn a_right_attempt_takes_its_count_back_and_lifts_the_lock_it_caused() {
        let db = db();
        for n in 0..PER_LOGIN_ID.max_failures {
            reserve_at(&db, "k", at(i64::from(n))).expect("counted");
        }
        let changed =
            block_on(db.run(release("k", Release::ThisAttempt, PER_LOGIN_ID))).expect("runs");
        assert_eq!(changed, 1);
        let state = reserve_at(&db, "k", at(30)).expect("unlocked by the release");
        assert_eq!(state.failures, PER_LOGIN_ID.max_failures);
    }

    #[test]
    fn a_completed_sign_in_forgets_every_failure() {
        let db = db();
        reserve_at(&db, "k", at(0)).expect("counted");
        reserve_at(&db, "k", at(1)).expect("counted");
        block_on(db.run(release("k", Release::Everything, PER_LOGIN_ID))).expect("runs");
        assert_eq!(reserve_at(&db, "k", at(2)).map(|s| s.failures), Some(1));
    }

    fn lock(db: &Db, key: &str, from: i64) {
        for n in 0..PER_LOGIN_ID.max_failures {
            reserve_at(db, key, at(from + i64::from(n)));
        }
    }

    #[test]
    fn a_lock_is_noted_once_and_the_next_lock_again() {
        let db = db();
        assert!(
            !block_on(first_refusal(&db, "k", at(0))).expect("runs"),
            "no row"
        );
        reserve_at(&db, "k", at(0)).expect("counted");
        assert!(
            !block_on(first_refusal(&db, "k", at(1))).expect("runs"),
            "not locked"
        );
        lock(&db, "k", 2);
        let refusals: Vec<bool> = (0..5)
            .map(|n| block_on(first_refusal(&db, "k", at(10 + n))).expect("runs"))
            .collect();
        assert_eq!(refusals, [true, false, false, false, false]);
        assert!(block_on(first_refusal(&db, "other", at(10))).is_ok_and(|f| !f));
        let later = at(0) + domain::account::LOCKOUT + TimeDelta::minutes(1);
        assert!(
            !block_on(first_refusal(&db, "k", later)).expect("runs"),
            "lock over"
        );
        let from = (later - at(0)).num_seconds();
        lock(&db, "k", from);
        assert!(block_on(first_refusal(&db, "k", at(from + 10))).expect("runs"));
    }
}
