//! 月次レポート as stored (`domain::monthly`): [`report`] makes one month's report of a
//! customer from the other reads (the dashboard's counts, each appliance's figures, the
//! comparison), all sent together, and, for a closed month when asked, the top threats
//! and hosts (the one read that walks every threat row of the month, along the
//! customer's time index: done once, by the cron); [`kept`] reads a closed month's report as it was made; [`save`] keeps it
//! and queues its mail in one batch, once per customer and month; [`due`] names the
//! customers whose report of a month is not made yet.

use chrono::{DateTime, NaiveDate, Utc};
use domain::month::Month;
use domain::monthly::{ApplianceMonth, Mails, Peers, Ranked, Report, TOP};
use domain::period::Period;
use domain::severity::Severity;
use futures_util::future::{try_join, try_join3};
use serde::Deserialize;

use crate::cron::Cron;
use crate::mails::{Kind, Outgoing, queue_if};
use crate::status::needing_admin_ranks;
use crate::{Db, Error, Query, Tenant, appliance_figures, peers, status};

pub(crate) fn tops_query(tenant: &Tenant, month: Month, column: &str) -> Query {
    Query::new(format!(
        "SELECT {column} AS name, sum(count) AS count FROM threats \
         WHERE customer_id = :customer AND last_at >= :start AND last_at < :end \
           AND {column} <> '' \
         GROUP BY {column} ORDER BY count DESC, name LIMIT :top"
    ))
    .bind("customer", tenant.id())
    .bind("start", month.start())
    .bind("end", month.end())
    .bind("top", TOP)
}

/// The month's counts in one row: the ★★★ / ★★☆ / 調査中 incidents active in it and not
/// marked handled (along the partial index of unhandled incidents), those marked
/// 「対応しました」 in it (the partial index of handled ones), each appliance's outages
/// and the mails by kind and status (as JSON arrays), each along the customer's index.
pub(crate) fn counts_query(tenant: &Tenant, month: Month) -> Query {
    Query::new(format!(
        "SELECT (SELECT count(*) FROM incidents \
                 WHERE customer_id = :customer AND severity_rank IN {} AND handled_at IS NULL \
                   AND last_at >= :start AND first_at < :end) AS open, \
                (SELECT count(*) FROM incidents \
                 WHERE customer_id = :customer AND handled_at IS NOT NULL \
                   AND handled_at >= :start AND handled_at < :end) AS handled, \
                (SELECT json_group_array(json_object('device_id', device_id, 'n', n)) FROM \
                   (SELECT device_id, count(*) AS n FROM device_outages \
                    WHERE customer_id = :customer AND noticed_at >= :start AND noticed_at < :end \
                    GROUP BY device_id)) AS outages, \
                (SELECT json_group_array(json_object('kind', kind, 'status', status, 'n', n)) FROM \
                   (SELECT kind, status, count(*) AS n FROM mails \
                    WHERE customer_id = :customer AND created_at >= :start AND created_at < :end \
                    GROUP BY kind, status)) AS mails",
        needing_admin_ranks()
    ))
    .bind("customer", tenant.id())
    .bind("start", month.start())
    .bind("end", month.end())
}

#[derive(Deserialize)]
struct Named {
    name: String,
    count: i64,
}

#[derive(Deserialize)]
struct Counts {
    open: i64,
    handled: i64,
    /// `[{"device_id", "n"}]`.
    outages: String,
    /// `[{"kind", "status", "n"}]`.
    mails: String,
}

#[derive(Deserialize)]
struct Outages {
    device_id: String,
    n: i64,
}

#[derive(Deserialize)]
struct MailCount {
    kind: String,
    status: String,
    n: i64,
}

