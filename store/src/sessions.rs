//! Portal sessions as stored: a row per session under the SHA-256 of its id, live while
//! not revoked, not expired, and its account usable (`USABLE`). The signed cookie that
//! names a row is the Worker's (`functions::session`); resolving a row is the only way a
//! portal request gets an [`Access`].

use chrono::{DateTime, Utc};
use domain::access::{Scope, Stage};
use domain::signin::SecondFactor;
use serde::Deserialize;

use crate::audit::Origin;
use crate::{Access, Db, Error, Query, Tenant};

/// An account may sign in and keep its sessions: not disabled, and (for a customer's
/// admin) the customer's contract has not ended. `a` is `accounts`.
pub const USABLE: &str = "a.disabled = 0 AND NOT EXISTS (SELECT 1 FROM customers c \
     WHERE c.id = a.customer_id AND c.contract_ended_at IS NOT NULL)";

/// A signed-in (or signing-in) portal user, resolved from a live session.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    pub login_id: String,
    pub email: String,
    pub stage: Stage,
    /// `None` before the user chose.
    pub second_factor: Option<SecondFactor>,
    pub sms_phone: Option<String>,
    /// SHA-256 of the session id.
    pub session: String,
    /// When the session started.
    pub created_at: DateTime<Utc>,
    /// When the user last gave their password: the session's start, or a later
    /// confirmation (see `domain::session::recently_authenticated`).
    pub authenticated_at: DateTime<Utc>,
    access: Access,
    /// A customer admin's own company, read with the session (one query fewer on every
    /// page); `None` for staff.
    own: Option<Tenant>,
}

impl Caller {
    pub fn access(&self) -> &Access {
        &self.access
    }
    /// The company a customer admin's pages show, read with the session; staff have none.
    pub fn own_tenant(&self) -> Option<&Tenant> {
        self.own.as_ref()
    }
    pub fn scope(&self) -> &Scope {
        self.access.scope()
    }
}

#[derive(Deserialize)]
struct Row {
    account_id: String,
    stage: String,
    #[serde(with = "crate::time::ms")]
    created_at: DateTime<Utc>,
    #[serde(with = "crate::time::ms_opt", default)]
    reauth_at: Option<DateTime<Utc>>,
    login_id: String,
    email: String,
    role: String,
    reseller_id: Option<String>,
    customer_id: Option<String>,
    #[serde(deserialize_with = "crate::accounts::factor", default)]
    second_factor: Option<SecondFactor>,
    sms_phone: Option<String>,
    /// The customer admin's company (`c`), when there is one.
    own_name: Option<String>,
    own_reseller: Option<String>,
    own_shard: Option<usize>,
}

/// The statement `current` runs.
pub(crate) fn current_query(id_hash: &str, now: DateTime<Utc>) -> Query {
    Query::new(format!(
        "SELECT s.account_id, s.stage, s.created_at, s.reauth_at, a.login_id, a.email, a.role, \
                a.reseller_id, a.customer_id, a.second_factor, a.sms_phone, \
                own.name AS own_name, own.reseller_id AS own_reseller, own.shard AS own_shard \
         FROM sessions s JOIN accounts a ON a.id = s.account_id \
         LEFT JOIN customers own ON own.id = a.customer_id AND a.role = 'customer' \
         WHERE s.id_hash = :id AND s.revoked_at IS NULL AND s.expires_at > :now AND {USABLE}"
    ))
    .bind("id", id_hash)
    .bind("now", now)
}

/// The live session stored under `id_hash` at `stage`; `None` for one that is unknown,
/// ended, expired, of another stage, or whose account may no longer sign in.
pub async fn current(
    db: &Db,
    id_hash: &str,
    stage: Stage,
    now: DateTime<Utc>,
) -> Result<Option<Caller>, Error> {
    let row: Option<Row> = db.first(current_query(id_hash, now)).await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let scope = Scope::from_row(
        &row.role,
        row.reseller_id.as_deref(),
        row.customer_id.as_deref(),
    );
    let (Some(scope), true) = (scope, row.stage == stage.as_str()) else {
        return Ok(None);
    };
    // `USABLE` admits a customer admin only while the contract runs.
    let own = match (scope.own_customer(), row.own_name) {
        (Some(id), Some(name)) => Some(Tenant::own(
            id.to_owned(),
            name,
            row.own_reseller,
            row.own_shard.unwrap_or_default(),
        )),
        _ => None,
    };
    Ok(Some(Caller {
        account_id: row.account_id,
        login_id: row.login_id,
        email: row.email,
        stage,
        second_factor: row.second_factor,
        sms_phone: row.sms_phone,
        session: id_hash.to_owned(),
        created_at: row.created_at,
        authenticated_at: row
            .reauth_at
            .map_or(row.created_at, |r| r.max(row.created_at)),
        access: Access::granted(scope),
        own,
    }))
}

