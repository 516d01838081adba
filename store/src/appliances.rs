//! UTM装置の稼働状況 (/appliances, /appliances/{device_id}): what a customer's appliance
//! last told about itself (model, firmware, definitions, connected clients), when it last
//! reported, when it was enrolled, and its outages — when it went down and when it came
//! back — newest first, as the cron recorded them with its mails (`store::downtime`).
//!
//! The enrollment time is when the appliance's live device token was issued (enrolling
//! again revokes the earlier token, so it is the latest enrollment); `None` for one
//! registered but never enrolled. An appliance of another customer is answered like one
//! that does not exist. Whether it is オンライン is `domain::offline::status` of
//! `last_seen_at` with the configured threshold, decided by the caller as everywhere else.

use chrono::{DateTime, Utc};
use domain::device::DeviceId;
use serde::Deserialize;

use crate::{Db, Error, Query, Tenant};

/// An appliance as its status page shows it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Appliance {
    pub id: String,
    pub name: String,
    pub model: Option<String>,
    pub firmware: Option<String>,
    /// The signature definitions' version.
    pub definitions: Option<String>,
    /// Clients connected, as last reported (the guideline is about 100 per appliance).
    pub clients: Option<i64>,
    /// Disabled by the operator: its reports are refused.
    #[serde(deserialize_with = "flag")]
    pub disabled: bool,
    #[serde(with = "crate::time::ms_opt", default)]
    pub last_seen_at: Option<DateTime<Utc>>,
    /// When the live device token was issued: the latest enrollment.
    #[serde(with = "crate::time::ms_opt", default)]
    pub enrolled_at: Option<DateTime<Utc>>,
    /// When the appliance was registered under the customer.
    #[serde(with = "crate::time::ms")]
    pub registered_at: DateTime<Utc>,
}

fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(i64::deserialize(d)? != 0)
}

/// One outage of an appliance.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Outage {
    /// Its last report before the silence (`None`: never heard of).
    #[serde(with = "crate::time::ms_opt", default)]
    pub down_since: Option<DateTime<Utc>>,
    /// When the first notice found it offline.
    #[serde(with = "crate::time::ms")]
    pub noticed_at: DateTime<Utc>,
    /// When a check found it reporting again; `None` while it is down.
    #[serde(with = "crate::time::ms_opt", default)]
    pub back_at: Option<DateTime<Utc>>,
}

/// An appliance and its latest outages, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub appliance: Appliance,
    pub outages: Vec<Outage>,
}

/// The columns of an [`Appliance`] from `devices d`; the live token by its device index.
const COLUMNS: &str = "d.id, d.name, d.model, d.firmware, d.definitions, d.clients, d.disabled, \
     d.last_seen_at, d.created_at AS registered_at, \
     (SELECT max(t.issued_at) FROM device_tokens t \
      WHERE t.device_id = d.id AND t.revoked_at IS NULL) AS enrolled_at";

pub(crate) fn list_query(tenant: &Tenant) -> Query {
    Query::new(format!(
        "SELECT {COLUMNS} FROM devices d WHERE d.customer_id = :customer ORDER BY d.name, d.id"
    ))
    .bind("customer", tenant.id())
}

pub(crate) fn appliance_query(tenant: &Tenant, device: &DeviceId) -> Query {
    Query::new(format!(
        "SELECT {COLUMNS} FROM devices d WHERE d.id = :device AND d.customer_id = :customer"
    ))
    .bind("device", device.as_str())
    .bind("customer", tenant.id())
}

pub(crate) fn outages_query(tenant: &Tenant, device: &DeviceId, limit: u32) -> Query {
    Query::new(
        "SELECT down_since, noticed_at, back_at FROM device_outages \
         WHERE customer_id = :customer AND device_id = :device \
         ORDER BY noticed_at DESC, id DESC LIMIT :limit",
    )
    .bind("customer", tenant.id())
    .bind("device", device.as_str())
    .bind("limit", limit)
}

/// The appliances of `tenant`, by name (/appliances).
pub async fn list(db: &Db, tenant: &Tenant) -> Result<Vec<Appliance>, Error> {
    db.all(list_query(tenant)).await
}

/// `tenant`'s appliance `device` with its latest `outages` outages (/appliances/{id});
/// `None` if the customer has no appliance of that id.
pub async fn detail(
    db: &Db,
    tenant: &Tenant,
    device: &DeviceId,
    outages: u32,
) -> Result<Option<Detail>, Error> {
    let Some(appliance) = db
        .first::<Appliance>(appliance_query(tenant, device))
        .await?
    else {
        return Ok(None);
    };
    let outages = db.all(outages_query(tenant, device, outages)).await?;
    Ok(Some(Detail { appliance, outages }))
}

#[cfg(test)]
mod tests;
