//! 参加企業平均's figures (`domain::peers`): the cron's refresh of a day and the page's read
//! of a period.
//!
//! - [`refresh`] (cron): on each shard, the companies that took part in the day — one of
//!   their appliances has a `device_report_hours` row in it — get their `peer_members`
//!   rows (detections in all functions, and per function), from `threat_tier_days`; then
//!   the day's count, sums and cut points over every shard go to `peer_days` on the main
//!   database. A constant number of statements per day and shard, whatever the number of
//!   companies, each walking an index; a refresh replaces the day's figures.
//! - [`comparison`] (page): the period's `peer_days` (main) and the viewer's own
//!   `peer_members` (its shard), two range reads along primary keys: O(days).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use domain::jst::midnight;
use domain::peers::{self, Comparison, Cuts, Own, PeerDay, Withheld};
use domain::period::Period;
use domain::report::Function;
use serde::Deserialize;

use crate::cron::Cron;
use crate::{Db, Error, Query, Tenant};

/// Days at most that one tick refreshes besides today and yesterday: the days of the
/// kept history with no figures yet (after a first deployment, say).
pub const MISSING_PER_TICK: usize = 10;

fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// The participating companies of `day` with their detections in all functions.
pub(crate) fn members_query(day: NaiveDate) -> Query {
    Query::new(
        "INSERT INTO peer_members (customer_id, day, function, detections) \
         SELECT d.customer_id, :day, '', \
           coalesce((SELECT sum(t.events) FROM threat_tier_days t \
                     WHERE t.customer_id = d.customer_id AND t.day = :day), 0) \
         FROM devices d \
         WHERE EXISTS (SELECT 1 FROM device_report_hours h \
                       WHERE h.device_id = d.id AND h.hour >= :start AND h.hour < :end) \
         GROUP BY d.customer_id \
         ON CONFLICT DO UPDATE SET detections = excluded.detections",
    )
    .bind("day", day_text(day))
    .bind("start", midnight(day))
    .bind("end", midnight(day + TimeDelta::days(1)))
}

/// The members' detections per function of `day`.
pub(crate) fn member_functions_query(day: NaiveDate) -> Query {
    Query::new(
        "INSERT INTO peer_members (customer_id, day, function, detections) \
         SELECT m.customer_id, m.day, t.function, sum(t.events) \
         FROM peer_members m JOIN threat_tier_days t \
           ON t.customer_id = m.customer_id AND t.day = m.day \
         WHERE m.day = :day AND m.function = '' \
         GROUP BY m.customer_id, t.function \
         ON CONFLICT DO UPDATE SET detections = excluded.detections",
    )
    .bind("day", day_text(day))
}

pub(crate) fn totals_query(day: NaiveDate) -> Query {
    Query::new("SELECT detections FROM peer_members WHERE day = :day AND function = ''")
        .bind("day", day_text(day))
}

pub(crate) fn function_sums_query(day: NaiveDate) -> Query {
    Query::new(
        "SELECT function, count(*) AS companies, sum(detections) AS detections \
         FROM peer_members WHERE day = :day AND function <> '' GROUP BY function",
    )
    .bind("day", day_text(day))
}

#[derive(Deserialize)]
struct Total {
    detections: i64,
}

