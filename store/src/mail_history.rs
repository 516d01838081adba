//! 通知メール履歴 (/mails): every mail mailed to one customer — alerts, appliance down,
//! still down and recovered, investigation reports — newest first, a page at a time, each
//! with when it was queued and sent, its subject, the addresses it went to and whether it
//! was delivered or is still being retried. It is the customer's evidence for the
//! insurance (seed §4.5), so nothing is left out but what the retention removed.
//!
//! Pages are keyset-paginated like the alert list (`domain::page::Cursor`): ordered by
//! (created_at, rowid), both descending, along `mails_by_customer` (whose entries carry the
//! rowid), so a deep page costs what the first one does. The recipients are those the
//! mail was queued to, as they were then.

use chrono::{DateTime, TimeDelta, Utc};
use domain::page::Cursor;
use serde::Deserialize;

use crate::alerts::{Start, keyset};
use crate::mails::Kind;
use crate::{Db, Error, Query, Tenant};

/// Where a mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// Still being sent: not tried yet, or tried and to be retried.
    Queued,
    /// Handed to the mail service.
    Sent,
    /// Given up (no alert recipients).
    Failed,
}

/// One mail as the history lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Mailed {
    /// The page cursor's id.
    seq: i64,
    pub id: String,
    #[serde(deserialize_with = "kind")]
    pub kind: Kind,
    /// `None` only while an alert mail's texts are being written.
    pub subject: Option<String>,
    #[serde(deserialize_with = "addresses")]
    pub recipients: Vec<String>,
    pub status: Delivery,
    /// Attempts to hand it to the mail service so far.
    pub attempts: u32,
    #[serde(with = "crate::time::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::ms_opt", default)]
    pub sent_at: Option<DateTime<Utc>>,
    /// The next attempt, while it is queued.
    #[serde(with = "crate::time::ms_opt", default)]
    pub retry_at: Option<DateTime<Utc>>,
}

fn kind<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
    let s = String::deserialize(d)?;
    Kind::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("mail kind {s}")))
}

fn addresses<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let s = String::deserialize(d)?;
    serde_json::from_str(&s).map_err(serde::de::Error::custom)
}

/// One page and where the next starts (`None`: this is the last).
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub mails: Vec<Mailed>,
    pub next: Option<Cursor>,
}

pub(crate) fn page_query(tenant: &Tenant, start: Start, rows: u32) -> Query {
    // With `:end` just past the cursor's time, the walk starts at the cursor.
    let after = match start {
        Start::Newest => "",
        Start::After(_) => "AND created_at < :end AND (created_at < :at OR rowid < :id)",
    };
    let q = Query::new(format!(
        "SELECT rowid AS seq, id, kind, subject, recipients, status, attempts, created_at, \
           sent_at, CASE WHEN status = 'queued' THEN next_attempt_at END AS retry_at \
         FROM mails WHERE customer_id = :customer {after} \
         ORDER BY created_at DESC, rowid DESC LIMIT :rows"
    ))
    .bind("customer", tenant.id())
    .bind("rows", rows);
    match start {
        Start::Newest => q,
        Start::After(c) => q
            .bind("end", c.at() + TimeDelta::milliseconds(1))
            .bind("at", c.at())
            .bind("id", c.id()),
    }
}

/// At most `limit` of the mails to `tenant`, newest first, from `start`.
pub async fn page(db: &Db, tenant: &Tenant, start: Start, limit: u32) -> Result<Page, Error> {
    let limit = limit.max(1);
    let rows: Vec<Mailed> = db.all(page_query(tenant, start, limit + 1)).await?;
    let (mails, next) = keyset(rows, limit, |m| Cursor::new(m.created_at, m.seq));
    Ok(Page { mails, next })
}

#[cfg(test)]
mod tests;
