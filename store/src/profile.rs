//! A customer's record as the operator API and the console show it (api-v1 `GET
//! /api/v1/admin/customers/{id}`), read in one statement, and its change (§7.6): the
//! customer row, the alert recipients replaced in order, and one history row per field
//! that changed (who, when, old and new), all in one batch with the caller's audit entry.

use chrono::{DateTime, NaiveDate, Utc};
use domain::profile::{Contact, Field, FieldChange, Profile};
use serde::Deserialize;

use crate::{Db, Error, Query, Tenant};

/// An appliance as the record lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Device {
    pub id: String,
    pub name: String,
    pub disabled: bool,
    #[serde(with = "crate::time::ms_opt", default)]
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// Everything the record shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub profile: Profile,
    pub reseller_id: Option<String>,
    pub service_start: NaiveDate,
    pub paid_from: Option<NaiveDate>,
    pub contract_ended_at: Option<DateTime<Utc>>,
    pub devices: Vec<Device>,
}

#[derive(Deserialize)]
struct Row {
    name: String,
    reseller_id: Option<String>,
    service_start: NaiveDate,
    paid_from: Option<NaiveDate>,
    #[serde(with = "crate::time::ms_opt", default)]
    contract_ended_at: Option<DateTime<Utc>>,
    contact_name: String,
    contact_department: String,
    contact_title: String,
    contact_email: String,
    phone: String,
    address: String,
    /// JSON: the addresses in order.
    recipients: String,
    /// JSON: the appliances by name.
    devices: String,
}

pub(crate) fn read_query(tenant: &Tenant) -> Query {
    Query::new(
        "SELECT name, reseller_id, service_start, paid_from, contract_ended_at, contact_name, \
           contact_department, contact_title, contact_email, phone, address, \
           (SELECT json_group_array(email) FROM (SELECT email FROM alert_recipients \
              WHERE customer_id = :customer ORDER BY position)) AS recipients, \
           (SELECT json_group_array(json_object('id', id, 'name', name, 'disabled', json(iif(disabled, 'true', 'false')), \
              'last_seen_at', last_seen_at)) FROM (SELECT id, name, disabled, last_seen_at \
              FROM devices WHERE customer_id = :customer ORDER BY name, id)) AS devices \
         FROM customers WHERE id = :customer",
    )
    .bind("customer", tenant.id())
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Result<T, Error> {
    serde_json::from_str(json).map_err(|e| Error::Bug(format!("{what}: {e}")))
}

/// The record of `tenant`.
pub async fn read(db: &Db, tenant: &Tenant) -> Result<Record, Error> {
    let row: Row = db
        .first(read_query(tenant))
        .await?
        .ok_or_else(|| Error::Bug(format!("customer {} vanished", tenant.id())))?;
    Ok(Record {
        profile: Profile {
            name: row.name,
            contact: Contact {
                name: row.contact_name,
                department: row.contact_department,
                title: row.contact_title,
                email: row.contact_email,
                phone: row.phone,
            },
            address: row.address,
            alert_recipients: decode("recipients", &row.recipients)?,
        },
        reseller_id: row.reseller_id,
        service_start: row.service_start,
        paid_from: row.paid_from,
        contract_ended_at: row.contract_ended_at,
        devices: decode("devices", &row.devices)?,
    })
}

/// Who made a change: a console user or an API token.
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    Login(&'a str),
    Token(&'a str),
}

/// The statements that store `changes` (made to reach `next`) of `tenant`, by `by`.
pub fn change_queries(
    tenant: &Tenant,
    next: &Profile,
    changes: &[FieldChange],
    by: By<'_>,
    now: DateTime<Utc>,
) -> Vec<Query> {
    if changes.is_empty() {
        return Vec::new();
    }
    let mut batch = vec![
        Query::new(
            "UPDATE customers SET name = :name, contact_name = :contact_name, \
               contact_department = :department, contact_title = :title, \
               contact_email = :email, phone = :phone, address = :address \
             WHERE id = :customer",
        )
        .bind("customer", tenant.id())
        .bind("name", next.name.as_str())
        .bind("contact_name", next.contact.name.as_str())
        .bind("department", next.contact.department.as_str())
        .bind("title", next.contact.title.as_str())
        .bind("email", next.contact.email.as_str())
        .bind("phone", next.contact.phone.as_str())
        .bind("address", next.address.as_str()),
    ];
    if changes.iter().any(|c| c.field == Field::AlertRecipients) {
        batch.push(
            Query::new("DELETE FROM alert_recipients WHERE customer_id = :customer")
                .bind("customer", tenant.id()),
        );
        for (position, email) in (1u32..).zip(&next.alert_recipients) {
            batch.push(
                Query::new(
                    "INSERT INTO alert_recipients (customer_id, position, email) \
                     VALUES (:customer, :position, :email)",
                )
                .bind("customer", tenant.id())
                .bind("position", position)
                .bind("email", email.as_str()),
            );
        }
    }
    let (login, token) = match by {
        By::Login(l) => (Some(l), None),
        By::Token(t) => (None, Some(t)),
    };
    for c in changes {
        batch.push(
            Query::new(
                "INSERT INTO customer_changes (customer_id, at, field, old_value, new_value, \
                   by_login, by_token) VALUES (:customer, :at, :field, :old, :new, :login, :token)",
            )
            .bind("customer", tenant.id())
            .bind("at", now)
            .bind("field", c.field.key())
            .bind("old", c.old.as_str())
            .bind("new", c.new.as_str())
            .bind("login", login)
            .bind("token", token),
        );
    }
    batch
}

/// One change as the history lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Changed {
    #[serde(with = "crate::time::ms")]
    pub at: DateTime<Utc>,
    pub field: String,
    pub old_value: String,
    pub new_value: String,
    pub by_login: Option<String>,
    pub by_token: Option<String>,
}

/// The latest `limit` changes of `tenant`, newest first.
pub async fn history(db: &Db, tenant: &Tenant, limit: u32) -> Result<Vec<Changed>, Error> {
    db.all(
        Query::new(
            "SELECT at, field, old_value, new_value, by_login, by_token FROM customer_changes \
             WHERE customer_id = :customer ORDER BY at DESC, id DESC LIMIT :limit",
        )
        .bind("customer", tenant.id())
        .bind("limit", limit),
    )
    .await
}

#[cfg(test)]
mod tests;
