//! 問題を確認 (/problems): the incidents of one customer that wait for its administrator —
//! ★★★, ★★☆ and 調査中 ones (`domain::handling::NEEDING_ADMIN`) not yet marked handled —
//! most urgent first, then latest first; and those marked 「対応しました」, latest first.
//! Each comes with what the mails say about it (`incidents::Incident`: appliance, host,
//! threat, action, the rule's reason), the internal host's IP and MAC, and the tier's
//! guidance in plain Japanese.
//!
//! Only an account of the customer itself marks one of the customer's incidents handled,
//! once, with who, when and a note (`domain::handling::Note`); staff read the record.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use domain::handling::Note;
use domain::report::Function;
use serde::Deserialize;

use crate::incidents::{self, Incident, LINE_COLUMNS};
use crate::status::needing_admin_ranks;
use crate::{Db, Error, Query, Tenant};

/// One incident as the problems page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The incident with its line (`line.reason` is why the rule rated it so).
    pub incident: Incident,
    pub device_id: String,
    pub function: Function,
    /// The rule of the table that rated it (`domain::severity::Rule::id`).
    pub rule: String,
    /// The internal host's address, when the appliance sent one.
    pub host_ip: Option<String>,
    /// The internal host's MAC, when the appliance sent one.
    pub host_mac: Option<String>,
    /// What to do, for someone who is not a security expert (`Severity::guidance`).
    pub guidance: &'static str,
    /// Who marked it handled, when, and why; `None` while it waits.
    pub handled: Option<Handled>,
}

/// 「対応しました」 as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Handled {
    pub at: DateTime<Utc>,
    /// The account that marked it.
    pub by: String,
    /// That account's e-mail address, while the account exists.
    pub by_email: Option<String>,
    pub note: String,
}

#[derive(Deserialize)]
struct Row {
    #[serde(flatten)]
    line: incidents::Row,
    device_id: String,
    function: Function,
    rule_id: String,
    mac: Option<String>,
    #[serde(with = "crate::time::ms_opt", default)]
    handled_at: Option<DateTime<Utc>>,
    handled_by: Option<String>,
    handled_email: Option<String>,
    handled_note: Option<String>,
}

impl Row {
    fn problem(self) -> Problem {
        let incident = self.line.incident();
        let host = incident.line.host.clone().unwrap_or_default();
        let host_ip = host.parse::<IpAddr>().is_ok().then(|| host.clone());
        let host_mac = self
            .mac
            .or_else(|| (host_ip.is_none() && !host.is_empty()).then_some(host));
        let handled = match (self.handled_at, self.handled_by) {
            (Some(at), Some(by)) => Some(Handled {
                at,
                by,
                by_email: self.handled_email,
                note: self.handled_note.unwrap_or_default(),
            }),
            _ => None,
        };
        Problem {
            guidance: incident.severity.guidance(),
            incident,
            device_id: self.device_id,
            function: self.function,
            rule: self.rule_id,
            host_ip,
            host_mac,
            handled,
        }
    }
}

/// A threat row holds the events of one compaction window, so the rows of an incident
/// end within a window after it.
const WINDOW_MS: i64 = domain::ingest::COMPACT_WINDOW.num_milliseconds();

/// The columns of a [`Row`], from `incidents i`, `devices d`, `customers c`, `accounts a`.
/// The MAC is the latest one the appliance sent for this host and threat (only the
/// sending side's MAC is stored: none for inbound traffic).
fn select(filter: &str, order: &str) -> String {
    format!(
        "SELECT {LINE_COLUMNS}, i.device_id, i.function, i.rule AS rule_id, \
           CASE WHEN i.direction = 'inbound' THEN NULL ELSE \
           (SELECT t.src_mac FROM threats t WHERE t.customer_id = i.customer_id \
              AND t.host = i.host AND t.last_at >= i.first_at \
              AND t.last_at < i.last_at + {WINDOW_MS} \
              AND t.device_id = i.device_id AND t.sig_key = i.sig_key \
              AND t.direction <> 'inbound' AND t.src_mac IS NOT NULL \
            ORDER BY t.last_at DESC LIMIT 1) END AS mac, \
           i.handled_at, i.handled_by, a.email AS handled_email, i.handled_note \
         FROM incidents i JOIN devices d ON d.id = i.device_id \
         JOIN customers c ON c.id = i.customer_id \
         LEFT JOIN accounts a ON a.id = i.handled_by \
         WHERE i.customer_id = :customer AND {filter} ORDER BY {order} LIMIT :limit"
    )
}

