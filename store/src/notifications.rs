//! The outbox: a notification per mailable incident, waiting for a mail. The cron reads
//! which customers have notifications pending; a flush reads one customer's most urgent
//! pending ones (`domain::noise::JUDGED_AT_MOST` at most) with what `domain::noise` judges
//! them by, then claims them and every other pending one of the customer for one new mail
//! in one transaction (the claim is an UPDATE of rows still unclaimed, so each
//! notification goes into exactly one mail), marking and dropping the mass ones in the
//! same transaction. However long the backlog, a flush reads a bounded number of rows.

use chrono::{DateTime, Utc};
use domain::noise::{self, Due, Sorted, Spread};
use domain::outbox::Pending;
use domain::severity::{Notice, Severity};
use serde::Deserialize;

use crate::cron::Cron;
use crate::mails::RECIPIENTS;
use crate::{Db, Error, Owner, Query};

#[derive(Deserialize)]
struct PendingRow {
    customer_id: String,
    #[serde(with = "crate::time::ms")]
    due_at: DateTime<Utc>,
    rank: i64,
    mailed_today: i64,
}

pub(crate) fn pending_query(day_start: DateTime<Utc>) -> Query {
    Query::new(
        "SELECT n.customer_id, min(n.due_at) AS due_at, min(n.rank) AS rank, \
           (SELECT count(*) FROM mails m WHERE m.customer_id = n.customer_id \
              AND m.kind = 'alert' AND m.created_at >= :day_start) AS mailed_today \
         FROM notifications n WHERE n.mail_id IS NULL GROUP BY n.customer_id",
    )
    .bind("day_start", day_start)
}

/// Every customer with notifications pending, with their alert mails since `day_start`
/// (the mail day's start). An all-customer sweep: one row per customer.
pub async fn pending(db: &Db, _cron: &Cron, day_start: DateTime<Utc>) -> Result<Outbox, Error> {
    let rows: Vec<PendingRow> = db.all(pending_query(day_start)).await?;
    Ok(Outbox(
        rows.into_iter()
            .map(|r| Pending {
                customer: r.customer_id,
                due_at: r.due_at,
                most_urgent: Severity::from_rank(u8::try_from(r.rank).unwrap_or(3)),
                mailed_today: u32::try_from(r.mailed_today).unwrap_or(u32::MAX),
            })
            .collect(),
    ))
}

/// What the outbox holds, as the cron read it: only the store makes one, so the owners it
/// names are customers that have notifications waiting.
#[derive(Debug)]
pub struct Outbox(Vec<Pending>);

impl Outbox {
    pub fn pending(&self) -> &[Pending] {
        &self.0
    }

    /// The customers whose mail may go at `now`, earliest due first
    /// (`domain::outbox::due_customers`).
    pub fn due(&self, now: DateTime<Utc>) -> Vec<Owner> {
        domain::outbox::due_customers(&self.0, now)
            .into_iter()
            .map(Owner::trusted)
            .collect()
    }
}

#[derive(Deserialize)]
struct DueRow {
    id: i64,
    notice: String,
    sources: i64,
    hosts: i64,
}

pub(crate) fn due_query(owner: &Owner, since: DateTime<Utc>) -> Query {
    // The most urgent pending notifications first (`notifications_pending_by_rank`), and
    // only so many: the spread is counted for those alone. The spread of a signature at
    // this customer: distinct sources of its threat rows and distinct hosts of its
    // incidents since `since` (only for alerts that may be mass).
    Query::new(
        "SELECT n.id, i.notice, \
           CASE WHEN i.notice = 'mail_unless_mass' THEN \
             (SELECT count(DISTINCT t.src_key) FROM threats t WHERE t.customer_id = :customer \
                AND t.last_at >= :since AND t.sig_key = i.sig_key AND t.src_key <> '') \
           ELSE 0 END AS sources, \
           CASE WHEN i.notice = 'mail_unless_mass' THEN \
             (SELECT count(DISTINCT j.host) FROM incidents j WHERE j.customer_id = :customer \
                AND j.last_at >= :since AND j.sig_key = i.sig_key AND j.host <> '') \
           ELSE 0 END AS hosts \
         FROM (SELECT id, incident_id, rank, due_at FROM notifications \
               WHERE customer_id = :customer AND mail_id IS NULL \
               ORDER BY rank, due_at, id LIMIT :limit) n \
         JOIN incidents i ON i.id = n.incident_id ORDER BY n.rank, n.due_at, n.id",
    )
    .bind("customer", owner.id())
    .bind("since", since)
    .bind("limit", noise::JUDGED_AT_MOST)
}

