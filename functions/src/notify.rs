//! Mail out of the outbox. A flush claims every pending notification of one customer for
//! a new mail (one atomic UPDATE, so each notification goes into exactly one mail), writes
//! the texts from `domain::mail`, and sends the mail through the HTTP email API (`mail_api`)
//! with the mail's id as `Idempotency-Key`. A failed or timed-out send stays queued and is
//! retried by the cron sweep with backoff (`domain::delivery`); nothing is dropped. The
//! `mails` table is the customer's delivery log.
//!
//! ★★★ is flushed right after the report that raised it (`wait_until`), the other tiers
//! when their batch window has passed (cron), and once a customer's mails of the day are
//! used up (`domain::outbox::MAILS_PER_DAY`) on the next mail day's morning. A flush first
//! leaves out what `domain::noise` judges untargeted mass activity: those incidents stay
//! recorded, marked `mass`, and their notifications are dropped, not mailed.

use chrono::{DateTime, Utc};
use domain::delivery::retry_delay;
use domain::mail::{self, AlertLine, Mail};
use domain::noise::{self, Due, Sorted, Spread};
use domain::outbox::{Pending, due_customers, mail_day_start};
use domain::report::{Action, Direction};
use domain::severity::{Notice, RuleSet, Severity};
use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env};

use crate::d1::{changes, ms, named, time};
use crate::mail_api::{post, request_body};
use crate::secret::{hex, random};

/// Customers flushed per cron tick at most: each flush costs about five D1 queries and one
/// subrequest, and one invocation may make about a thousand of each (paid plan).
const FLUSHES_PER_TICK: usize = 100;