/// Extends the session to `expires`.
pub fn renew(id_hash: &str, now: DateTime<Utc>, expires: DateTime<Utc>) -> Query {
    Query::new("UPDATE sessions SET last_seen_at = :now, expires_at = :expires WHERE id_hash = :id")
        .bind("id", id_hash)
        .bind("now", now)
        .bind("expires", expires)
}

/// A session to start.
pub struct New<'a> {
    pub id_hash: &'a str,
    pub account: &'a str,
    pub stage: Stage,
    /// When the sign-in began (`created_at`): a new id for the same sign-in keeps it.
    pub signed_in: DateTime<Utc>,
    /// When the password was last given: `reauth_at` when that was after the sign-in
    /// began (the column keeps its meaning, a later confirmation).
    pub authenticated: DateTime<Utc>,
    pub origin: &'a Origin,
    /// Recovery codes the new session shows once.
    pub reveal: Option<&'a str>,
}

pub fn start(new: &New<'_>, now: DateTime<Utc>, expires: DateTime<Utc>) -> Query {
    Query::new(
        "INSERT INTO sessions (id_hash, account_id, stage, created_at, reauth_at, last_seen_at, \
           expires_at, ip, user_agent, recovery_reveal) \
         VALUES (:id, :account, :stage, :signed_in, :authenticated, :now, :expires, :ip, :ua, \
           :reveal)",
    )
    .bind("id", new.id_hash)
    .bind("account", new.account)
    .bind("stage", new.stage.as_str())
    .bind("signed_in", new.signed_in)
    .bind(
        "authenticated",
        (new.authenticated > new.signed_in).then_some(new.authenticated),
    )
    .bind("now", now)
    .bind("expires", expires)
    .bind("ip", &new.origin.ip)
    .bind("ua", &new.origin.user_agent)
    .bind("reveal", new.reveal)
}

/// Ends the session stored under `id_hash` (one already ended keeps its first
/// `revoked_at`).
pub fn revoke(id_hash: &str, now: DateTime<Utc>) -> Query {
    Query::new(
        "UPDATE sessions SET revoked_at = :now, recovery_reveal = NULL \
         WHERE id_hash = :id AND revoked_at IS NULL",
    )
    .bind("id", id_hash)
    .bind("now", now)
}

/// Ends every session of `account`.
pub fn revoke_all(account: &str, now: DateTime<Utc>) -> Query {
    Query::new(
        "UPDATE sessions SET revoked_at = :now, recovery_reveal = NULL \
         WHERE account_id = :account AND revoked_at IS NULL",
    )
    .bind("account", account)
    .bind("now", now)
}

/// Ends every session of `account` except `keep`, the one making the change.
pub fn revoke_others(account: &str, keep: &str, now: DateTime<Utc>) -> Query {
    Query::new(
        "UPDATE sessions SET revoked_at = :now, recovery_reveal = NULL \
         WHERE account_id = :account AND revoked_at IS NULL AND id_hash <> :keep",
    )
    .bind("account", account)
    .bind("keep", keep)
    .bind("now", now)
}

/// Records that the user gave their password again.
pub fn reauthenticated(id_hash: &str, now: DateTime<Utc>) -> Query {
    Query::new("UPDATE sessions SET reauth_at = :now WHERE id_hash = :id")
        .bind("id", id_hash)
        .bind("now", now)
}

