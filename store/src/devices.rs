//! Appliances as stored: registering one under a customer with a single-use enrollment
//! code, exchanging the code for a device token (only hashes are kept; enrolling again
//! revokes every earlier token of the device), resolving a token to its appliance, and
//! the lists the portal and the cron read. A device id is global (the appliance's MAC),
//! so registering one looks it up across customers, by primary key, to refuse another
//! customer's id.

use chrono::{DateTime, Utc};
use domain::admission::{Code, Standing};
use domain::device::DeviceId;
use domain::ratelimit::Bucket;
use serde::Deserialize;

use crate::cron::Cron;
use crate::{Db, Error, Owner, Query, Tenant};

/// An appliance reporting with a valid token: built only by [`by_token`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reporter {
    device_id: String,
    customer_id: String,
}

impl Reporter {
    pub fn device_id(&self) -> &str {
        &self.device_id
    }
    /// The customer whose rows the appliance's reports add to.
    pub fn owner(&self) -> Owner {
        Owner::trusted(self.customer_id.as_str())
    }
}

/// What a token resolves to: the appliance, whether it may report, its rate bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct ByToken {
    pub reporter: Reporter,
    pub standing: Standing,
    pub bucket: Option<Bucket>,
}

#[derive(Deserialize)]
struct TokenRow {
    id: String,
    customer_id: String,
    disabled: i64,
    contract_ended_at: Option<f64>,
    rate_tokens: Option<f64>,
    #[serde(with = "crate::time::ms_opt", default)]
    rate_at: Option<DateTime<Utc>>,
}

pub(crate) fn by_token_query(token_hash: &str) -> Query {
    Query::new(
        "SELECT d.id, d.customer_id, d.disabled, c.contract_ended_at, d.rate_tokens, d.rate_at \
         FROM device_tokens t \
         JOIN devices d ON d.id = t.device_id \
         JOIN customers c ON c.id = d.customer_id \
         WHERE t.token_hash = :token AND t.revoked_at IS NULL",
    )
    .bind("token", token_hash)
}

/// The appliance of the live token stored under `token_hash`; `None` for one unknown or
/// revoked.
pub async fn by_token(db: &Db, token_hash: &str) -> Result<Option<ByToken>, Error> {
    let row: Option<TokenRow> = db.first(by_token_query(token_hash)).await?;
    Ok(row.map(|r| ByToken {
        bucket: match (r.rate_tokens, r.rate_at) {
            (Some(tokens), Some(at)) => Some(Bucket { tokens, at }),
            _ => None,
        },
        standing: Standing {
            disabled: r.disabled != 0,
            contract_ended: r.contract_ended_at.is_some(),
        },
        reporter: Reporter {
            device_id: r.id,
            customer_id: r.customer_id,
        },
    }))
}

/// The token `:token` of `:device` is valid when the statement runs: not revoked, its
/// device enabled, its customer's contract running.
pub(crate) const TOKEN_VALID: &str = "EXISTS (SELECT 1 FROM device_tokens t \
     JOIN devices d ON d.id = t.device_id JOIN customers c ON c.id = d.customer_id \
     WHERE t.token_hash = :token AND t.device_id = :device AND t.revoked_at IS NULL \
       AND d.disabled = 0 AND c.contract_ended_at IS NULL)";

/// An appliance as the portal lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Listed {
    pub id: String,
    pub name: String,
    #[serde(with = "crate::time::ms_opt", default)]
    pub last_seen_at: Option<DateTime<Utc>>,
}

pub(crate) fn list_query(tenant: &Tenant) -> Query {
    Query::new(
        "SELECT id, name, last_seen_at FROM devices WHERE customer_id = :customer \
         ORDER BY name, id",
    )
    .bind("customer", tenant.id())
}

/// The appliances of `tenant`, by name.
pub async fn list(db: &Db, tenant: &Tenant) -> Result<Vec<Listed>, Error> {
    db.all(list_query(tenant)).await
}

/// The fleet as the sweep counts it: every appliance of every customer, and how many of
/// them are offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub struct Fleet {
    pub devices: usize,
    pub offline: usize,
}

pub(crate) fn fleet_query(offline_before: DateTime<Utc>) -> Query {
    Query::new(
        "SELECT count(*) AS devices, \
           coalesce(sum(last_seen_at IS NULL OR last_seen_at < :offline_before), 0) AS offline \
         FROM devices",
    )
    .bind("offline_before", offline_before)
}

/// How many appliances there are and how many were last seen before `offline_before`
/// (`domain::offline::offline_before`) or never: one counting query, not one row each.
pub async fn fleet(db: &Db, _cron: &Cron, offline_before: DateTime<Utc>) -> Result<Fleet, Error> {
    let fleet: Option<Fleet> = db.first(fleet_query(offline_before)).await?;
    Ok(fleet.unwrap_or_default())
}

/// A new enrollment code, as stored: its hash and when it expires.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCode<'a> {
    pub code_hash: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// The outcome of registering an appliance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// Registered (or renamed, for the same customer) and the code issued.
    Issued,
    /// The device id belongs to another customer; nothing was changed.
    Taken,
}

#[derive(Deserialize)]
struct OwnerRow {
    customer_id: String,
}