/// The most urgent pending notifications of `owner` (`domain::noise::JUDGED_AT_MOST` at
/// most; ★★★ first, then by due time), each with the spread of its signature since
/// `since` (`domain::noise::LOOKBACK` ago).
pub async fn due(db: &Db, owner: &Owner, since: DateTime<Utc>) -> Result<Vec<Due>, Error> {
    let rows: Vec<DueRow> = db.all(due_query(owner, since)).await?;
    Ok(rows
        .into_iter()
        .map(|r| Due {
            id: r.id,
            notice: serde_json::from_value(serde_json::Value::from(r.notice))
                .unwrap_or(Notice::Mail),
            spread: Spread {
                sources: u32::try_from(r.sources).unwrap_or(u32::MAX),
                hosts: u32::try_from(r.hosts).unwrap_or(u32::MAX),
            },
        })
        .collect())
}

pub(crate) fn claim_queries(
    owner: &Owner,
    mail_id: &str,
    sorted: &Sorted,
    now: DateTime<Utc>,
) -> Vec<Query> {
    let list = |ids: &[i64]| serde_json::Value::from(ids.to_vec()).to_string();
    let bind = |sql: String| {
        Query::new(sql)
            .bind("mail", mail_id)
            .bind("customer", owner.id())
            .bind("now", now)
            .bind("mailed", list(&sorted.mailed))
            .bind("mass", list(&sorted.mass))
    };
    vec![
        bind(
            "UPDATE incidents SET notice = 'mass' WHERE customer_id = :customer AND id IN \
               (SELECT incident_id FROM notifications \
                WHERE id IN (SELECT value FROM json_each(:mass)) AND mail_id IS NULL)"
                .into(),
        ),
        bind(
            "DELETE FROM notifications WHERE customer_id = :customer AND mail_id IS NULL \
               AND id IN (SELECT value FROM json_each(:mass))"
                .into(),
        ),
        bind(
            "UPDATE notifications SET mail_id = :mail \
             WHERE customer_id = :customer AND mail_id IS NULL \
               AND id IN (SELECT value FROM json_each(:mailed))"
                .into(),
        ),
        // The rest of the backlog, not judged, goes into the same mail as its count (one
        // mail takes every pending notification); only once the mail has anything judged.
        bind(
            "UPDATE notifications SET mail_id = :mail \
             WHERE customer_id = :customer AND mail_id IS NULL \
               AND EXISTS (SELECT 1 FROM notifications WHERE mail_id = :mail)"
                .into(),
        ),
        bind(format!(
            "INSERT INTO mails (id, customer_id, kind, recipients, status, attempts, \
               next_attempt_at, created_at) \
             SELECT :mail, :customer, 'alert', {RECIPIENTS}, 'queued', 0, :now, :now \
             WHERE EXISTS (SELECT 1 FROM notifications WHERE mail_id = :mail)"
        )),
    ]
}

/// Claims `sorted.mailed` for the new alert mail `mail_id` (queued without its texts),
/// with every other pending notification of `owner` that was not judged, and drops
/// `sorted.mass` (their incidents marked `mass`), in one transaction. True when anything
/// judged was claimed: false when another flush got there first (or all was mass).
pub async fn claim(
    db: &Db,
    owner: &Owner,
    mail_id: &str,
    sorted: &Sorted,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let changed = db.batch(claim_queries(owner, mail_id, sorted, now)).await?;
    Ok(changed.get(2).is_some_and(|&n| n > 0))
}

#[cfg(test)]
mod tests;
