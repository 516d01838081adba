//! Portal sessions. The cookie `__Host-mm_session` holds a token signed with `SESSION_SECRET`
//! (jwt-simple, HS256) that names a session row by a random id; the row, stored under
//! the id's SHA-256, is what makes the session live: logout, a password change or a reset
//! of the second factor revoke rows, and the next request with the old cookie is a
//! stranger's. A new session (new id) is started at every step of sign-in. Timings are
//! `domain::session`'s.

use app::d1::{ms, named, time};
use app::tenant::Caller;
use chrono::{DateTime, Utc};
use domain::access::{Scope, Stage};
use jwt_simple::prelude::*;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

use crate::error::AppError;
use crate::secret::{hex, random, sha256_hex};

/// `__Host-`: the browser accepts it only with Secure, `Path=/` and no Domain.
pub const COOKIE: &str = "__Host-mm_session";

/// An account may sign in and keep its sessions: not disabled, and (for a customer's
/// admin) the customer's contract has not ended. `a` is `accounts`.
pub const USABLE: &str = "a.disabled = 0 AND NOT EXISTS (SELECT 1 FROM customers c \
     WHERE c.id = a.customer_id AND c.contract_ended_at IS NOT NULL)";

#[derive(Serialize, Deserialize)]
struct Claims {
    /// The session id (the row is kept under its SHA-256).
    sid: String,
    /// The stage, so a token of one step cannot stand for another.
    stg: String,
}

fn key(env: &Env) -> Result<HS256Key, AppError> {
    let secret = env
        .secret("SESSION_SECRET")
        .map(|s| s.to_string())
        .unwrap_or_default();
    // An unset or short secret means nobody can sign in, never that tokens go unsigned.
    if secret.len() < 32 {
        worker::console_error!("SESSION_SECRET is missing or shorter than 32 bytes");
        return Err(AppError::Unavailable { retry_after_s: 60 });
    }
    Ok(HS256Key::from_bytes(secret.as_bytes()))
}

/// A session read from the cookie: who, how far, and whether the cookie should be
/// renewed on this answer.
pub struct Current {
    pub caller: Caller,
    pub renew: Option<String>,
}

#[derive(Deserialize)]
struct Row {
    account_id: String,
    stage: String,
    created_at: f64,
    reauth_at: Option<f64>,
    login_id: String,
    email: String,
    role: String,
    reseller_id: Option<String>,
    customer_id: Option<String>,
    second_factor: Option<String>,
    sms_phone: Option<String>,
}

/// The live session named by the request's cookie, if any. A forged, expired or revoked
/// token is no session at all.
pub async fn current(
    env: &Env,
    cookie: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Current>, AppError> {
    let Some(token) = cookie else {
        return Ok(None);
    };
    let key = key(env)?;
    let options = VerificationOptions {
        time_tolerance: Some(Duration::from_secs(5)),
        ..Default::default()
    };
    let Ok(claims) = key.verify_token::<Claims>(token, Some(options)) else {
        return Ok(None);
    };
    let Some(stage) = Stage::parse(&claims.custom.stg) else {
        return Ok(None);
    };
    let id_hash = sha256_hex(&claims.custom.sid);
    let db = env.d1("DB")?;
    let sql = format!(
        "SELECT s.account_id, s.stage, s.created_at, s.reauth_at, a.login_id, a.email, a.role, \
                a.reseller_id, a.customer_id, a.second_factor, a.sms_phone \
         FROM sessions s JOIN accounts a ON a.id = s.account_id \
         WHERE s.id_hash = :id AND s.revoked_at IS NULL AND s.expires_at > :now AND {USABLE}"
    );
    let row = named(
        &db,
        &sql,
        &[("id", &JsValue::from(id_hash.as_str())), ("now", &ms(now))],
    )?
    .first::<Row>(None)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (Some(scope), true) = (
        Scope::from_row(
            &row.role,
            row.reseller_id.as_deref(),
            row.customer_id.as_deref(),
        ),
        row.stage == stage.as_str(),
    ) else {
        return Ok(None);
    };
    let created_at = time(row.created_at).unwrap_or(now);
    let issued = claims
        .issued_at
        .and_then(|t| DateTime::from_timestamp(t.as_secs() as i64, 0))
        .unwrap_or(created_at);
    let renew = if domain::session::needs_renewal(stage, issued, now) {
        let expires = domain::session::expires_at(stage, created_at, now);
        db.prepare("UPDATE sessions SET last_seen_at = ?2, expires_at = ?3 WHERE id_hash = ?1")
            .bind(&[id_hash.as_str().into(), ms(now), ms(expires)])?
            .run()
            .await?;
        Some(cookie_for(&key, &claims.custom.sid, stage, now, expires)?)
    } else {
        None
    };
    Ok(Some(Current {
        caller: Caller {
            account_id: row.account_id,
            login_id: row.login_id,
            email: row.email,
            scope,
            stage,
            second_factor: row.second_factor,
            sms_phone: row.sms_phone,
            session: id_hash,
            authenticated_at: row
                .reauth_at
                .and_then(time)
                .map_or(created_at, |r| r.max(created_at)),
        },
        renew,
    }))
}

/// Where a request comes from, as kept with sessions and in the audit log.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A session to start.
pub struct New<'a> {
    pub account: &'a str,
    pub stage: Stage,
    /// The session the visitor had, if any: ended in the same batch.
    pub previous: Option<&'a str>,
    pub origin: &'a Origin,
    /// Recovery codes the new session shows once.
    pub reveal: Option<&'a str>,
}