pub(crate) fn open_query(tenant: &Tenant, limit: u32) -> Query {
    Query::new(select(
        &format!(
            "i.handled_at IS NULL AND i.severity_rank IN {}",
            needing_admin_ranks()
        ),
        "i.severity_rank, i.last_at DESC",
    ))
    .bind("customer", tenant.id())
    .bind("limit", limit)
}

pub(crate) fn handled_query(tenant: &Tenant, limit: u32) -> Query {
    Query::new(select(
        "i.handled_at IS NOT NULL",
        "i.handled_at DESC, i.id DESC",
    ))
    .bind("customer", tenant.id())
    .bind("limit", limit)
}

/// At most `limit` of the incidents waiting for `tenant`'s admin, most urgent first.
pub async fn open(db: &Db, tenant: &Tenant, limit: u32) -> Result<Vec<Problem>, Error> {
    let rows: Vec<Row> = db.all(open_query(tenant, limit)).await?;
    Ok(rows.into_iter().map(Row::problem).collect())
}

/// At most `limit` of `tenant`'s incidents marked handled, latest first (「対応済み」).
pub async fn handled(db: &Db, tenant: &Tenant, limit: u32) -> Result<Vec<Problem>, Error> {
    let rows: Vec<Row> = db.all(handled_query(tenant, limit)).await?;
    Ok(rows.into_iter().map(Row::problem).collect())
}

/// Both lists of the page, read together: the open problems and the handled ones.
pub async fn lists(
    db: &Db,
    tenant: &Tenant,
    limit: u32,
) -> Result<(Vec<Problem>, Vec<Problem>), Error> {
    futures_util::future::try_join(open(db, tenant, limit), handled(db, tenant, limit)).await
}

/// What marking an incident handled did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marked {
    /// Recorded now.
    Marked,
    /// It was marked before; the first record stands.
    AlreadyHandled,
    /// No incident of `tenant` has this id, or the account is not one of `tenant`'s
    /// usable accounts: answered like a missing page.
    NotFound,
}

pub(crate) fn mark_query(
    tenant: &Tenant,
    account_id: &str,
    incident_id: i64,
    note: &Note,
    now: DateTime<Utc>,
) -> Query {
    Query::new(
        "UPDATE incidents SET handled_at = :now, handled_by = :account, handled_note = :note \
         WHERE id = :incident AND customer_id = :customer AND handled_at IS NULL \
           AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = :account \
             AND a.role = 'customer' AND a.customer_id = :customer AND a.disabled = 0)",
    )
    .bind("now", now)
    .bind("account", account_id)
    .bind("note", note.as_str())
    .bind("incident", incident_id)
    .bind("customer", tenant.id())
}

pub(crate) fn marked_query(tenant: &Tenant, account_id: &str, incident_id: i64) -> Query {
    Query::new(
        "SELECT count(*) AS n FROM incidents WHERE id = :incident AND customer_id = :customer \
           AND handled_at IS NOT NULL \
           AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = :account \
             AND a.role = 'customer' AND a.customer_id = :customer)",
    )
    .bind("account", account_id)
    .bind("incident", incident_id)
    .bind("customer", tenant.id())
}

#[derive(Deserialize)]
struct N {
    n: i64,
}

/// 「対応しました」: account `account_id` of `tenant` marks `tenant`'s incident
/// `incident_id` handled at `now` with `note`.
pub async fn mark_handled(
    db: &Db,
    tenant: &Tenant,
    account_id: &str,
    incident_id: i64,
    note: &Note,
    now: DateTime<Utc>,
) -> Result<Marked, Error> {
    if db
        .run(mark_query(tenant, account_id, incident_id, note, now))
        .await?
        == 1
    {
        return Ok(Marked::Marked);
    }
    let before: Option<N> = db
        .first(marked_query(tenant, account_id, incident_id))
        .await?;
    Ok(match before {
        Some(N { n }) if n > 0 => Marked::AlreadyHandled,
        _ => Marked::NotFound,
    })
}

#[cfg(test)]
mod tests;
