//! Portal accounts as stored: one row per person, found by login id (compared without
//! case, as the column's `COLLATE NOCASE` says) or id. Only a usable account
//! (`sessions::USABLE`: not disabled, its customer's contract running) signs in; the
//! operator's management reads any. Every change of credentials or second factor is
//! one statement here, guarded so that a form sent twice changes nothing the second time.

use chrono::{DateTime, Utc};
use domain::access::{Scope, Stage};
use domain::signin::SecondFactor;
use serde::{Deserialize, Deserializer};

use crate::sessions::USABLE;
use crate::{Db, Error, Query};

/// An account, with what signing in and managing it need.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AccountRow {
    pub id: String,
    pub role: String,
    pub reseller_id: Option<String>,
    pub customer_id: Option<String>,
    pub email: String,
    pub login_id: String,
    pub password_hash: String,
    /// Set while the password is a temporary one.
    #[serde(with = "crate::time::ms_opt", default)]
    pub temp_expires_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "factor", default)]
    pub second_factor: Option<SecondFactor>,
    pub sms_phone: Option<String>,
    pub totp_secret: Option<String>,
    #[serde(deserialize_with = "step", default)]
    pub totp_last_step: Option<i64>,
    pub totp_pending: Option<String>,
    #[serde(with = "crate::time::ms_opt", default)]
    pub totp_pending_at: Option<DateTime<Utc>>,
    pub sms_pending_phone: Option<String>,
}

impl AccountRow {
    pub fn scope(&self) -> Option<Scope> {
        Scope::from_row(
            &self.role,
            self.reseller_id.as_deref(),
            self.customer_id.as_deref(),
        )
    }

    /// Where a sign-in continues once the password is accepted.
    pub fn stage_after_password(&self) -> Stage {
        Stage::after_password(self.temp_expires_at.is_some(), self.second_factor)
    }
}

/// Reads `accounts.second_factor` (`'totp'`, `'sms'`, `'none'` or NULL).
pub(crate) fn factor<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecondFactor>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => SecondFactor::parse(&s)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown second factor {s}"))),
    }
}

fn step<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.map(|s| s as i64))
}

const COLUMNS: &str = "a.id, a.role, a.reseller_id, a.customer_id, a.email, a.login_id, \
     a.password_hash, a.temp_expires_at, a.second_factor, a.sms_phone, a.totp_secret, \
     a.totp_last_step, a.totp_pending, a.totp_pending_at, a.sms_pending_phone";

/// The usable account whose login id is `login_id`, in any case.
pub(crate) fn by_login_id_query(login_id: &str) -> Query {
    Query::new(format!(
        "SELECT {COLUMNS} FROM accounts a WHERE a.login_id = :login AND {USABLE}"
    ))
    .bind("login", login_id)
}

/// The usable account that signs in as `login_id`; `None` for an empty, unknown,
/// disabled or contract-ended one.
pub async fn usable_by_login_id(db: &Db, login_id: &str) -> Result<Option<AccountRow>, Error> {
    if login_id.is_empty() {
        return Ok(None);
    }
    db.first(by_login_id_query(login_id)).await
}

/// The usable account `id`.
pub async fn usable_by_id(db: &Db, id: &str) -> Result<Option<AccountRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM accounts a WHERE a.id = :id AND {USABLE}");
    db.first(Query::new(sql).bind("id", id)).await
}

/// Account `id` whatever its state, for the staff who manage it.
pub async fn by_id(db: &Db, id: &str) -> Result<Option<AccountRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM accounts a WHERE a.id = :id");
    db.first(Query::new(sql).bind("id", id)).await
}

/// An account to issue, with temporary credentials.
pub struct NewAccount<'a> {
    pub id: &'a str,
    pub scope: &'a Scope,
    pub email: &'a str,
    pub login_id: &'a str,
    pub password_hash: &'a str,
    pub temp_expires_at: DateTime<Utc>,
}

pub fn issue(new: &NewAccount<'_>, now: DateTime<Utc>) -> Query {
    let (reseller, customer) = match new.scope {
        Scope::Operator => (None, None),
        Scope::Reseller(r) => (Some(r.as_str()), None),
        Scope::Customer(c) => (None, Some(c.as_str())),
    };
    Query::new(
        "INSERT INTO accounts (id, role, reseller_id, customer_id, email, login_id, password_hash, \
           temp_expires_at, created_at) \
         VALUES (:id, :role, :reseller, :customer, :email, :login, :hash, :expires, :now)",
    )
    .bind("id", new.id)
    .bind("role", new.scope.role())
    .bind("reseller", reseller)
    .bind("customer", customer)
    .bind("email", new.email)
    .bind("login", new.login_id)
    .bind("hash", new.password_hash)
    .bind("expires", new.temp_expires_at)
    .bind("now", now)
}