/// Starts a session. Returns the `Set-Cookie` value.
pub async fn start(
    env: &Env,
    db: &D1Database,
    new: New<'_>,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let New {
        account,
        stage,
        previous,
        origin,
        reveal,
    } = new;
    let key = key(env)?;
    let sid = hex(&random::<32>()?);
    let expires = domain::session::expires_at(stage, now, now);
    let optional = |v: &Option<String>| v.as_deref().map_or(JsValue::NULL, JsValue::from);
    let mut batch = vec![named(
        db,
        "INSERT INTO sessions (id_hash, account_id, stage, created_at, last_seen_at, expires_at, ip, \
           user_agent, recovery_reveal) \
         VALUES (:id, :account, :stage, :now, :now, :expires, :ip, :ua, :reveal)",
        &[
            ("id", &JsValue::from(sha256_hex(&sid))),
            ("account", &JsValue::from(account)),
            ("stage", &JsValue::from(stage.as_str())),
            ("now", &ms(now)),
            ("expires", &ms(expires)),
            ("ip", &optional(&origin.ip)),
            ("ua", &optional(&origin.user_agent)),
            ("reveal", &reveal.map_or(JsValue::NULL, JsValue::from)),
        ],
    )?];
    if let Some(previous) = previous {
        batch.push(revoke(db, previous, now)?);
    }
    db.batch(batch).await?;
    cookie_for(&key, &sid, stage, now, expires)
}

/// Ends the session stored under `id_hash` (a session already ended keeps its first
/// `revoked_at`).
pub fn revoke(
    db: &D1Database,
    id_hash: &str,
    now: DateTime<Utc>,
) -> worker::Result<worker::D1PreparedStatement> {
    db.prepare(
        "UPDATE sessions SET revoked_at = ?2, recovery_reveal = NULL \
                 WHERE id_hash = ?1 AND revoked_at IS NULL",
    )
    .bind(&[id_hash.into(), ms(now)])
}

/// Ends every session of `account` except `keep` (the one making the change, if any).
pub fn revoke_others(
    db: &D1Database,
    account: &str,
    keep: Option<&str>,
    now: DateTime<Utc>,
) -> worker::Result<worker::D1PreparedStatement> {
    db.prepare(
        "UPDATE sessions SET revoked_at = ?3, recovery_reveal = NULL \
         WHERE account_id = ?1 AND revoked_at IS NULL AND id_hash IS NOT ?2",
    )
    .bind(&[
        account.into(),
        keep.map_or(JsValue::NULL, JsValue::from),
        ms(now),
    ])
}

fn cookie_for(
    key: &HS256Key,
    sid: &str,
    stage: Stage,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<String, AppError> {
    let lifetime = (expires - now).num_seconds().max(1) as u64;
    let mut claims = jwt_simple::prelude::Claims::with_custom_claims(
        Claims {
            sid: sid.to_owned(),
            stg: stage.as_str().to_owned(),
        },
        Duration::from_secs(lifetime),
    );
    let issued = Duration::from_secs(now.timestamp().max(0) as u64);
    claims.issued_at = Some(issued);
    claims.invalid_before = Some(issued);
    claims.expires_at = Some(issued + Duration::from_secs(lifetime));
    let token = key.authenticate(claims).map_err(|e| {
        worker::console_error!("signing a session: {e}");
        AppError::Unavailable { retry_after_s: 5 }
    })?;
    Ok(set_cookie(COOKIE, &token, Some(lifetime)))
}

/// A `Set-Cookie` value: HttpOnly, Secure, SameSite=Lax, for the whole site. `max_age`
/// `None` is a browser-session cookie; `Some(0)` deletes it.
pub fn set_cookie(name: &str, value: &str, max_age: Option<u64>) -> String {
    let age = max_age.map_or(String::new(), |a| format!("; Max-Age={a}"));
    format!("{name}={value}; Path=/{age}; HttpOnly; Secure; SameSite=Lax")
}

/// The `Set-Cookie` value that deletes the session cookie.
pub fn clear_cookie() -> String {
    set_cookie(COOKIE, "", Some(0))
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Housekeeping for the cron sweep: recovery codes never viewed are not kept past the
/// time a sign-in may take, ended sessions and spent codes and counters go. Returns the
/// rows touched.
pub async fn cleanup(db: &D1Database, now: DateTime<Utc>) -> worker::Result<usize> {
    let cutoff = ms(now - domain::session::PENDING);
    let day_ago = ms(now - chrono::TimeDelta::days(1));
    let results = db
        .batch(vec![
            db.prepare(
                "UPDATE sessions SET recovery_reveal = NULL \
                 WHERE recovery_reveal IS NOT NULL AND created_at < ?1",
            )
            .bind(&[cutoff])?,
            db.prepare("DELETE FROM sessions WHERE expires_at < ?1 OR revoked_at < ?1")
                .bind(&[day_ago])?,
            db.prepare("DELETE FROM sms_challenges WHERE expires_at < ?1")
                .bind(&[ms(now)])?,
            db.prepare(
                "DELETE FROM signin_throttle \
                 WHERE (locked_until IS NULL OR locked_until < ?1) AND first_failure < ?2",
            )
            .bind(&[ms(now), ms(now - domain::account::WINDOW)])?,
        ])
        .await?;
    Ok((0..results.len())
        .map(|i| crate::d1::changes(results.get(i)))
        .sum())
}
