//! インターネット利用状況 (/usage): the web categories and applications a customer's
//! network used in a period — recorded by the appliances, not blocked (seed §4.2) — as
//! the top [`TOP`] names by hits and by bytes, for the whole company, per appliance and
//! for its [`TOP`] busiest internal hosts.
//!
//! Reads are O(days), not O(records): the company and appliance lists sum the daily
//! rollup `usage_days`, the host lists `usage_host_days` (migration 0019), each along its
//! primary key's (customer, day) range; SQLite ranks the sums (`row_number()`), so only
//! the rows shown come back. Ties go by name, so a page is the same on every load. The
//! internal host is the record's client IP, else its MAC, else `""` (not known).

use domain::period::Period;
use domain::report::UsageKind;
use serde::Deserialize;

use crate::{Db, Error, Query, Tenant, devices};

/// Names per list, and busiest hosts shown.
pub const TOP: u32 = 10;

/// One name's use in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub hits: u64,
    pub bytes: u64,
}

/// The top names of one kind, by hits and by bytes, most first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ranked {
    pub by_hits: Vec<Named>,
    pub by_bytes: Vec<Named>,
}

/// The top web categories and applications of one scope.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tops {
    pub categories: Ranked,
    pub applications: Ranked,
}

/// One appliance's use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appliance {
    pub id: String,
    pub name: String,
    pub tops: Tops,
}

/// One internal host's use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Its IP address, else its MAC, else `""`: not known.
    pub host: String,
    pub hits: u64,
    pub bytes: u64,
    pub tops: Tops,
}

/// What /usage shows for one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub company: Tops,
    /// Every appliance of the customer, by name (one without records has empty lists).
    pub appliances: Vec<Appliance>,
    /// The [`TOP`] hosts with the most hits, most first.
    pub hosts: Vec<Host>,
}

/// A name ranked within its scope and kind.
#[derive(Deserialize)]
struct Row {
    scope: String,
    kind: UsageKind,
    name: String,
    hits: i64,
    bytes: i64,
    by_hits: i64,
    by_bytes: i64,
}

#[derive(Deserialize)]
struct Busiest {
    host: String,
    hits: i64,
    bytes: i64,
}

/// The sums of `table` in the period per `scope` (a column), kind and name, each ranked
/// by hits and by bytes within its scope and kind: the rows within the [`TOP`] of either.
fn ranked_query(table: &str, scope: &str, only: &str, tenant: &Tenant, period: &Period) -> Query {
    Query::new(format!(
        "SELECT scope, kind, name, hits, bytes, by_hits, by_bytes FROM ( \
           SELECT {scope} AS scope, kind, name, sum(hits) AS hits, sum(bytes) AS bytes, \
             row_number() OVER (PARTITION BY {scope}, kind ORDER BY sum(hits) DESC, name) AS by_hits, \
             row_number() OVER (PARTITION BY {scope}, kind ORDER BY sum(bytes) DESC, name) AS by_bytes \
           FROM {table} WHERE customer_id = :customer AND day >= :from AND day <= :to {only} \
           GROUP BY {scope}, kind, name) \
         WHERE by_hits <= :top OR by_bytes <= :top"
    ))
    .bind("customer", tenant.id())
    .bind("from", period.from_day())
    .bind("to", period.to_day())
    .bind("top", TOP)
}

pub(crate) fn company_query(tenant: &Tenant, period: &Period) -> Query {
    ranked_query("usage_days", "customer_id", "", tenant, period)
}

pub(crate) fn appliances_query(tenant: &Tenant, period: &Period) -> Query {
    ranked_query("usage_days", "device_id", "", tenant, period)
}

pub(crate) fn busiest_query(tenant: &Tenant, period: &Period) -> Query {
    Query::new(
        "SELECT host, sum(hits) AS hits, sum(bytes) AS bytes FROM usage_host_days \
         WHERE customer_id = :customer AND day >= :from AND day <= :to \
         GROUP BY host ORDER BY hits DESC, host LIMIT :top",
    )
    .bind("customer", tenant.id())
    .bind("from", period.from_day())
    .bind("to", period.to_day())
    .bind("top", TOP)
}

/// The ranked names of `hosts` (a JSON array of hosts).
pub(crate) fn hosts_query(tenant: &Tenant, period: &Period, hosts: &str) -> Query {
    ranked_query(
        "usage_host_days",
        "host",
        "AND host IN (SELECT value FROM json_each(:hosts))",
        tenant,
        period,
    )
    .bind("hosts", hosts)
}

/// `tenant`'s use of the internet in `period`.
pub async fn usage(db: &Db, tenant: &Tenant, period: &Period) -> Result<Usage, Error> {
    let company: Vec<Row> = db.all(company_query(tenant, period)).await?;
    let per_device: Vec<Row> = db.all(appliances_query(tenant, period)).await?;
    let busiest: Vec<Busiest> = db.all(busiest_query(tenant, period)).await?;
    let names: Vec<&str> = busiest.iter().map(|b| b.host.as_str()).collect();
    let per_host: Vec<Row> = if names.is_empty() {
        Vec::new()
    } else {
        let hosts = serde_json::to_string(&names).map_err(|e| Error::Bug(format!("hosts: {e}")))?;
        db.all(hosts_query(tenant, period, &hosts)).await?
    };
    let appliances = devices::list(db, tenant)
        .await?
        .into_iter()
        .map(|d| Appliance {
            tops: tops(&per_device, &d.id),
            id: d.id,
            name: d.name,
        })
        .collect();
    let hosts = busiest
        .iter()
        .map(|b| Host {
            host: b.host.clone(),
            hits: count(b.hits),
            bytes: count(b.bytes),
            tops: tops(&per_host, &b.host),
        })
        .collect();
    Ok(Usage {
        company: tops(&company, tenant.id()),
        appliances,
        hosts,
    })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The lists of `scope` from its ranked rows.
fn tops(rows: &[Row], scope: &str) -> Tops {
    let ranked = |kind: UsageKind| {
        let list = |rank: fn(&Row) -> i64| {
            let mut of: Vec<&Row> = rows
                .iter()
                .filter(|r| r.scope == scope && r.kind == kind && rank(r) <= i64::from(TOP))
                .collect();
            of.sort_by_key(|r| rank(r));
            of.into_iter()
                .map(|r| Named {
                    name: r.name.clone(),
                    hits: count(r.hits),
                    bytes: count(r.bytes),
                })
                .collect()
        };
        Ranked {
            by_hits: list(|r| r.by_hits),
            by_bytes: list(|r| r.by_bytes),
        }
    };
    Tops {
        categories: ranked(UsageKind::WebCategory),
        applications: ranked(UsageKind::Application),
    }
}

#[cfg(test)]
mod tests;
