//! The dashboard (セキュリティステータス) of one customer for a period: detections counted
//! by ★ tier and by function, whether a problem waits for the admin, and each appliance
//! with its state and detections. Reads are O(days), not O(alerts): the counts come from
//! the daily tier rollup (`threat_tier_days`), the problem check is one probe of the index
//! of unhandled incidents, and whether an appliance is online is `domain::offline`'s rule
//! with the configured threshold.
//!
//! A problem is an incident the admin has not marked handled whose tier needs the admin
//! (`domain::handling::NEEDING_ADMIN`: ★★★, ★★☆, 調査中) and whose activity overlaps
//! the period.

use chrono::{DateTime, TimeDelta, Utc};
use domain::handling::NEEDING_ADMIN;
use domain::offline;
use domain::period::Period;
use domain::report::Function;
use domain::severity::Severity;
use futures_util::future::try_join3;
use serde::Deserialize;

use crate::{Db, Error, Query, Tenant, devices};

/// What the dashboard shows for one period.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// Detections per tier, every tier listed, most urgent first.
    pub by_tier: Vec<(Severity, u64)>,
    /// Detections per function that saw any, most first (then in the wire order).
    pub by_function: Vec<(Function, u64)>,
    /// An unhandled ★★★ / ★★☆ / 調査中 incident was active in the period:
    /// 「ご利用の環境で問題が見つかりました」.
    pub problem: bool,
    /// The customer's appliances, by name.
    pub appliances: Vec<Appliance>,
}

impl Status {
    /// Every detection of the period.
    pub fn detections(&self) -> u64 {
        self.by_tier.iter().map(|(_, n)| n).sum()
    }
}

/// One appliance's card.
#[derive(Debug, Clone, PartialEq)]
pub struct Appliance {
    pub id: String,
    pub name: String,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub status: offline::Status,
    /// Detections in the period.
    pub detections: u64,
}

/// A row of [`counts_query`].
#[derive(Deserialize)]
pub(crate) struct Count {
    pub(crate) device_id: String,
    pub(crate) function: Function,
    pub(crate) severity: Severity,
    pub(crate) events: i64,
}

#[derive(Deserialize)]
struct Exists {
    n: i64,
}

/// `(0, 1, 3)`: the stored ranks of the tiers that need the admin.
pub(crate) fn needing_admin_ranks() -> String {
    let ranks: Vec<String> = NEEDING_ADMIN
        .iter()
        .map(|t| (*t as u8).to_string())
        .collect();
    format!("({})", ranks.join(", "))
}

pub(crate) fn counts_query(tenant: &Tenant, period: &Period) -> Query {
    Query::new(
        "SELECT device_id, function, severity, sum(events) AS events FROM threat_tier_days \
         WHERE customer_id = :customer AND day >= :from AND day <= :to \
         GROUP BY device_id, function, severity",
    )
    .bind("customer", tenant.id())
    .bind("from", period.from_day())
    .bind("to", period.to_day())
}

pub(crate) fn problem_query(tenant: &Tenant, period: &Period) -> Query {
    Query::new(format!(
        "SELECT EXISTS (SELECT 1 FROM incidents WHERE customer_id = :customer \
           AND severity_rank IN {} AND handled_at IS NULL \
           AND last_at >= :start AND first_at < :end) AS n",
        needing_admin_ranks()
    ))
    .bind("customer", tenant.id())
    .bind("start", period.start())
    .bind("end", period.end())
}

/// Detections per function from `(function, detections)` pairs: the functions that saw
/// any, most first (equal counts keep the wire order).
pub(crate) fn by_function(pairs: impl Iterator<Item = (Function, u64)>) -> Vec<(Function, u64)> {
    let pairs: Vec<(Function, u64)> = pairs.collect();
    let mut all: Vec<(Function, u64)> = Function::ALL
        .iter()
        .map(|f| {
            (
                *f,
                pairs.iter().filter(|(g, _)| g == f).map(|(_, n)| n).sum(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    // Stable: equal counts keep the wire order.
    all.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    all
}

/// The dashboard of `tenant` for `period`, as of `now`; an appliance silent for longer
/// than `offline_after` (`OFFLINE_AFTER_MIN`) is オフライン.
pub async fn status(
    db: &Db,
    tenant: &Tenant,
    period: &Period,
    now: DateTime<Utc>,
    offline_after: TimeDelta,
) -> Result<Status, Error> {
    // Three independent reads, sent together.
    let (counts, problem, listed): (Vec<Count>, Option<Exists>, _) = try_join3(
        db.all(counts_query(tenant, period)),
        db.first(problem_query(tenant, period)),
        devices::list(db, tenant),
    )
    .await?;
    let events = |c: &Count| u64::try_from(c.events).unwrap_or(0);
    let by_tier = [
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Investigating,
    ]
    .map(|tier| {
        let n = counts.iter().filter(|c| c.severity == tier).map(events);
        (tier, n.sum())
    })
    .to_vec();
    let by_function = by_function(counts.iter().map(|c| (c.function, events(c))));
    let appliances = listed
        .into_iter()
        .map(|d| Appliance {
            detections: counts
                .iter()
                .filter(|c| c.device_id == d.id)
                .map(events)
                .sum(),
            status: offline::status(d.last_seen_at, now, offline_after),
            id: d.id,
            name: d.name,
            last_seen_at: d.last_seen_at,
        })
        .collect();
    Ok(Status {
        by_tier,
        by_function,
        problem: problem.is_some_and(|p| p.n != 0),
        appliances,
    })
}

#[cfg(test)]
mod tests;