fn n(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// When and under which settings a report is made.
#[derive(Debug, Clone, Copy)]
pub struct Making {
    pub now: DateTime<Utc>,
    /// `now`'s day in Tokyo.
    pub today: NaiveDate,
    /// `PEER_MIN_COMPANIES`.
    pub min_companies: u32,
    /// Rank the month's top threats and hosts (a closed month, by the cron: it reads every
    /// threat row of the month).
    pub tops: bool,
}

/// The report of `month` for `tenant` as `making` says, with the comparison (`main`
/// holds its figures); `None` for a month that has not begun.
pub async fn report(
    main: &Db,
    db: &Db,
    tenant: &Tenant,
    month: Month,
    making: Making,
) -> Result<Option<Report>, Error> {
    let Making {
        now,
        today,
        min_companies,
        tops,
    } = making;
    let Some(period) = Period::month(month, today) else {
        return Ok(None);
    };
    let closed = month.closed(now);
    // Independent reads, sent together.
    let (figures, counts, compared) = try_join3(
        appliance_figures::figures(db, tenant, &period, now),
        db.first::<Counts>(counts_query(tenant, month)),
        peers::comparison(main, db, tenant, &period, min_companies),
    )
    .await?;
    let counts = counts.ok_or_else(|| Error::Bug("a counting query without its row".into()))?;
    let outages: Vec<Outages> = serde_json::from_str(&counts.outages).unwrap_or_default();
    let mail_counts: Vec<MailCount> = serde_json::from_str(&counts.mails).unwrap_or_default();
    let ranked = |rows: Vec<Named>| {
        rows.into_iter()
            .map(|r| Ranked {
                name: r.name,
                count: n(r.count),
            })
            .collect::<Vec<_>>()
    };
    let (top_threats, top_hosts) = if tops && closed {
        let (threats, hosts) = try_join(
            db.all(tops_query(tenant, month, "name")),
            db.all(tops_query(tenant, month, "host")),
        )
        .await?;
        (ranked(threats), ranked(hosts))
    } else {
        (Vec::new(), Vec::new())
    };
    let mut mails = Mails::default();
    for m in &mail_counts {
        let count = n(m.n);
        match Kind::parse(&m.kind) {
            Some(Kind::Alert) => mails.alerts += count,
            Some(Kind::Investigation) => mails.investigations += count,
            Some(Kind::ApplianceDown | Kind::ApplianceStillDown | Kind::ApplianceRecovered) => {
                mails.appliances += count
            }
            Some(Kind::MonthlyReport) | None => {}
        }
        if m.status != "sent" {
            mails.undelivered += count;
        }
    }
    let days = period
        .each_day()
        .into_iter()
        .map(|d| {
            let sum = figures
                .iter()
                .flat_map(|f| f.days.iter())
                .filter(|(day, _)| *day == d)
                .map(|(_, n)| n)
                .sum();
            (d, sum)
        })
        .collect();
    Ok(Some(Report {
        month: month.text(),
        closed,
        problems_open: n(counts.open),
        problems_handled: n(counts.handled),
        by_tier: Severity::ALL
            .iter()
            .map(|t| (*t, figures.iter().map(|f| f.tier(*t)).sum()))
            .collect(),
        by_function: status::by_function(
            figures.iter().flat_map(|a| a.by_function.iter().copied()),
        ),
        days,
        top_threats,
        top_hosts,
        appliances: figures
            .iter()
            .map(|f| ApplianceMonth {
                id: f.id.clone(),
                name: f.name.clone(),
                detections: f.detections(),
                online_percent: f.online_percent,
                outages: outages
                    .iter()
                    .find(|o| o.device_id == f.id)
                    .map_or(0, |o| n(o.n)),
            })
            .collect(),
        mails,
        peers: compared.ok().map(|c| Peers {
            own: c.own,
            average: c.average,
            band: c.band,
        }),
    }))
}

#[derive(Deserialize)]
struct Body {
    body: String,
}

#[derive(Deserialize)]
struct KeptMonth {
    month: String,
}

/// `tenant`'s kept report of `month`, as it was made.
pub async fn kept(db: &Db, tenant: &Tenant, month: Month) -> Result<Option<Report>, Error> {
    let row: Option<Body> = db
        .first(
            Query::new(
                "SELECT body FROM monthly_reports WHERE customer_id = :customer AND month = :month",
            )
            .bind("customer", tenant.id())
            .bind("month", month.text()),
        )
        .await?;
    Ok(row.and_then(|r| serde_json::from_str(&r.body).ok()))
}

/// The months of `tenant`'s kept reports, newest first.
pub async fn kept_months(db: &Db, tenant: &Tenant) -> Result<Vec<Month>, Error> {
    let rows: Vec<KeptMonth> = db
        .all(
            Query::new(
                "SELECT month FROM monthly_reports WHERE customer_id = :customer \
                 ORDER BY month DESC",
            )
            .bind("customer", tenant.id()),
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| Month::parse(&r.month).ok())
        .collect())
}

/// Customers whose report of `month` is not made yet, `limit` at most: those whose
/// contract runs, began by the month's last day and who were with the service (their
/// row created) before the month ended: no report of a month before one was a customer.
pub async fn due(db: &Db, _cron: &Cron, month: Month, limit: u32) -> Result<Vec<Tenant>, Error> {
    let rows: Vec<crate::access::Row> = db
        .all(
            Query::new(format!(
                "SELECT {} FROM customers c WHERE c.contract_ended_at IS NULL \
                   AND c.service_start <= :last_day AND c.created_at < :end \
                   AND NOT EXISTS (SELECT 1 FROM monthly_reports r \
                                   WHERE r.customer_id = c.id AND r.month = :month) \
                 ORDER BY c.id LIMIT :limit",
                crate::access::COLUMNS
            ))
            .bind("last_day", month.last_day().format("%Y-%m-%d").to_string())
            .bind("end", month.end())
            .bind("month", month.text())
            .bind("limit", limit),
        )
        .await?;
    Ok(rows.into_iter().map(Tenant::from).collect())
}

/// Keeps `report` (a closed month of `tenant`) and queues `mail` about it, in one batch:
/// a report already kept keeps its first version and no second mail goes out.
pub async fn save(
    db: &Db,
    tenant: &Tenant,
    report: &Report,
    mail: &Outgoing,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let body = serde_json::to_string(report).map_err(|e| Error::Bug(e.to_string()))?;
    let keep = Query::new(
        "INSERT INTO monthly_reports (customer_id, month, body, mail_id, created_at) \
         VALUES (:customer, :month, :body, :mail, :now) ON CONFLICT DO NOTHING",
    )
    .bind("customer", tenant.id())
    .bind("month", report.month.as_str())
    .bind("body", body)
    .bind("mail", mail.id.as_str())
    .bind("now", now);
    let queue = queue_if(
        mail,
        now,
        "EXISTS (SELECT 1 FROM monthly_reports WHERE customer_id = :customer \
           AND month = :month AND mail_id = :mail)",
    )
    .bind("month", report.month.as_str());
    let changed = db.batch(vec![keep, queue]).await?;
    Ok(changed.first().is_some_and(|n| *n > 0))
}

#[cfg(test)]
mod tests;
