//! Incidents as mails and reviews read them: one incident with its appliance and company,
//! as a `domain::mail::AlertLine` explained by the rule table that rated it; the lines a
//! mail claimed; and an investigation's record together with the tier it sets.

use chrono::{DateTime, Utc};
use domain::mail::{AlertLine, LISTED_AT_MOST};
use domain::report::{Action, Direction};
use domain::severity::{RuleSet, Severity};
use serde::Deserialize;

use crate::{Access, Db, Error, Owner, Query};

/// An incident as a mail shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub id: i64,
    /// The customer it belongs to.
    pub owner: Owner,
    /// The customer's name.
    pub company: String,
    pub severity: Severity,
    pub line: AlertLine,
}

#[derive(Deserialize)]
pub(crate) struct Row {
    id: i64,
    customer_id: String,
    company: String,
    severity_rank: i64,
    #[serde(with = "crate::time::ms")]
    first_at: DateTime<Utc>,
    #[serde(with = "crate::time::ms")]
    last_at: DateTime<Utc>,
    count: i64,
    appliance: String,
    host: String,
    name: String,
    action: String,
    direction: String,
    url: Option<String>,
    file_name: Option<String>,
    rule: String,
    rules_version: i64,
}

fn wire<T: serde::de::DeserializeOwned>(s: &str, fallback: T) -> T {
    serde_json::from_value(serde_json::Value::from(s)).unwrap_or(fallback)
}

impl Row {
    pub(crate) fn incident(self) -> Incident {
        let rules = u32::try_from(self.rules_version)
            .ok()
            .and_then(RuleSet::built_in)
            .unwrap_or_else(RuleSet::current);
        let severity = Severity::from_rank(u8::try_from(self.severity_rank).unwrap_or(3));
        let line = AlertLine {
            incident_id: self.id.to_string(),
            severity,
            first_seen: self.first_at,
            last_seen: self.last_at,
            count: u32::try_from(self.count).unwrap_or(u32::MAX),
            appliance: self.appliance,
            host: (!self.host.is_empty()).then_some(self.host),
            threat: self.name,
            action: wire(&self.action, Action::Detected),
            direction: wire(&self.direction, Direction::Inbound),
            url: self.url,
            file: self.file_name,
            reason: rules.reason(&self.rule).to_owned(),
        };
        Incident {
            id: self.id,
            owner: Owner::trusted(self.customer_id),
            company: self.company,
            severity,
            line,
        }
    }
}

/// The columns a line is made of, from `incidents i`, `devices d`, `customers c`.
pub(crate) const LINE_COLUMNS: &str = "i.id, i.customer_id, c.name AS company, i.severity_rank, \
     i.first_at, i.last_at, i.count, d.name AS appliance, i.host, i.name, i.action, \
     i.direction, i.url, i.file_name, i.rule, i.rules_version";

/// Incident `id`, if it exists and `access` may see its customer.
pub async fn visible(db: &Db, access: &Access, id: i64) -> Result<Option<Incident>, Error> {
    let sql = format!(
        "SELECT {LINE_COLUMNS} FROM incidents i JOIN devices d ON d.id = i.device_id \
         JOIN customers c ON c.id = i.customer_id WHERE i.id = :incident AND {}",
        Access::visible("i.customer_id")
    );
    let row: Option<Row> = db
        .first(access.bind(Query::new(sql)).bind("incident", id))
        .await?;
    Ok(row.map(Row::incident))
}

pub(crate) fn of_mail_query(mail_id: &str) -> Query {
    Query::new(format!(
        "SELECT {LINE_COLUMNS} FROM notifications n JOIN incidents i ON i.id = n.incident_id \
         JOIN devices d ON d.id = i.device_id JOIN customers c ON c.id = i.customer_id \
         WHERE n.mail_id = :mail ORDER BY i.severity_rank, i.first_at, i.id LIMIT :limit"
    ))
    .bind("mail", mail_id)
    .bind("limit", LISTED_AT_MOST)
}

pub(crate) fn claimed_query(mail_id: &str) -> Query {
    Query::new("SELECT count(*) AS n FROM notifications WHERE mail_id = :mail")
        .bind("mail", mail_id)
}

/// What an alert mail lists: the most severe of the incidents it claimed
/// (`domain::mail::LISTED_AT_MOST` at most), and how many more it claimed.
#[derive(Debug, Clone, PartialEq)]
pub struct OfMail {
    pub listed: Vec<Incident>,
    pub more: usize,
}

#[derive(Deserialize)]
struct Claimed {
    n: i64,
}

/// The incidents whose notifications mail `mail_id` claimed, most severe first, as far as
/// the mail lists them; and the count of the others.
pub async fn of_mail(db: &Db, mail_id: &str) -> Result<OfMail, Error> {
    let rows: Vec<Row> = db.all(of_mail_query(mail_id)).await?;
    let claimed: Option<Claimed> = db.first(claimed_query(mail_id)).await?;
    let claimed = claimed.map_or(0, |c| usize::try_from(c.n).unwrap_or(0));
    Ok(OfMail {
        more: claimed.saturating_sub(rows.len()),
        listed: rows.into_iter().map(Row::incident).collect(),
    })
}

#[cfg(test)]
mod tests;
