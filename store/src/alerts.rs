//! 検知履歴 (/alerts): every stored detection of one customer, newest first, a page at a
//! time; and one detection in full (/alerts/{id}). A stored row is a threat with its
//! repeats (`count`, compacted by `domain::ingest`).
//!
//! Pages are keyset-paginated: ordered by (last_at, id), both descending, a page starts
//! after the [`Cursor`] of the previous page's last row, so a deep page costs what the
//! first one does and a row is neither skipped nor repeated while new ones arrive
//! (`domain::page::Cursor`). Every
//! filter combination walks, in that order, the per-customer index of its most selective
//! filter (migration 0017; host, appliance, tier, function, action), named in the
//! statement so that the choice does not depend on statistics (the store tests check
//! each plan).
//!
//! A detection of another customer is answered like one that does not exist.

use chrono::{DateTime, TimeDelta, Utc};
use domain::device::DeviceId;
use domain::page::Cursor;
use domain::period::Period;
use domain::report::{Action, Direction, Function, VendorSeverity};
use domain::severity::{RuleSet, Severity};
use serde::Deserialize;

use crate::{Db, Error, Query, Tenant};

/// Which detections a page lists; `None` filters nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// Detections whose last repeat falls in the period.
    pub period: Period,
    pub severity: Option<Severity>,
    pub function: Option<Function>,
    pub device: Option<DeviceId>,
    /// The internal host, as stored: its IP address, else its MAC.
    pub host: Option<String>,
    pub action: Option<Action>,
}

/// Which rows a page starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Newest,
    After(Cursor),
}

/// One stored detection, every field.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Alert {
    pub id: i64,
    pub device_id: String,
    /// The appliance's name.
    pub appliance: String,
    #[serde(with = "crate::time::ms")]
    pub first_at: DateTime<Utc>,
    #[serde(with = "crate::time::ms")]
    pub last_at: DateTime<Utc>,
    /// Repeats within the compaction window, this one included.
    pub count: i64,
    pub severity: Severity,
    /// The rule that rated it (`domain::severity::Rule::id`).
    pub rule: String,
    pub function: Function,
    pub action: Action,
    pub direction: Direction,
    /// The threat's name as the appliance sent it.
    pub name: String,
    pub signature_id: Option<String>,
    pub category: Option<String>,
    pub vendor_severity: VendorSeverity,
    /// The internal host: IP, else MAC, else empty.
    pub host: String,
    pub src_ip: Option<String>,
    pub src_port: Option<i64>,
    pub src_mac: Option<String>,
    pub dst_ip: Option<String>,
    pub dst_port: Option<i64>,
    pub protocol: Option<String>,
    /// As sent; a page shows it defanged, never as a link.
    pub url: Option<String>,
    pub file_name: Option<String>,
    pub file_sha256: Option<String>,
    /// The appliance's id of the first event of the row.
    pub first_event_id: String,
}

/// One page and where the next starts (`None`: this is the last).
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub alerts: Vec<Alert>,
    pub next: Option<Cursor>,
}

/// The columns of an [`Alert`], from `threats t` and `devices d`.
const COLUMNS: &str = "t.id, t.device_id, d.name AS appliance, t.first_at, t.last_at, t.count, \
     t.severity, t.rule, t.function, t.action, t.direction, t.name, t.signature_id, t.category, \
     t.vendor_severity, t.host, t.src_ip, t.src_port, t.src_mac, t.dst_ip, t.dst_port, \
     t.protocol, t.url, t.file_name, t.file_sha256, t.first_event_id";