#[derive(Deserialize)]
struct FunctionSum {
    function: String,
    companies: i64,
    detections: i64,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Refreshes the figures of `day` from every shard (`shards`, the main database first)
/// into `main`'s `peer_days`, as of `now`.
pub async fn refresh(
    main: &Db,
    shards: &[Db],
    _cron: &Cron,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut totals: Vec<u64> = Vec::new();
    let mut functions: Vec<(String, u64, u64)> = Vec::new();
    for shard in shards {
        shard
            .batch(vec![members_query(day), member_functions_query(day)])
            .await?;
        let rows: Vec<Total> = shard.all(totals_query(day)).await?;
        totals.extend(rows.into_iter().map(|r| count(r.detections)));
        let sums: Vec<FunctionSum> = shard.all(function_sums_query(day)).await?;
        for s in sums {
            match functions.iter_mut().find(|(f, _, _)| *f == s.function) {
                Some(row) => {
                    row.1 += count(s.companies);
                    row.2 += count(s.detections);
                }
                None => functions.push((s.function, count(s.companies), count(s.detections))),
            }
        }
    }
    let cuts = Cuts::of(&totals);
    let mut writes =
        vec![Query::new("DELETE FROM peer_days WHERE day = :day").bind("day", day_text(day))];
    let row = |function: &str, companies: u64, detections: u64, cuts: Cuts| {
        Query::new(
            "INSERT INTO peer_days (day, function, companies, detections, p25, p50, p75, p90, refreshed_at) \
             VALUES (:day, :function, :companies, :detections, :p25, :p50, :p75, :p90, :now)",
        )
        .bind("day", day_text(day))
        .bind("function", function.to_owned())
        .bind("companies", companies as i64)
        .bind("detections", detections as i64)
        .bind("p25", cuts.p25 as i64)
        .bind("p50", cuts.p50 as i64)
        .bind("p75", cuts.p75 as i64)
        .bind("p90", cuts.p90 as i64)
        .bind("now", now)
    };
    writes.push(row("", totals.len() as u64, totals.iter().sum(), cuts));
    for (function, companies, detections) in &functions {
        writes.push(row(function, *companies, *detections, Cuts::default()));
    }
    main.batch(writes).await?;
    Ok(())
}

#[derive(Deserialize)]
struct Refreshed {
    day: String,
}

/// The days a tick refreshes as of `today`: today, yesterday (late reports), and up to
/// [`MISSING_PER_TICK`] days from `first` on that have no figures yet, newest first.
pub async fn due(
    main: &Db,
    _cron: &Cron,
    today: NaiveDate,
    first: NaiveDate,
) -> Result<Vec<NaiveDate>, Error> {
    let done: Vec<Refreshed> = main
        .all(
            Query::new(
                "SELECT day FROM peer_days WHERE day >= :first AND day <= :today AND function = ''",
            )
            .bind("first", day_text(first))
            .bind("today", day_text(today)),
        )
        .await?;
    let mut days = vec![today];
    if today > first {
        days.push(today - TimeDelta::days(1));
    }
    let missing = first
        .iter_days()
        .take_while(|d| *d < today - TimeDelta::days(1))
        .filter(|d| !done.iter().any(|r| r.day == day_text(*d)))
        .collect::<Vec<_>>();
    days.extend(missing.into_iter().rev().take(MISSING_PER_TICK));
    Ok(days)
}

#[derive(Deserialize)]
struct Counted {
    n: i64,
}

/// Whether every day of `period` has its figures (the cron's backfill has reached it).
pub async fn covered(main: &Db, period: &Period) -> Result<bool, Error> {
    let counted: Option<Counted> = main
        .first(
            Query::new(
                "SELECT count(*) AS n FROM peer_days \
                 WHERE day >= :from AND day <= :to AND function = ''",
            )
            .bind("from", period.from_day())
            .bind("to", period.to_day()),
        )
        .await?;
    Ok(counted.is_some_and(|c| c.n >= i64::from(period.days())))
}

pub(crate) fn peer_days_query(period: &Period) -> Query {
    Query::new(
        "SELECT day, function, companies, detections, p25, p50, p75, p90 FROM peer_days \
         WHERE day >= :from AND day <= :to",
    )
    .bind("from", period.from_day())
    .bind("to", period.to_day())
}

pub(crate) fn own_query(tenant: &Tenant, period: &Period) -> Query {
    Query::new(
        "SELECT day, function, detections FROM peer_members \
         WHERE customer_id = :customer AND day >= :from AND day <= :to",
    )
    .bind("customer", tenant.id())
    .bind("from", period.from_day())
    .bind("to", period.to_day())
}

#[derive(Deserialize)]
struct PeerRow {
    day: String,
    function: String,
    companies: i64,
    detections: i64,
    p25: i64,
    p50: i64,
    p75: i64,
    p90: i64,
}

#[derive(Deserialize)]
struct OwnRow {
    day: String,
    function: String,
    detections: i64,
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// What `tenant` sees for `period`: its comparison with the other participating
/// companies, or [`Withheld`] while fewer than `min_companies` others take part on some
/// day. `main` holds the figures, `db` the tenant's data.
pub async fn comparison(
    main: &Db,
    db: &Db,
    tenant: &Tenant,
    period: &Period,
    min_companies: u32,
) -> Result<Result<Comparison, Withheld>, Error> {
    let (peer_rows, own_rows): (Vec<PeerRow>, Vec<OwnRow>) = futures_util::future::try_join(
        main.all(peer_days_query(period)),
        db.all(own_query(tenant, period)),
    )
    .await?;
    let mut all = Vec::new();
    let mut functions = Vec::new();
    for r in peer_rows {
        let Some(day) = parse_day(&r.day) else {
            continue;
        };
        let figures = PeerDay {
            day,
            companies: u32::try_from(r.companies).unwrap_or(0),
            detections: count(r.detections),
            cuts: Cuts {
                p25: count(r.p25),
                p50: count(r.p50),
                p75: count(r.p75),
                p90: count(r.p90),
            },
        };
        if r.function.is_empty() {
            all.push(figures);
        } else if let Some(f) = Function::parse(&r.function) {
            functions.push((f, figures));
        }
    }
    let mut own = Vec::new();
    let mut own_functions = Vec::new();
    for r in own_rows {
        let Some(day) = parse_day(&r.day) else {
            continue;
        };
        if r.function.is_empty() {
            own.push((
                day,
                Own {
                    took_part: true,
                    detections: count(r.detections),
                },
            ));
        } else if let Some(f) = Function::parse(&r.function) {
            own_functions.push((f, day, count(r.detections)));
        }
    }
    Ok(peers::compare(
        &period.each_day(),
        &all,
        &functions,
        &own,
        &own_functions,
        min_companies,
    ))
}

#[cfg(test)]
mod tests;