/// Takes back an account nobody could receive the credentials of.
pub fn withdraw(id: &str) -> Query {
    Query::new("DELETE FROM accounts WHERE id = :id").bind("id", id)
}

/// 初回設定: the user's own login id and password replace the temporary ones. Changes
/// nothing (0 rows) when the id is taken by someone else or the setup is already done.
pub fn set_own_credentials(id: &str, login_id: &str, hash: &str, now: DateTime<Utc>) -> Query {
    Query::new(
        "UPDATE accounts SET login_id = :login, password_hash = :hash, temp_expires_at = NULL, \
           password_changed_at = :now \
         WHERE id = :id AND temp_expires_at IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM accounts WHERE login_id = :login AND id <> :id)",
    )
    .bind("id", id)
    .bind("login", login_id)
    .bind("hash", hash)
    .bind("now", now)
}

/// A hash made under earlier parameters replaced, unless the password changed meanwhile.
pub fn rehash(id: &str, old: &str, new: &str) -> Query {
    Query::new("UPDATE accounts SET password_hash = :new WHERE id = :id AND password_hash = :old")
        .bind("id", id)
        .bind("old", old)
        .bind("new", new)
}

/// A password the user chose.
pub fn set_password(id: &str, hash: &str, now: DateTime<Utc>) -> Query {
    Query::new(
        "UPDATE accounts SET password_hash = :hash, password_changed_at = :now WHERE id = :id",
    )
    .bind("id", id)
    .bind("hash", hash)
    .bind("now", now)
}

/// Every second factor's columns, cleared (the staff's reset in `managed` too).
pub(crate) const CLEAR_FACTORS: &str = "totp_secret = NULL, totp_last_step = NULL, totp_pending = NULL, \
     sms_phone = NULL, sms_pending_phone = NULL";

/// The user chose to use no second factor: any factor and recovery codes go.
pub fn choose_no_factor(id: &str) -> Vec<Query> {
    vec![
        Query::new(format!(
            "UPDATE accounts SET second_factor = 'none', {CLEAR_FACTORS} WHERE id = :id"
        ))
        .bind("id", id),
        crate::recovery::forget(id),
    ]
}

/// A seed shown as a QR code, not yet confirmed.
pub fn set_pending_totp(id: &str, sealed: &str, now: DateTime<Utc>) -> Query {
    Query::new("UPDATE accounts SET totp_pending = :sealed, totp_pending_at = :now WHERE id = :id")
        .bind("id", id)
        .bind("sealed", sealed)
        .bind("now", now)
}

/// The pending seed confirmed with the code of `step`: the authenticator becomes the
/// factor. Changes nothing if the pending seed was replaced meanwhile.
pub fn enable_totp(id: &str, step: i64, pending: &str) -> Query {
    Query::new(
        "UPDATE accounts SET second_factor = 'totp', totp_secret = totp_pending, \
           totp_last_step = :step, totp_pending = NULL, totp_pending_at = NULL, \
           sms_phone = NULL, sms_pending_phone = NULL WHERE id = :id AND totp_pending = :pending",
    )
    .bind("id", id)
    .bind("step", step)
    .bind("pending", pending)
}

/// The phone a code was sent to, until it is confirmed.
pub fn set_pending_phone(id: &str, phone: &str) -> Query {
    Query::new("UPDATE accounts SET sms_pending_phone = :phone WHERE id = :id")
        .bind("id", id)
        .bind("phone", phone)
}

/// The pending phone confirmed with its code: SMS becomes the factor.
pub fn enable_sms(id: &str, phone: &str) -> Query {
    Query::new(
        "UPDATE accounts SET second_factor = 'sms', sms_phone = :phone, sms_pending_phone = NULL, \
           totp_secret = NULL, totp_last_step = NULL, totp_pending = NULL WHERE id = :id",
    )
    .bind("id", id)
    .bind("phone", phone)
}

/// Records that the authenticator's code of `step` was used: only a later step may be
/// used next, so a code is good once. Changes nothing for a step already used.
pub fn use_totp_step(id: &str, step: i64) -> Query {
    Query::new(
        "UPDATE accounts SET totp_last_step = :step WHERE id = :id \
         AND (totp_last_step IS NULL OR totp_last_step < :step)",
    )
    .bind("id", id)
    .bind("step", step)
}

#[cfg(test)]
pub(crate) mod tests;
