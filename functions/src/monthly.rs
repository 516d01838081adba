//! The cron's monthly reports (月次レポート): from 09:00 in Tokyo on the 1st, last month's
//! report of each customer whose contract runs (`domain::month::due`) is made, kept and
//! its highlights mailed to the alert recipients (`domain::mail::monthly_report`), in one
//! batch per customer (`store::monthly::save`): once per customer and month, however
//! often the tick repeats. [`PER_TICK`] customers a tick keeps the tick within its D1
//! budget (about 16 queries each); the rest follow at the next ticks. Reports wait until
//! the peer figures cover the month (the cron's backfill, `store::peers::covered`), so
//! that a kept report has its comparison.

use chrono::{DateTime, Utc};
use domain::mail::monthly_report;
use domain::month::due;
use store::cron::Cron;
use store::mails::{Kind, Outgoing};
use store::monthly::Making;
use worker::Env;

use crate::config;
use crate::delivery::new_mail_id;
use crate::error::AppError;

/// Customers whose report one tick makes at most.
pub const PER_TICK: u32 = 20;

/// Makes and mails the due reports as of `now`; the reports made.
pub async fn send_due(env: &Env, cron: &Cron, now: DateTime<Utc>) -> Result<usize, AppError> {
    let db = crate::store(env)?;
    let config = config::get(env);
    let month = due(now);
    let making = Making {
        now,
        today: domain::period::today(now),
        min_companies: config.peer_min_companies,
        tops: true,
    };
    let Some(period) = domain::period::Period::month(month, making.today) else {
        return Ok(0);
    };
    if !store::peers::covered(&db, &period).await? {
        return Ok(0);
    }
    let mut made = 0;
    for tenant in store::monthly::due(&db, cron, month, PER_TICK).await? {
        let Some(report) = store::monthly::report(&db, &db, &tenant, month, making).await? else {
            continue;
        };
        let mail = Outgoing {
            id: new_mail_id()?,
            owner: tenant.owner(),
            kind: Kind::MonthlyReport,
            mail: monthly_report(tenant.name(), month, &report, &config.mail.portal),
        };
        if store::monthly::save(&db, &tenant, &report, &mail, now).await? {
            made += 1;
        }
    }
    Ok(made)
}