pub(crate) fn page_query(tenant: &Tenant, filter: &Filter, start: Start, rows: u32) -> Query {
    let end = match start {
        Start::Newest => filter.period.end(),
        Start::After(c) => filter.period.end().min(c.at() + TimeDelta::milliseconds(1)),
    };
    let mut conditions = vec![
        "t.customer_id = :customer",
        "t.last_at >= :start",
        "t.last_at < :end",
    ];
    let optional = [
        (filter.severity.is_some(), "t.severity = :severity"),
        (filter.function.is_some(), "t.function = :function"),
        (filter.device.is_some(), "t.device_id = :device"),
        (filter.host.is_some(), "t.host = :host"),
        (filter.action.is_some(), "t.action = :action"),
        // With `:end` at most just past the cursor's time, the walk starts at the cursor.
        (
            matches!(start, Start::After(_)),
            "(t.last_at < :at OR t.id < :id)",
        ),
    ];
    conditions.extend(optional.iter().filter(|(on, _)| *on).map(|(_, c)| *c));
    // Without statistics SQLite reads the customer's whole period and filters it; the
    // index of the most selective filter given reads only the rows it keeps.
    let index = [
        (filter.host.is_some(), "threats_by_host"),
        (filter.device.is_some(), "threats_by_device"),
        (filter.severity.is_some(), "threats_by_severity"),
        (filter.function.is_some(), "threats_by_function"),
        (filter.action.is_some(), "threats_by_action"),
    ]
    .into_iter()
    .find_map(|(on, index)| on.then_some(index))
    .unwrap_or("threats_by_customer");
    let q = Query::new(format!(
        "SELECT {COLUMNS} FROM threats t INDEXED BY {index} JOIN devices d ON d.id = t.device_id \
         WHERE {} ORDER BY t.last_at DESC, t.id DESC LIMIT :rows",
        conditions.join(" AND ")
    ))
    .bind("customer", tenant.id())
    .bind("start", filter.period.start())
    .bind("end", end)
    .bind("severity", filter.severity.map(Severity::as_str))
    .bind("function", filter.function.map(Function::as_str))
    .bind("device", filter.device.as_ref().map(DeviceId::as_str))
    .bind("host", filter.host.as_deref())
    .bind("action", filter.action.map(Action::as_str))
    .bind("rows", rows);
    match start {
        Start::Newest => q,
        Start::After(c) => q.bind("at", c.at()).bind("id", c.id()),
    }
}

/// At most `limit` of `tenant`'s detections matching `filter`, newest first, from `start`.
pub async fn page(
    db: &Db,
    tenant: &Tenant,
    filter: &Filter,
    start: Start,
    limit: u32,
) -> Result<Page, Error> {
    let limit = limit.max(1);
    let rows: Vec<Alert> = db.all(page_query(tenant, filter, start, limit + 1)).await?;
    let (alerts, next) = keyset(rows, limit, |a| Cursor::new(a.last_at, a.id));
    Ok(Page { alerts, next })
}

/// The first `limit` of `rows` (read `limit + 1` at most) and, when there were more, the
/// cursor of the last one kept: where the next page starts.
pub(crate) fn keyset<T>(
    mut rows: Vec<T>,
    limit: u32,
    cursor: impl Fn(&T) -> Cursor,
) -> (Vec<T>, Option<Cursor>) {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = rows.last().filter(|_| more).map(cursor);
    (rows, next)
}

/// The incident a detection belongs to, as its detail shows it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OfIncident {
    pub id: i64,
    #[serde(rename = "severity_rank", deserialize_with = "rank")]
    pub severity: Severity,
    #[serde(with = "crate::time::ms")]
    pub first_at: DateTime<Utc>,
    #[serde(with = "crate::time::ms")]
    pub last_at: DateTime<Utc>,
    pub count: i64,
    /// When it was marked 「対応しました」.
    #[serde(with = "crate::time::ms_opt", default)]
    pub handled_at: Option<DateTime<Utc>>,
    rules_version: i64,
}

fn rank<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Severity, D::Error> {
    let rank = i64::deserialize(d)?;
    Ok(Severity::from_rank(u8::try_from(rank).unwrap_or(u8::MAX)))
}

/// A mail that told the customer about the incident.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Mailed {
    pub id: String,
    /// `queued` (still being sent or retried), `sent` or `failed`.
    pub status: String,
    pub subject: Option<String>,
    #[serde(with = "crate::time::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::ms_opt", default)]
    pub sent_at: Option<DateTime<Utc>>,
}