/// Counts one wrong-or-right code given in the session (before it is checked); the
/// codes given so far, or `None` when the session has used up `MAX_CODE_FAILURES` or
/// ended.
pub async fn count_code(db: &Db, id_hash: &str) -> Result<Option<u32>, Error> {
    #[derive(Deserialize)]
    struct Tries {
        failed_codes: f64,
    }
    let row: Option<Tries> = db
        .first(
            Query::new(
                "UPDATE sessions SET failed_codes = failed_codes + 1 \
                 WHERE id_hash = :id AND revoked_at IS NULL AND failed_codes < :max \
                 RETURNING failed_codes",
            )
            .bind("id", id_hash)
            .bind("max", domain::session::MAX_CODE_FAILURES),
        )
        .await?;
    Ok(row.map(|r| r.failed_codes as u32))
}

/// A signed-in session of an account, as its owner sees it (アカウント設定).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Listed {
    pub id_hash: String,
    #[serde(with = "crate::time::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::ms")]
    pub last_seen_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The most sessions listed.
const LISTED: u32 = 20;

/// The live signed-in sessions of `account`, most recently used first.
pub async fn signed_in(db: &Db, account: &str, now: DateTime<Utc>) -> Result<Vec<Listed>, Error> {
    db.all(
        Query::new(
            "SELECT id_hash, created_at, last_seen_at, ip, user_agent FROM sessions \
             WHERE account_id = :account AND stage = 'full' AND revoked_at IS NULL \
               AND expires_at > :now ORDER BY last_seen_at DESC LIMIT :max",
        )
        .bind("account", account)
        .bind("now", now)
        .bind("max", LISTED),
    )
    .await
}

/// The recovery codes the session `id_hash` was started to show, taken: a second read
/// finds none. `None` when there are none (or another request took them first).
pub async fn take_reveal(db: &Db, id_hash: &str) -> Result<Option<String>, Error> {
    #[derive(Deserialize)]
    struct Reveal {
        recovery_reveal: Option<String>,
    }
    let row: Option<Reveal> = db
        .first(
            Query::new("SELECT recovery_reveal FROM sessions WHERE id_hash = :id")
                .bind("id", id_hash),
        )
        .await?;
    let Some(reveal) = row.and_then(|r| r.recovery_reveal) else {
        return Ok(None);
    };
    // Only the request that clears them shows them.
    let cleared = db
        .run(
            Query::new(
                "UPDATE sessions SET recovery_reveal = NULL \
                 WHERE id_hash = :id AND recovery_reveal = :seen",
            )
            .bind("id", id_hash)
            .bind("seen", reveal.as_str()),
        )
        .await?;
    Ok((cleared == 1).then_some(reveal))
}

/// Housekeeping for the cron sweep: recovery codes never viewed are not kept past
/// `reveal_cutoff` after their session started (`last_seen_at`: a session continuing an
/// older sign-in keeps that sign-in's `created_at`), sessions ended a day ago go, spent SMS challenges and throttle
/// counters go, and audit entries older than `audit_days` (`AUDIT_RETENTION_DAYS`) go a
/// bounded chunk at a time (`audit::sweep`). Returns the rows touched.
pub async fn cleanup(db: &Db, now: DateTime<Utc>, audit_days: u32) -> Result<usize, Error> {
    let reveal_cutoff = now - domain::session::PENDING;
    let day_ago = now - chrono::TimeDelta::days(1);
    let changed = db
        .batch(vec![
            Query::new(
                "UPDATE sessions SET recovery_reveal = NULL \
                 WHERE recovery_reveal IS NOT NULL AND last_seen_at < :cutoff",
            )
            .bind("cutoff", reveal_cutoff),
            Query::new("DELETE FROM sessions WHERE expires_at < :day_ago OR revoked_at < :day_ago")
                .bind("day_ago", day_ago),
            Query::new("DELETE FROM sms_challenges WHERE expires_at < :now").bind("now", now),
            crate::sms::forget_sends(now),
            Query::new(
                "DELETE FROM signin_throttle \
                 WHERE (locked_until IS NULL OR locked_until < :now) AND first_failure < :window",
            )
            .bind("now", now)
            .bind("window", now - domain::account::WINDOW),
        ])
        .await?;
    let audit = crate::audit::sweep(db, now - chrono::TimeDelta::days(i64::from(audit_days)));
    Ok(changed.iter().sum::<usize>() + audit.await?)
}

#[cfg(test)]
mod tests;
