//! The portal's sign-in forms (seed §3.5), posted as plain HTML forms to `/auth/*` and
//! answered with 303 See Other (Post/Redirect/Get): they work the same with and without
//! JavaScript. A problem sends the visitor back to the form with `?e=<code>`
//! (`domain::signin::FormError`); the page turns the code into Japanese. Every form
//! carries the anti-forgery token. Each handler loads (the store), decides
//! (`domain::signin`) and stores, one module per step:
//!
//! ログイン (`login`: login id + password; temporary ones lead to 初回設定) → 初回設定
//! (`setup`: own login id + password) → 2段階認証の選択 (`choose`; `totp`, `sms`, and
//! `factor` which enables either) → signed in. Later sign-ins ask for the chosen second
//! factor or a recovery code (`verify`). `password` re-checks a password and changes it;
//! `signout` ends sessions. Each step starts a new session, so no session id survives a
//! change of privilege; only the password at ログイン starts a new sign-in, and the
//! other steps keep its start and password time (`session::Since`), so a chain of new
//! ids never outlives the 12-hour limit or keeps the password fresh.

mod choose;
mod factor;
mod login;
mod password;
mod setup;
mod signout;
mod sms;
mod totp;
mod verify;

use app::tenant::{Caller, Visitor};
use axum::body::Body;
use axum::http::Response;
use chrono::{DateTime, Utc};
use domain::access::Stage;
use domain::session::needs_reauth;
use domain::signin::FormError;
use serde::Deserialize;
use worker::Env;

pub use choose::choose;
pub use login::login;
pub use password::change_password;
pub use setup::setup;
pub use signout::{end_others, logout};
pub use sms::{confirm_sms, resend, send_phone_code};
pub use totp::confirm_totp;
pub use verify::verify;

use crate::error::AppError;
use crate::session::{self, Origin, Since};
use crate::web::{csrf_ok, see_other, set_cookies};

type Answer = Response<Body>;

/// Back to `page` with `error` shown.
fn back(page: &str, error: FormError) -> Answer {
    see_other(&error.on(page))
}

/// Starts the session `new` and sends the visitor on to `to` with its cookie.
async fn go(
    env: &Env,
    db: &store::Db,
    new: session::New<'_>,
    to: &str,
    now: DateTime<Utc>,
) -> Result<Answer, AppError> {
    let cookie = session::start(env, db, new, now).await?;
    let mut r = see_other(to);
    set_cookies(&mut r, &[cookie]);
    Ok(r)
}

/// A full session for `caller`, replacing the one they have and going on with its
/// sign-in: its start and password time carry over.
fn full_session<'a>(caller: &'a Caller, origin: &'a Origin) -> session::New<'a> {
    session::New {
        account: &caller.account_id,
        stage: Stage::Full,
        since: Since::Continues {
            previous: &caller.session,
            signed_in: caller.created_at,
            authenticated: caller.authenticated_at,
        },
        origin,
        reveal: None,
    }
}

/// A storage failure while handling a form: logged, and the visitor is sent back with a
/// "try again" message instead of a JSON error.
fn unavailable(page: &str, e: AppError) -> Answer {
    e.to_form(page)
}

/// A form that carries only the anti-forgery token.
#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
}

/// A form with one typed code.
#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

impl CodeForm {
    /// The typed code; empty (which no check passes) when it is longer than any code.
    fn code(&self) -> &str {
        domain::bounds::within(&self.code, domain::bounds::CODE_CHARS).unwrap_or_default()
    }
}

/// The caller of a form whose session is at one of `stages` and whose anti-forgery token
/// is good; anyone else gets the answer that sends them where they stand (or back to
/// `page` to try again).
fn form_caller<'a>(
    visitor: &'a Visitor,
    stages: &[Stage],
    token: &str,
    page: &str,
) -> Result<&'a Caller, Answer> {
    let caller = match &visitor.caller {
        Some(c) if stages.contains(&c.stage) => c,
        Some(c) => return Err(see_other(c.stage.home())),
        None => return Err(back("/login", FormError::SignedOut)),
    };
    if !csrf_ok(visitor, token) {
        return Err(back(page, FormError::Expired));
    }
    Ok(caller)
}

/// In a full session, the second factor may change only shortly after the password was
/// given (`domain::session::REAUTH_WINDOW`).
fn stale(caller: &Caller, now: DateTime<Utc>) -> bool {
    needs_reauth(caller.stage, caller.authenticated_at, now)
}

/// The caller of a form that sets up a second factor (`page`): during the first sign-in,
/// or later from a session whose password is recent (else back to re-enter it).
fn factor_caller<'a>(
    visitor: &'a Visitor,
    token: &str,
    page: &str,
    now: DateTime<Utc>,
) -> Result<&'a Caller, Answer> {
    let caller = form_caller(visitor, &[Stage::Choose, Stage::Full], token, page)?;
    if stale(caller, now) {
        return Err(back("/setup/2fa", FormError::Reauth));
    }
    Ok(caller)
}
