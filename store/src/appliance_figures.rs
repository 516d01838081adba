//! 自社UTM同士を比べる: each of one customer's appliances over a period, side by side —
//! detections per day, per ★ tier and per function (the daily tier rollup), the hours it
//! reported (`device_report_hours`, for `domain::availability`), and its connected
//! clients as last reported. Three reads along primary keys, O(appliances × days).

use chrono::{DateTime, NaiveDate, Utc};
use domain::availability;
use domain::period::Period;
use domain::report::Function;
use domain::severity::Severity;
use futures_util::future::try_join4;
use serde::Deserialize;

use crate::status::{Count, counts_query};
use crate::{Db, Error, Query, Tenant, appliances};

/// One appliance's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub id: String,
    pub name: String,
    /// Detections per day of the period, every day listed.
    pub days: Vec<(NaiveDate, u64)>,
    /// Every tier, most urgent first.
    pub by_tier: Vec<(Severity, u64)>,
    /// The functions that saw any, in the wire order.
    pub by_function: Vec<(Function, u64)>,
    /// Online share of the period (`None`: not registered yet in it).
    pub online_percent: Option<u8>,
    pub clients: Option<i64>,
}

impl Figures {
    pub fn detections(&self) -> u64 {
        self.by_tier.iter().map(|(_, n)| n).sum()
    }

    /// Detections of `tier`.
    pub fn tier(&self, tier: Severity) -> u64 {
        self.by_tier
            .iter()
            .find(|(t, _)| *t == tier)
            .map_or(0, |(_, n)| *n)
    }
}

pub(crate) fn per_day_query(tenant: &Tenant, period: &Period) -> Query {
    Query::new(
        "SELECT device_id, day, sum(events) AS events FROM threat_tier_days \
         WHERE customer_id = :customer AND day >= :from AND day <= :to \
         GROUP BY device_id, day",
    )
    .bind("customer", tenant.id())
    .bind("from", period.from_day())
    .bind("to", period.to_day())
}

pub(crate) fn hours_query(tenant: &Tenant, period: &Period) -> Query {
    Query::new(
        "SELECT h.device_id, count(*) AS hours FROM devices d \
         JOIN device_report_hours h ON h.device_id = d.id \
         WHERE d.customer_id = :customer AND h.hour >= :start AND h.hour < :end \
         GROUP BY h.device_id",
    )
    .bind("customer", tenant.id())
    .bind("start", period.start())
    .bind("end", period.end())
}

#[derive(Deserialize)]
struct DayRow {
    device_id: String,
    day: String,
    events: i64,
}

#[derive(Deserialize)]
struct Hours {
    device_id: String,
    hours: i64,
}

fn n(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The figures of each of `tenant`'s appliances for `period`, as of `now`, by name.
pub async fn figures(
    db: &Db,
    tenant: &Tenant,
    period: &Period,
    now: DateTime<Utc>,
) -> Result<Vec<Figures>, Error> {
    // Four independent reads, sent together.
    let (listed, per_day, counts, hours): (_, Vec<DayRow>, Vec<Count>, Vec<Hours>) = try_join4(
        appliances::list(db, tenant),
        db.all(per_day_query(tenant, period)),
        db.all(counts_query(tenant, period)),
        db.all(hours_query(tenant, period)),
    )
    .await?;
    let days = period.each_day();
    Ok(listed
        .into_iter()
        .map(|a| {
            let mine = |c: &&Count| c.device_id == a.id;
            let reported = hours
                .iter()
                .find(|h| h.device_id == a.id)
                .map_or(0, |h| n(h.hours));
            let expected =
                availability::expected_hours(period.start(), period.end(), a.registered_at, now);
            Figures {
                days: days
                    .iter()
                    .map(|d| {
                        let text = d.format("%Y-%m-%d").to_string();
                        let events = per_day
                            .iter()
                            .find(|r| r.device_id == a.id && r.day == text)
                            .map_or(0, |r| n(r.events));
                        (*d, events)
                    })
                    .collect(),
                by_tier: Severity::ALL
                    .iter()
                    .map(|t| {
                        let sum = counts.iter().filter(mine).filter(|c| c.severity == *t);
                        (*t, sum.map(|c| n(c.events)).sum())
                    })
                    .collect(),
                by_function: Function::ALL
                    .iter()
                    .map(|f| {
                        let sum = counts.iter().filter(mine).filter(|c| c.function == *f);
                        (*f, sum.map(|c| n(c.events)).sum::<u64>())
                    })
                    .filter(|(_, n)| *n > 0)
                    .collect(),
                online_percent: availability::percent(reported, expected),
                clients: a.clients,
                id: a.id,
                name: a.name,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests;
