//! The appliance-down part of the cron sweep: for every appliance of a running contract,
//! ask `domain::downtime` whether to mail (first notice, daily re-notice, recovery), and
//! write the new state together with the queued mail in one batch, so a notice is never
//! lost or sent twice; then hand the mail to the mail API (failed sends are retried by
//! `notify::run`).

use chrono::{DateTime, Utc};
use domain::downtime::{Decision, Down, Notice, decide};
use domain::mail::appliance_notice;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::Env;

use crate::config;
use crate::d1::{ms, time};
use crate::notify::{self, new_mail_id};

#[derive(Deserialize)]
struct Row {
    id: String,
    name: String,
    customer_id: String,
    company: String,
    last_seen_at: Option<f64>,
    down_last_seen: Option<f64>,
    first_notice_at: Option<f64>,
    last_notice_at: Option<f64>,
    daily_done: Option<f64>,
}

impl Row {
    fn state(&self) -> Option<Down> {
        Some(Down {
            last_seen: self.down_last_seen.and_then(time),
            first_notice_at: time(self.first_notice_at?)?,
            last_notice_at: time(self.last_notice_at?)?,
            daily_done: self.daily_done.and_then(time),
        })
    }
}

fn opt_ms(t: Option<DateTime<Utc>>) -> JsValue {
    t.map_or(JsValue::NULL, ms)
}

/// Checks every appliance; returns how many notices were queued.
pub async fn sweep(env: &Env, now: DateTime<Utc>) -> worker::Result<usize> {
    let db = env.d1("DB")?;
    let rows: Vec<Row> = db
        .prepare(
            "SELECT d.id, d.name, d.customer_id, c.name AS company, d.last_seen_at, \
               s.last_seen AS down_last_seen, s.first_notice_at, s.last_notice_at, s.daily_done \
             FROM devices d JOIN customers c ON c.id = d.customer_id \
             LEFT JOIN device_down s ON s.device_id = d.id \
             WHERE d.disabled = 0 AND c.contract_ended_at IS NULL",
        )
        .all()
        .await?
        .results()?;
    let policy = config::get(env).downtime;
    let portal = crate::config::get(env).mail.clone().portal;
    let mut queued = Vec::new();
    for row in &rows {
        let last_seen = row.last_seen_at.and_then(time);
        let before = row.state();
        let Decision { notice, state } = decide(&policy, before, last_seen, now);
        if state == before && notice.is_none() {
            continue;
        }
        let device = JsValue::from(row.id.as_str());
        let mut statements = vec![match state {
            None => db
                .prepare("DELETE FROM device_down WHERE device_id = ?1")
                .bind(std::slice::from_ref(&device))?,
            Some(s) => db
                .prepare(
                    "INSERT INTO device_down (device_id, last_seen, first_notice_at, last_notice_at, daily_done) \
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (device_id) DO UPDATE SET \
                     last_seen = excluded.last_seen, first_notice_at = excluded.first_notice_at, \
                     last_notice_at = excluded.last_notice_at, daily_done = excluded.daily_done",
                )
                .bind(&[
                    device.clone(),
                    opt_ms(s.last_seen),
                    ms(s.first_notice_at),
                    ms(s.last_notice_at),
                    opt_ms(s.daily_done),
                ])?,
        }];
        if let Some(n) = notice {
            let mail =
                appliance_notice(&row.company, &row.name, &row.id, last_seen, n, now, &portal);
            let mail_id = new_mail_id()?;
            let kind = match n {
                Notice::WentDown => "appliance_down",
                Notice::StillDown => "appliance_still_down",
                Notice::Recovered => "appliance_recovered",
            };
            statements.push(notify::queue(
                &db,
                &mail_id,
                &row.customer_id,
                kind,
                &mail,
                now,
            )?);
            queued.push(mail_id);
        }
        db.batch(statements).await?;
    }
    for mail_id in &queued {
        notify::send(env, &db, mail_id, now).await?;
    }
    Ok(queued.len())
}
