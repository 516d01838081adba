//! Sign-in throttling with `domain::account::Throttle`, safe against parallel requests:
//! an attempt is counted as a failure *before* it is checked (a compare-and-set on the
//! stored state), and taken back when it turns out right. Two hundred simultaneous
//! guesses therefore meet the limit after the fifth, not after the last.
//!
//! Keys are SHA-256 of `id:<login id>` (whether or not it exists) and `ip:<address>`.

use app::d1::{ms, named, time};
use chrono::{DateTime, Utc};
use domain::account::{Limits, Throttle};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use crate::error::AppError;
use crate::secret::sha256_hex;

pub fn login_id_key(login_id: &str) -> String {
    sha256_hex(&format!("id:{}", login_id.trim().to_lowercase()))
}

pub fn address_key(ip: &str) -> String {
    sha256_hex(&format!("ip:{ip}"))
}

#[derive(Deserialize)]
struct Row {
    failures: f64,
    first_failure: Option<f64>,
    locked_until: Option<f64>,
}

/// Counts one attempt against `key` under `limits`, unless the key is locked. `None`:
/// locked, do not check the attempt at all. `Some`: the state with this attempt counted
/// as a failure (locked already if it was the last one allowed), until `release` takes
/// it back.
pub async fn reserve(
    db: &D1Database,
    key: &str,
    limits: Limits,
    now: DateTime<Utc>,
) -> Result<Option<Throttle>, AppError> {
    let k = JsValue::from(key);
    let opt = |v: Option<DateTime<Utc>>| v.map_or(JsValue::NULL, ms);
    // A few rounds of compare-and-set; under heavier contention than that the attempt
    // is refused like a locked one (the caller may try again).
    for _ in 0..8 {
        let row = db
            .prepare(
                "SELECT failures, first_failure, locked_until FROM signin_throttle WHERE key = ?1",
            )
            .bind(std::slice::from_ref(&k))?
            .first::<Row>(None)
            .await?;
        let state = row.as_ref().map_or_else(Throttle::default, |r| Throttle {
            failures: r.failures as u32,
            first_failure: r.first_failure.and_then(time),
            locked_until: r.locked_until.and_then(time),
        });
        if state.check(now).is_err() {
            return Ok(None);
        }
        let next = state.failed_under(limits, now);
        let new = [
            ("key", k.clone()),
            ("failures", JsValue::from(f64::from(next.failures))),
            ("first", opt(next.first_failure)),
            ("locked", opt(next.locked_until)),
        ];
        let statement = match &row {
            None => named(
                db,
                "INSERT INTO signin_throttle (key, failures, first_failure, locked_until) \
                 VALUES (:key, :failures, :first, :locked) ON CONFLICT (key) DO NOTHING",
                &new.iter().map(|(n, v)| (*n, v)).collect::<Vec<_>>(),
            )?,
            Some(r) => {
                let was = [
                    ("was_failures", JsValue::from(r.failures)),
                    (
                        "was_first",
                        r.first_failure.map_or(JsValue::NULL, JsValue::from),
                    ),
                    (
                        "was_locked",
                        r.locked_until.map_or(JsValue::NULL, JsValue::from),
                    ),
                ];
                named(
                    db,
                    "UPDATE signin_throttle SET failures = :failures, first_failure = :first, \
                       locked_until = :locked \
                     WHERE key = :key AND failures = :was_failures \
                       AND first_failure IS :was_first AND locked_until IS :was_locked",
                    &new.iter()
                        .chain(was.iter())
                        .map(|(n, v)| (*n, v))
                        .collect::<Vec<_>>(),
                )?
            }
        };
        let result = statement.run().await?;
        if crate::d1::changes(Some(&result)) == 1 {
            return Ok(Some(next));
        }
    }
    Ok(None)
}

/// Takes back an attempt `reserve` counted, because it was right. If counting it had
/// locked the key, the lock is lifted again.
pub fn release(db: &D1Database, key: &str, limits: Limits) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "UPDATE signin_throttle SET failures = failures - 1, \
           locked_until = CASE WHEN failures - 1 < ?2 THEN NULL ELSE locked_until END \
         WHERE key = ?1 AND failures > 0",
    )
    .bind(&[key.into(), f64::from(limits.max_failures).into()])
}

/// Forgets every failure of `key` (a sign-in completed).
pub fn clear(db: &D1Database, key: &str) -> worker::Result<D1PreparedStatement> {
    db.prepare("DELETE FROM signin_throttle WHERE key = ?1")
        .bind(&[key.into()])
}