/// The cron part: flush every customer with a notification that is due, then retry the
/// queued mails whose next attempt is due. Returns the mails sent.
pub async fn run(env: &Env, now: DateTime<Utc>) -> worker::Result<usize> {
    #[derive(Deserialize)]
    struct PendingRow {
        customer_id: String,
        due_at: f64,
        rank: f64,
        mailed_today: f64,
    }
    #[derive(Deserialize)]
    struct Due {
        id: String,
    }
    let db = env.d1("DB")?;
    let pending: Vec<Pending> = db
        .prepare(
            "SELECT n.customer_id, min(n.due_at) AS due_at, min(n.rank) AS rank, \
               (SELECT count(*) FROM mails m WHERE m.customer_id = n.customer_id \
                  AND m.kind = 'alert' AND m.created_at >= ?1) AS mailed_today \
             FROM notifications n WHERE n.mail_id IS NULL GROUP BY n.customer_id",
        )
        .bind(&[ms(mail_day_start(now))])?
        .all()
        .await?
        .results::<PendingRow>()?
        .into_iter()
        .map(|r| Pending {
            customer: r.customer_id,
            due_at: time(r.due_at).unwrap_or_default(),
            most_urgent: Severity::from_rank(r.rank as u8),
            mailed_today: r.mailed_today as u32,
        })
        .collect();
    let mut sent = 0;
    // Bounded per tick (D1 queries and subrequests per invocation are limited); the rest
    // are flushed at the next tick, earliest due first.
    for customer in due_customers(&pending, now)
        .into_iter()
        .take(FLUSHES_PER_TICK)
    {
        if flush_customer(env, &customer, now).await? {
            sent += 1;
        }
    }
    let due: Vec<Due> = db
        .prepare(
            "SELECT id FROM mails WHERE status = 'queued' AND next_attempt_at <= ?1 \
             ORDER BY next_attempt_at LIMIT 50",
        )
        .bind(&[ms(now)])?
        .all()
        .await?
        .results()?;
    for m in &due {
        if send(env, &db, &m.id, now).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

#[derive(Deserialize)]
pub(crate) struct LineRow {
    id: f64,
    pub(crate) customer_id: String,
    pub(crate) company: String,
    pub(crate) severity_rank: f64,
    first_at: f64,
    last_at: f64,
    count: f64,
    appliance: String,
    host: String,
    name: String,
    action: String,
    direction: String,
    url: Option<String>,
    file_name: Option<String>,
    rule: String,
    rules_version: f64,
}

fn wire<T: serde::de::DeserializeOwned>(s: &str, fallback: T) -> T {
    serde_json::from_value(json!(s)).unwrap_or(fallback)
}

/// The columns an `AlertLine` is made of, from `incidents i`, `devices d`, `customers c`.
const LINE_COLUMNS: &str = "i.id, i.customer_id, c.name AS company, i.severity_rank, \
     i.first_at, i.last_at, i.count, d.name AS appliance, i.host, i.name, i.action, \
     i.direction, i.url, i.file_name, i.rule, i.rules_version";

/// One incident as a mail shows it, or `None` for an unknown id.
pub(crate) async fn incident(db: &D1Database, id: f64) -> worker::Result<Option<LineRow>> {
    db.prepare(format!(
        "SELECT {LINE_COLUMNS} FROM incidents i JOIN devices d ON d.id = i.device_id \
         JOIN customers c ON c.id = i.customer_id WHERE i.id = ?1"
    ))
    .bind(&[id.into()])?
    .first::<LineRow>(None)
    .await
}

impl LineRow {
    /// The incident as a mail line, explained by the rule table that rated it.
    pub(crate) fn line(&self) -> AlertLine {
        let rules = RuleSet::built_in(self.rules_version as u32).unwrap_or_else(RuleSet::current);
        let reason = rules.reason(&self.rule).to_owned();
        AlertLine {
            incident_id: format!("{}", self.id as i64),
            severity: Severity::from_rank(self.severity_rank as u8),
            first_seen: time(self.first_at).unwrap_or_default(),
            last_seen: time(self.last_at).unwrap_or_default(),
            count: self.count as u32,
            appliance: self.appliance.clone(),
            host: (!self.host.is_empty()).then(|| self.host.clone()),
            threat: self.name.clone(),
            action: wire(&self.action, Action::Detected),
            direction: wire(&self.direction, Direction::Inbound),
            url: self.url.clone(),
            file: self.file_name.clone(),
            reason,
        }
    }
}

/// The alert recipients of `:customer`, in order, as a JSON array (a SQL expression).
const RECIPIENTS: &str = "(SELECT json_group_array(email) FROM \
     (SELECT email FROM alert_recipients WHERE customer_id = :customer ORDER BY position))";

/// A statement queueing a written mail of `kind` to `customer`'s alert recipients, due
/// now; batched with the state change it reports, then handed to [`send`].
pub(crate) fn queue(
    db: &D1Database,
    mail_id: &str,
    customer: &str,
    kind: &str,
    mail: &Mail,
    now: DateTime<Utc>,
) -> worker::Result<D1PreparedStatement> {
    let values = [
        JsValue::from(mail_id),
        JsValue::from(customer),
        JsValue::from(kind),
        JsValue::from(mail.subject.as_str()),
        JsValue::from(mail.text.as_str()),
        JsValue::from(mail.html.as_str()),
        ms(now),
    ];
    let names = ["mail", "customer", "kind", "subject", "text", "html", "now"];
    let args: Vec<(&str, &JsValue)> = names.into_iter().zip(values.iter()).collect();
    named(
        db,
        &format!(
            "INSERT INTO mails (id, customer_id, kind, recipients, subject, text, html, \
               status, attempts, next_attempt_at, created_at) \
             SELECT :mail, :customer, :kind, {RECIPIENTS}, :subject, :text, :html, \
               'queued', 0, :now, :now"
        ),
        &args,
    )
}

/// A fresh mail id, also the mail API's `Idempotency-Key`.
pub(crate) fn new_mail_id() -> worker::Result<String> {
    let bytes = random::<16>().map_err(|_| worker::Error::RustError("random bytes".into()))?;
    Ok(format!("ml_{}", hex(&bytes)))
}

/// A pending notification with what `domain::noise` needs to judge it.
#[derive(Deserialize)]
struct PendingAlert {
    id: f64,
    notice: String,
    sources: f64,
    hosts: f64,
}

/// Claims the pending notifications of `customer` for one new mail, writes it and sends
/// it; true when the mail API took it. Those judged untargeted mass activity are left out
/// (their incidents marked `mass`). Does nothing when nothing is left to mail (another
/// flush got there first, or all of it was mass activity).
pub async fn flush_customer(env: &Env, customer: &str, now: DateTime<Utc>) -> worker::Result<bool> {
    let db = env.d1("DB")?;
    let since = ms(now - noise::LOOKBACK);
    let cust = JsValue::from(customer);
    // The spread of a signature at this customer: distinct sources of its threat rows and
    // distinct hosts of its incidents over the lookback (only for alerts that may be mass).
    let pending: Vec<PendingAlert> = named(
        &db,
        "SELECT n.id, i.notice, \
           CASE WHEN i.notice = 'mail_unless_mass' THEN \
             (SELECT count(DISTINCT t.src_key) FROM threats t WHERE t.customer_id = :customer \
                AND t.last_at >= :since AND t.sig_key = i.sig_key AND t.src_key <> '') \
           ELSE 0 END AS sources, \
           CASE WHEN i.notice = 'mail_unless_mass' THEN \
             (SELECT count(DISTINCT j.host) FROM incidents j WHERE j.customer_id = :customer \
                AND j.last_at >= :since AND j.sig_key = i.sig_key AND j.host <> '') \
           ELSE 0 END AS hosts \
         FROM notifications n JOIN incidents i ON i.id = n.incident_id \
         WHERE n.customer_id = :customer AND n.mail_id IS NULL",
        &[("customer", &cust), ("since", &since)],
    )?
    .all()
    .await?
    .results()?;
    let due: Vec<Due> = pending
        .iter()
        .map(|p| Due {
            id: p.id as i64,
            notice: wire(&p.notice, Notice::Mail),
            spread: Spread {
                sources: p.sources as u32,
                hosts: p.hosts as u32,
            },
        })
        .collect();
    let Sorted { mailed, mass } = noise::sort(&due);
    let mail_id = new_mail_id()?;
    let list = |ids: &[i64]| JsValue::from(json!(ids).to_string());
    let (id, at) = (JsValue::from(mail_id.as_str()), ms(now));
    let (mailed, mass) = (list(&mailed), list(&mass));
    let args = [
        ("mail", &id),
        ("customer", &cust),
        ("now", &at),
        ("mailed", &mailed),
        ("mass", &mass),
    ];
    let claimed = db
        .batch(vec![
            named(
                &db,
                "UPDATE incidents SET notice = 'mass' WHERE customer_id = :customer AND id IN \
                   (SELECT incident_id FROM notifications \
                    WHERE id IN (SELECT value FROM json_each(:mass)) AND mail_id IS NULL)",
                &args,
            )?,
            named(
                &db,
                "DELETE FROM notifications WHERE customer_id = :customer AND mail_id IS NULL \
                   AND id IN (SELECT value FROM json_each(:mass))",
                &args,
            )?,
            named(
                &db,
                "UPDATE notifications SET mail_id = :mail \
                 WHERE customer_id = :customer AND mail_id IS NULL \
                   AND id IN (SELECT value FROM json_each(:mailed))",
                &args,
            )?,
            named(
                &db,
                &format!(
                    "INSERT INTO mails (id, customer_id, kind, recipients, status, attempts, \
                       next_attempt_at, created_at) \
                     SELECT :mail, :customer, 'alert', {RECIPIENTS}, 'queued', 0, :now, :now \
                     WHERE EXISTS (SELECT 1 FROM notifications WHERE mail_id = :mail)"
                ),
                &args,
            )?,
        ])
        .await?;
    if changes(claimed.get(2)) == 0 {
        return Ok(false);
    }
    render(env, &db, &mail_id).await?;
    send(env, &db, &mail_id, now).await
}

/// Writes the texts of an alert mail from the notifications it claimed. Called right after
/// the claim, and again by `send` for a mail whose texts are missing (a flush that stopped
/// between claiming and writing), so a claimed notification is always mailed.
async fn render(env: &Env, db: &D1Database, mail_id: &str) -> worker::Result<()> {
    let id = JsValue::from(mail_id);
    let rows: Vec<LineRow> = db
        .prepare(format!(
            "SELECT {LINE_COLUMNS} FROM notifications n JOIN incidents i ON i.id = n.incident_id \
             JOIN devices d ON d.id = i.device_id JOIN customers c ON c.id = i.customer_id \
             WHERE n.mail_id = ?1 ORDER BY i.severity_rank, i.first_at"
        ))
        .bind(std::slice::from_ref(&id))?
        .all()
        .await?
        .results()?;
    let lines: Vec<AlertLine> = rows.iter().map(LineRow::line).collect();
    let company = rows.first().map_or("", |r| r.company.as_str());
    let api = crate::config::get(env).mail.clone();
    let Mail {
        subject,
        text,
        html,
    } = mail::alert_batch(company, &lines, &api.portal);
    db.prepare("UPDATE mails SET subject = ?2, text = ?3, html = ?4 WHERE id = ?1")
        .bind(&[
            id.clone(),
            subject.as_str().into(),
            text.as_str().into(),
            html.as_str().into(),
        ])?
        .run()
        .await?;
    Ok(())
}

/// One attempt to hand a queued mail to the mail API. True when it was accepted.
pub async fn send(
    env: &Env,
    db: &D1Database,
    mail_id: &str,
    now: DateTime<Utc>,
) -> worker::Result<bool> {
    #[derive(Deserialize)]
    struct Queued {
        kind: String,
        recipients: String,
        subject: Option<String>,
        text: Option<String>,
        html: Option<String>,
        attempts: f64,
    }
    let load = || async {
        db.prepare(
            "SELECT kind, recipients, subject, text, html, attempts FROM mails \
             WHERE id = ?1 AND status = 'queued'",
        )
        .bind(&[mail_id.into()])?
        .first::<Queued>(None)
        .await
    };
    let Some(mut m) = load().await? else {
        return Ok(false);
    };
    if m.subject.is_none() && m.kind == "alert" {
        render(env, db, mail_id).await?;
        m = match load().await? {
            Some(m) => m,
            None => return Ok(false),
        };
    }
    let recipients: Vec<String> = serde_json::from_str(&m.recipients).unwrap_or_default();
    if recipients.is_empty() {
        db.prepare(
            "UPDATE mails SET status = 'failed', last_error = 'no alert recipients' WHERE id = ?1",
        )
        .bind(&[mail_id.into()])?
        .run()
        .await?;
        return Ok(false);
    }
    let api = crate::config::get(env).mail.clone();
    let mail = Mail {
        subject: m.subject.unwrap_or_default(),
        text: m.text.unwrap_or_default(),
        html: m.html.unwrap_or_default(),
    };
    let outcome = post(&api, mail_id, &request_body(&api, &recipients, &mail)).await;
    let attempts = m.attempts as u32 + 1;
    match outcome {
        Ok(()) => {
            db.prepare(
                "UPDATE mails SET status = 'sent', attempts = ?2, sent_at = ?3, last_error = NULL \
                 WHERE id = ?1 AND status = 'queued'",
            )
            .bind(&[mail_id.into(), f64::from(attempts).into(), ms(now)])?
            .run()
            .await?;
            Ok(true)
        }
        Err(error) => {
            worker::console_warn!("mail {mail_id}: attempt {attempts} failed: {error}");
            let next = now + retry_delay(attempts);
            db.prepare(
                "UPDATE mails SET attempts = ?2, next_attempt_at = ?3, last_error = ?4 \
                 WHERE id = ?1 AND status = 'queued'",
            )
            .bind(&[
                mail_id.into(),
                f64::from(attempts).into(),
                ms(next),
                error.as_str().into(),
            ])?
            .run()
            .await?;
            Ok(false)
        }
    }
}