/// A detection in full: its row, why its rule rated it so, its incident and the mails.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub alert: Alert,
    /// Why, in Japanese (the rule table that rated its incident, else the current one).
    pub reason: String,
    /// What to do, for someone who is not a security expert.
    pub guidance: &'static str,
    pub incident: Option<OfIncident>,
    /// Oldest first; empty while no mail has gone out about it.
    pub mails: Vec<Mailed>,
}

pub(crate) fn alert_query(tenant: &Tenant, id: i64) -> Query {
    Query::new(format!(
        "SELECT {COLUMNS} FROM threats t JOIN devices d ON d.id = t.device_id \
         WHERE t.id = :alert AND t.customer_id = :customer"
    ))
    .bind("alert", id)
    .bind("customer", tenant.id())
}

pub(crate) fn incident_query(tenant: &Tenant, id: i64) -> Query {
    Query::new(
        "SELECT i.id, i.severity_rank, i.first_at, i.last_at, i.count, i.handled_at, \
           i.rules_version \
         FROM threats t JOIN incidents i ON i.device_id = t.device_id \
           AND i.sig_key = t.sig_key AND i.host = t.host \
           AND i.first_at <= t.last_at AND i.last_at >= t.first_at \
         WHERE t.id = :alert AND t.customer_id = :customer AND i.customer_id = :customer \
         ORDER BY i.first_at DESC LIMIT 1",
    )
    .bind("alert", id)
    .bind("customer", tenant.id())
}

pub(crate) fn mails_query(tenant: &Tenant, incident: i64) -> Query {
    Query::new(
        "SELECT m.id, m.status, m.subject, m.created_at, m.sent_at \
         FROM notifications n JOIN mails m ON m.id = n.mail_id \
         WHERE n.incident_id = :incident AND m.customer_id = :customer \
         ORDER BY m.created_at, m.id",
    )
    .bind("incident", incident)
    .bind("customer", tenant.id())
}

/// `tenant`'s detection `id` in full; `None` if it has none of that id.
pub async fn detail(db: &Db, tenant: &Tenant, id: i64) -> Result<Option<Detail>, Error> {
    let Some(alert) = db.first::<Alert>(alert_query(tenant, id)).await? else {
        return Ok(None);
    };
    let incident: Option<OfIncident> = db.first(incident_query(tenant, id)).await?;
    let mails = match &incident {
        Some(i) => db.all(mails_query(tenant, i.id)).await?,
        None => Vec::new(),
    };
    let rules = incident
        .as_ref()
        .and_then(|i| u32::try_from(i.rules_version).ok())
        .and_then(RuleSet::built_in)
        .unwrap_or_else(RuleSet::current);
    Ok(Some(Detail {
        reason: rules.reason(&alert.rule).to_owned(),
        guidance: alert.severity.guidance(),
        alert,
        incident,
        mails,
    }))
}

pub(crate) fn of_incident_query(tenant: &Tenant, incident: i64) -> Query {
    Query::new(
        "SELECT t.id FROM incidents i JOIN threats t INDEXED BY threats_by_host \
           ON t.customer_id = i.customer_id AND t.host = i.host \
           AND t.last_at >= i.first_at AND t.device_id = i.device_id \
           AND t.sig_key = i.sig_key AND t.first_at <= i.last_at \
         WHERE i.id = :incident AND i.customer_id = :customer \
         ORDER BY t.last_at DESC, t.id DESC LIMIT 1",
    )
    .bind("incident", incident)
    .bind("customer", tenant.id())
}

#[derive(Deserialize)]
struct Id {
    id: i64,
}

/// The latest detection of `tenant`'s incident `incident` (where a mail's link about the
/// incident leads); `None` if it has no such incident or retention removed its rows.
pub async fn of_incident(db: &Db, tenant: &Tenant, incident: i64) -> Result<Option<i64>, Error> {
    let row: Option<Id> = db.first(of_incident_query(tenant, incident)).await?;
    Ok(row.map(|r| r.id))
}

#[cfg(test)]
mod tests;