/// Registers `device` under `tenant` with `name` and issues `code`. Registering the same
/// id again for the same customer (a replacement appliance) renames it and voids every
/// earlier code of that id not yet used.
pub async fn register(
    db: &Db,
    tenant: &Tenant,
    device: &DeviceId,
    name: &str,
    code: &NewCode<'_>,
    now: DateTime<Utc>,
) -> Result<Registered, Error> {
    let owner: Option<OwnerRow> = db
        .first(
            Query::new("SELECT customer_id FROM devices WHERE id = :device")
                .bind("device", device.as_str()),
        )
        .await?;
    if owner.is_some_and(|o| o.customer_id != tenant.id()) {
        return Ok(Registered::Taken);
    }
    let bind = |q: Query| {
        q.bind("device", device.as_str())
            .bind("customer", tenant.id())
            .bind("now", now)
    };
    let results = db
        .batch(vec![
            // The WHERE keeps a concurrent registration by another customer from taking
            // the row over; the code below is then not issued either.
            bind(Query::new(
                "INSERT INTO devices (id, customer_id, name, created_at) \
                 VALUES (:device, :customer, :name, :now) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name \
                 WHERE devices.customer_id = excluded.customer_id",
            ))
            .bind("name", name),
            // A new code voids every earlier unused one of the device id: a code printed
            // on an old slip must not enroll (and revoke the live appliance's token).
            bind(Query::new(
                "DELETE FROM enrollment_codes WHERE device_id = :device AND used_at IS NULL \
                 AND EXISTS (SELECT 1 FROM devices WHERE id = :device AND customer_id = :customer)",
            )),
            bind(Query::new(
                "INSERT INTO enrollment_codes (code_hash, device_id, expires_at, created_at) \
                 SELECT :code, :device, :expires, :now \
                 WHERE EXISTS (SELECT 1 FROM devices WHERE id = :device AND customer_id = :customer)",
            ))
            .bind("code", code.code_hash)
            .bind("expires", code.expires_at),
        ])
        .await?;
    Ok(match results.get(2) {
        Some(1) => Registered::Issued,
        _ => Registered::Taken,
    })
}

#[derive(Deserialize)]
struct CodeRow {
    #[serde(with = "crate::time::ms")]
    expires_at: DateTime<Utc>,
    used_at: Option<f64>,
    disabled: i64,
    contract_ended_at: Option<f64>,
}

/// The enrollment code stored under `code_hash` for `device`, and the appliance's
/// standing; `None` when no such code was issued for that device.
pub async fn enrollment_code(
    db: &Db,
    code_hash: &str,
    device: &DeviceId,
) -> Result<Option<(Code, Standing)>, Error> {
    let row: Option<CodeRow> = db
        .first(
            Query::new(
                "SELECT ec.expires_at, ec.used_at, d.disabled, c.contract_ended_at \
                 FROM enrollment_codes ec \
                 JOIN devices d ON d.id = ec.device_id \
                 JOIN customers c ON c.id = d.customer_id \
                 WHERE ec.code_hash = :code AND ec.device_id = :device",
            )
            .bind("code", code_hash)
            .bind("device", device.as_str()),
        )
        .await?;
    Ok(row.map(|r| {
        let code = Code {
            expires_at: r.expires_at,
            used: r.used_at.is_some(),
        };
        let standing = Standing {
            disabled: r.disabled != 0,
            contract_ended: r.contract_ended_at.is_some(),
        };
        (code, standing)
    }))
}

/// What an enrolling appliance tells about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Details<'a> {
    pub model: Option<&'a str>,
    pub firmware: Option<&'a str>,
}

/// Exchanges the code for the token `token_hash`, in one transaction: the first statement
/// claims the code, every later one acts only if this token is the one that claimed it, so
/// two appliances racing with one code cannot both get a token. True when this one won.
pub async fn enroll(
    db: &Db,
    code_hash: &str,
    token_hash: &str,
    device: &DeviceId,
    details: &Details<'_>,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    const CLAIMED: &str =
        "EXISTS (SELECT 1 FROM enrollment_codes WHERE code_hash = :code AND used_by = :token)";
    let bind = |sql: String| {
        Query::new(sql)
            .bind("code", code_hash)
            .bind("token", token_hash)
            .bind("now", now)
            .bind("device", device.as_str())
    };
    let results = db
        .batch(vec![
            bind(
                "UPDATE enrollment_codes SET used_at = :now, used_by = :token \
                 WHERE code_hash = :code AND device_id = :device AND used_at IS NULL"
                    .into(),
            ),
            bind(format!(
                "UPDATE device_tokens SET revoked_at = :now \
                 WHERE device_id = :device AND revoked_at IS NULL AND {CLAIMED}"
            )),
            bind(format!(
                "INSERT INTO device_tokens (token_hash, device_id, issued_at) \
                 SELECT :token, :device, :now WHERE {CLAIMED}"
            )),
            bind(format!(
                "UPDATE devices SET model = coalesce(:model, model), \
                   firmware = coalesce(:firmware, firmware) \
                 WHERE id = :device AND {CLAIMED}"
            ))
            .bind("model", details.model)
            .bind("firmware", details.firmware),
        ])
        .await?;
    Ok(results.first().is_some_and(|&n| n > 0))
}

#[cfg(test)]
mod tests;
