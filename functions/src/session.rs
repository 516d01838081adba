//! Portal sessions. The cookie `__Host-mm_session` holds a token signed with `SESSION_SECRET`
//! (jwt-simple, HS256) that names a session row by a random id; the row, stored under
//! the id's SHA-256, is what makes the session live: logout, a password change or a reset
//! of the second factor revoke rows, and the next request with the old cookie is a
//! stranger's. A new session (new id) is started at every step of sign-in and at every
//! change of the second factor or password, but only a password typed at /login starts
//! a new sign-in: the others keep its start and the time the password was last given
//! (`Since`). Timings are `domain::session`'s.

use app::tenant::Caller;
use chrono::{DateTime, Utc};
use domain::access::Stage;
use jwt_simple::prelude::*;
pub use store::audit::Origin;
use store::sessions;
use worker::Env;

use crate::error::AppError;
use crate::secret::{hex, random, sha256_hex};

/// `__Host-`: the browser accepts it only with Secure, `Path=/` and no Domain.
pub const COOKIE: &str = "__Host-mm_session";

#[derive(Serialize, Deserialize)]
struct Claims {
    /// The session id (the row is kept under its SHA-256).
    sid: String,
    /// The stage, so a token of one step cannot stand for another.
    stg: String,
}

fn key(env: &Env) -> Result<HS256Key, AppError> {
    let config = crate::config::get(env);
    // An unset or short secret means nobody can sign in, never that tokens go unsigned.
    let Some(secret) = config
        .session_secret
        .at_least(domain::config::SESSION_SECRET_MIN)
    else {
        worker::console_error!("SESSION_SECRET is missing or shorter than 32 bytes");
        return Err(AppError::Unavailable { retry_after_s: 60 });
    };
    Ok(HS256Key::from_bytes(secret.as_bytes()))
}

/// A session read from the cookie: who, how far, and whether the cookie should be
/// renewed on this answer.
pub struct Current {
    pub caller: Caller,
    pub renew: Option<String>,
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
    // Judged at the request's `now` (the clock that issued it: in development the
    // Worker's adjustable clock), not at jwt-simple's own reading of the wall clock.
    let options = VerificationOptions {
        time_tolerance: Some(Duration::from_secs(5)),
        artificial_time: Some(Duration::from_secs(now.timestamp().max(0) as u64)),
        ..Default::default()
    };
    let Ok(claims) = key.verify_token::<Claims>(token, Some(options)) else {
        return Ok(None);
    };
    let Some(stage) = Stage::parse(&claims.custom.stg) else {
        return Ok(None);
    };
    let id_hash = sha256_hex(&claims.custom.sid);
    let db = crate::store(env)?;
    let Some(caller) = sessions::current(&db, &id_hash, stage, now).await? else {
        return Ok(None);
    };
    let issued = claims
        .issued_at
        .and_then(|t| DateTime::from_timestamp(t.as_secs() as i64, 0))
        .unwrap_or(caller.created_at);
    let renew = if domain::session::needs_renewal(stage, issued, now) {
        let expires = domain::session::expires_at(stage, caller.created_at, now);
        db.run(sessions::renew(&id_hash, now, expires)).await?;
        Some(cookie_for(&key, &claims.custom.sid, stage, now, expires)?)
    } else {
        None
    };
    Ok(Some(Current { caller, renew }))
}

/// Where the sign-in of a new session began.
pub enum Since<'a> {
    /// A password given just now starts a sign-in; the session the visitor had, if any,
    /// ends in the same batch.
    Password { replaces: Option<&'a str> },
    /// The same sign-in goes on under a new id (a step of sign-in, a changed second
    /// factor or password): `previous` ends, and the new session keeps when the sign-in
    /// began (so the absolute limit is not renewed) and when the password was last given.
    Continues {
        previous: &'a str,
        signed_in: DateTime<Utc>,
        authenticated: DateTime<Utc>,
    },
}

/// A session to start.
pub struct New<'a> {
    pub account: &'a str,
    pub stage: Stage,
    pub since: Since<'a>,
    pub origin: &'a Origin,
    /// Recovery codes the new session shows once.
    pub reveal: Option<&'a str>,
}

/// Starts a session. Returns the `Set-Cookie` value.
pub async fn start(
    env: &Env,
    db: &store::Db,
    new: New<'_>,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let New {
        account,
        stage,
        since,
        origin,
        reveal,
    } = new;
    let (previous, signed_in, authenticated) = match since {
        Since::Password { replaces } => (replaces, now, now),
        Since::Continues {
            previous,
            signed_in,
            authenticated,
        } => (Some(previous), signed_in, authenticated),
    };
    let key = key(env)?;
    let sid = hex(&random::<32>()?);
    let expires = domain::session::first_expiry(stage, signed_in, now);
    let id_hash = sha256_hex(&sid);
    let row = sessions::New {
        id_hash: &id_hash,
        account,
        stage,
        signed_in,
        authenticated,
        origin,
        reveal,
    };
    let mut batch = vec![sessions::start(&row, now, expires)];
    batch.extend(previous.map(|previous| sessions::revoke(previous, now)));
    db.batch(batch).await?;
    cookie_for(&key, &sid, stage, now, expires)
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
    Ok(lasting_cookie(COOKIE, &token, lifetime))
}

/// A `Set-Cookie` value: HttpOnly, Secure, SameSite=Lax, for the whole site, kept until
/// the browser closes.
pub fn browser_cookie(name: &str, value: &str) -> String {
    format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite=Lax")
}

/// As `browser_cookie`, kept `seconds` (0 deletes it).
pub fn lasting_cookie(name: &str, value: &str, seconds: u64) -> String {
    format!("{name}={value}; Path=/; Max-Age={seconds}; HttpOnly; Secure; SameSite=Lax")
}

/// The `Set-Cookie` value that deletes the session cookie.
pub fn clear_cookie() -> String {
    lasting_cookie(COOKIE, "", 0)
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
