//! Mails as stored: the customer's delivery log and the send queue. A mail is queued to
//! the customer's alert recipients as they are when it is queued, in one transaction with
//! the state change it reports; each attempt to hand it to the mail API is recorded, and
//! a queued mail whose next attempt is due is retried by the cron.

use chrono::{DateTime, Utc};
use domain::downtime::Notice;
use domain::mail::Mail;
use serde::Deserialize;

use crate::cron::Cron;
use crate::{Db, Error, Owner, Query};

/// What a mail is about, as stored in `mails.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Alert,
    ApplianceDown,
    ApplianceStillDown,
    ApplianceRecovered,
    Investigation,
    /// 月次レポート: last month's highlights.
    MonthlyReport,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Alert,
        Kind::ApplianceDown,
        Kind::ApplianceStillDown,
        Kind::ApplianceRecovered,
        Kind::Investigation,
        Kind::MonthlyReport,
    ];

    /// The kind stored as `s`.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Alert => "alert",
            Kind::ApplianceDown => "appliance_down",
            Kind::ApplianceStillDown => "appliance_still_down",
            Kind::ApplianceRecovered => "appliance_recovered",
            Kind::Investigation => "investigation",
            Kind::MonthlyReport => "monthly_report",
        }
    }
}

impl From<Notice> for Kind {
    fn from(n: Notice) -> Kind {
        match n {
            Notice::WentDown => Kind::ApplianceDown,
            Notice::StillDown => Kind::ApplianceStillDown,
            Notice::Recovered => Kind::ApplianceRecovered,
        }
    }
}

/// A written mail to queue for one customer.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: String,
    pub owner: Owner,
    pub kind: Kind,
    pub mail: Mail,
}

/// The alert recipients of `:customer`, in order, as a JSON array (a SQL expression).
pub(crate) const RECIPIENTS: &str = "(SELECT json_group_array(email) FROM \
     (SELECT email FROM alert_recipients WHERE customer_id = :customer ORDER BY position))";

/// The statement queueing `out`, due now; batched with the change it reports.
pub(crate) fn queue(out: &Outgoing, now: DateTime<Utc>) -> Query {
    queue_where(out, now, "true")
}

/// The statement queueing `out` only if `condition` (SQL over the same binds, `:mail`
/// among them) holds when it runs: a mail that its batch's earlier statement may have
/// made unnecessary.
pub(crate) fn queue_if(out: &Outgoing, now: DateTime<Utc>, condition: &str) -> Query {
    queue_where(out, now, condition)
}

fn queue_where(out: &Outgoing, now: DateTime<Utc>, condition: &str) -> Query {
    Query::new(format!(
        "INSERT INTO mails (id, customer_id, kind, recipients, subject, text, html, \
           status, attempts, next_attempt_at, created_at) \
         SELECT :mail, :customer, :kind, {RECIPIENTS}, :subject, :text, :html, \
           'queued', 0, :now, :now WHERE {condition}"
    ))
    .bind("mail", out.id.as_str())
    .bind("customer", out.owner.id())
    .bind("kind", out.kind.as_str())
    .bind("subject", out.mail.subject.as_str())
    .bind("text", out.mail.text.as_str())
    .bind("html", out.mail.html.as_str())
    .bind("now", now)
}

/// A queued mail, as the next attempt sends it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Queued {
    pub id: String,
    kind: String,
    recipients: String,
    pub subject: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
    pub attempts: u32,
}

impl Queued {
    /// An alert mail whose texts were not written yet (its flush stopped after the claim).
    pub fn unwritten_alert(&self) -> bool {
        self.subject.is_none() && self.kind == Kind::Alert.as_str()
    }
    pub fn recipients(&self) -> Vec<String> {
        serde_json::from_str(&self.recipients).unwrap_or_default()
    }
}

/// Mail `id`, while it is queued.
pub async fn queued(db: &Db, id: &str) -> Result<Option<Queued>, Error> {
    db.first(
        Query::new(
            "SELECT id, kind, recipients, subject, text, html, attempts FROM mails \
             WHERE id = :mail AND status = 'queued'",
        )
        .bind("mail", id),
    )
    .await
}

pub(crate) fn due_query(now: DateTime<Utc>, limit: usize) -> Query {
    Query::new(
        "SELECT id, kind, recipients, subject, text, html, attempts FROM mails \
         WHERE status = 'queued' AND next_attempt_at <= :now \
         ORDER BY next_attempt_at, id LIMIT :limit",
    )
    .bind("now", now)
    .bind("limit", limit)
}

/// The queued mails of every customer whose next attempt is due, oldest first, `limit` at
/// most (a page: the caller sends them and records the attempts before reading more).
pub async fn due(
    db: &Db,
    _cron: &Cron,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<Queued>, Error> {
    db.all(due_query(now, limit)).await
}

/// How one attempt to hand a mail to the mail API went.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// Taken at attempt `attempts`.
    Sent { id: String, attempts: u32 },
    /// Failed at attempt `attempts`; tried again at `next`.
    Failed {
        id: String,
        attempts: u32,
        next: DateTime<Utc>,
        error: String,
    },
}

fn attempt_query(attempt: &Attempt, now: DateTime<Utc>) -> Query {
    match attempt {
        Attempt::Sent { id, attempts } => Query::new(
            "UPDATE mails SET status = 'sent', attempts = :attempts, sent_at = :now, \
               last_error = NULL WHERE id = :mail AND status = 'queued'",
        )
        .bind("mail", id.as_str())
        .bind("attempts", *attempts)
        .bind("now", now),
        Attempt::Failed {
            id,
            attempts,
            next,
            error,
        } => Query::new(
            "UPDATE mails SET attempts = :attempts, next_attempt_at = :next, last_error = :error \
             WHERE id = :mail AND status = 'queued'",
        )
        .bind("mail", id.as_str())
        .bind("attempts", *attempts)
        .bind("next", *next)
        .bind("error", error.as_str()),
    }
}

/// Records `attempts` made at `now`, all in one batch.
pub async fn record(db: &Db, attempts: &[Attempt], now: DateTime<Utc>) -> Result<(), Error> {
    if attempts.is_empty() {
        return Ok(());
    }
    db.batch(attempts.iter().map(|a| attempt_query(a, now)).collect())
        .await?;
    Ok(())
}

/// Writes the texts of mail `id`.
pub async fn write(db: &Db, id: &str, mail: &Mail) -> Result<(), Error> {
    db.run(
        Query::new(
            "UPDATE mails SET subject = :subject, text = :text, html = :html WHERE id = :mail",
        )
        .bind("mail", id)
        .bind("subject", mail.subject.as_str())
        .bind("text", mail.text.as_str())
        .bind("html", mail.html.as_str()),
    )
    .await?;
    Ok(())
}

/// Gives up on mail `id`: nobody to send it to.
pub async fn no_recipients(db: &Db, id: &str) -> Result<(), Error> {
    db.run(
        Query::new(
            "UPDATE mails SET status = 'failed', last_error = 'no alert recipients' WHERE id = :mail",
        )
        .bind("mail", id),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests;
