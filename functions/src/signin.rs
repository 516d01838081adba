//! The portal's sign-in forms (seed §3.5), posted as plain HTML forms to `/auth/*` and
//! answered with 303 See Other (Post/Redirect/Get): they work the same with and without
//! JavaScript. A problem sends the visitor back to the form with `?e=<code>`; the page
//! turns the code into Japanese. Every form carries the anti-forgery token.
//!
//! Steps: ログイン (login id + password; temporary ones lead to 初回設定) → 初回設定 (own
//! login id + password) → 2段階認証の選択 (認証アプリ / SMS / 利用しない) → signed in.
//! Later sign-ins ask for the chosen second factor (or a recovery code). Each step starts
//! a new session, so no session id survives a change of privilege.

use app::d1::{ms, named};
use app::tenant::{Caller, Visitor};
use axum::Extension;
use axum::body::Body;
use axum::extract::Form;
use axum::http::{HeaderMap, Response};
use chrono::{DateTime, Utc};
use domain::access::{Scope, Stage};
use domain::account::{PER_ADDRESS, PER_LOGIN_ID, login_id_problem, password_problems};
use domain::session::needs_reauth;
use domain::{onetime, password, totp};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

use crate::audit::{self, Entry};
use crate::error::AppError;
use crate::secret::{random, sha256_hex};
use crate::session::{self, Origin};
use crate::throttle;
use crate::web::{csrf_ok, origin, see_other, set_cookies};
use store::sessions::USABLE;

type Answer = Response<Body>;

fn back(page: &str, code: &str) -> Answer {
    see_other(&format!("{page}?e={code}"))
}

/// Starts the session `new` and sends the visitor on to `to` with its cookie.
async fn go(
    env: &Env,
    db: &D1Database,
    new: session::New<'_>,
    to: &str,
    now: DateTime<Utc>,
) -> Result<Answer, AppError> {
    let cookie = session::start(env, db, new, now).await?;
    let mut r = see_other(to);
    set_cookies(&mut r, &[cookie]);
    Ok(r)
}

/// A full session for `caller`, replacing the one they have.
fn full_session<'a>(caller: &'a Caller, origin: &'a Origin) -> session::New<'a> {
    session::New {
        account: &caller.account_id,
        stage: Stage::Full,
        previous: Some(&caller.session),
        origin,
        reveal: None,
    }
}

/// A storage failure while handling a form: logged, and the visitor is sent back with a
/// "try again" message instead of a JSON error.
fn unavailable(page: &str, e: AppError) -> Answer {
    worker::console_error!("sign-in form {page}: {e:?}");
    back(page, "unavailable")
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

/// The fields of an account that sign-in needs.
#[derive(Deserialize)]
struct AccountRow {
    id: String,
    login_id: String,
    password_hash: String,
    temp_expires_at: Option<f64>,
    second_factor: Option<String>,
    role: String,
    reseller_id: Option<String>,
    customer_id: Option<String>,
    sms_phone: Option<String>,
    totp_secret: Option<String>,
    totp_last_step: Option<f64>,
    totp_pending: Option<String>,
    totp_pending_at: Option<f64>,
    sms_pending_phone: Option<String>,
}

const ACCOUNT_COLUMNS: &str = "id, login_id, password_hash, temp_expires_at, second_factor, role, \
     reseller_id, customer_id, sms_phone, totp_secret, totp_last_step, totp_pending, \
     totp_pending_at, sms_pending_phone";

async fn account_by_id(db: &D1Database, id: &str) -> Result<Option<AccountRow>, AppError> {
    Ok(db
        .prepare(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE id = ?1 AND {USABLE}"
        ))
        .bind(&[id.into()])?
        .first::<AccountRow>(None)
        .await?)
}

impl AccountRow {
    fn scope(&self) -> Option<Scope> {
        Scope::from_row(
            &self.role,
            self.reseller_id.as_deref(),
            self.customer_id.as_deref(),
        )
    }

    /// Where a sign-in continues once the password is accepted.
    fn stage_after_password(&self) -> Stage {
        Stage::after_password(
            self.temp_expires_at.is_some(),
            self.second_factor.as_deref(),
        )
    }
}

// ---------------------------------------------------------------------------------------
// ログイン

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login_id: String,
    #[serde(default)]
    password: String,
}

#[worker::send]
pub async fn login(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Answer {
    if !csrf_ok(&visitor, &form.csrf) {
        return back("/login", "expired");
    }
    let origin = origin(&headers);
    match login_inner(&env, &visitor, &origin, &form, now()).await {
        Ok(answer) => answer,
        Err(e) => unavailable("/login", e),
    }
}

async fn login_inner(
    env: &Env,
    visitor: &Visitor,
    origin: &Origin,
    form: &LoginForm,
    now: DateTime<Utc>,
) -> Result<Answer, AppError> {
    let db = env.d1("DB")?;
    let login_id = form.login_id.trim();
    let fail = |reason: &'static str| Entry {
        event: "signin.failure",
        login_id: Some(login_id),
        origin: Some(origin),
        detail: Some(reason.to_owned()),
        ..Default::default()
    };
    // Every attempt is counted before it is checked, per login id and per address (many
    // ids from one place), and taken back if it was right.
    let key = throttle::login_id_key(login_id);
    let Some(after) = throttle::reserve(&db, &key, PER_LOGIN_ID, now).await? else {
        audit::record(&db, &fail("ユーザIDがロック中"), now).await;
        return Ok(back("/login", "locked"));
    };
    let address_key = origin.ip.as_deref().map(throttle::address_key);
    if let Some(k) = &address_key
        && throttle::reserve(&db, k, PER_ADDRESS, now).await?.is_none()
    {
        db.batch(vec![
            throttle::release(&db, &key, PER_LOGIN_ID)?,
            audit::statement(&db, &fail("送信元アドレスがロック中"), now)?,
        ])
        .await?;
        return Ok(back("/login", "locked"));
    }
    let account = if login_id.is_empty() {
        None
    } else {
        db.prepare(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE login_id = ?1 AND {USABLE}"
        ))
        .bind(&[login_id.into()])?
        .first::<AccountRow>(None)
        .await?
    };
    // The same work and the same answer whether the id is unknown or the password wrong.
    let verdict = match &account {
        None => {
            password::verify_dummy(&form.password);
            Err("存在しないユーザID")
        }
        Some(a) if !password::verify(&form.password, &a.password_hash) => Err("パスワードの誤り"),
        Some(a)
            if a.temp_expires_at
                .is_some_and(|t| t < now.timestamp_millis() as f64) =>
        {
            Err("仮パスワードの有効期限切れ")
        }
        Some(_) => Ok(()),
    };
    let scope = account.as_ref().and_then(AccountRow::scope);
    let (Ok(()), Some(account), Some(scope)) = (verdict, account.as_ref(), scope.as_ref()) else {
        let mut entry = fail(verdict.err().unwrap_or("アカウントの設定の不整合"));
        entry.account_id = account.as_ref().map(|a| a.id.as_str());
        entry.scope = scope.as_ref();
        audit::record(&db, &entry, now).await;
        let code = if after.check(now).is_err() {
            "locked"
        } else {
            "invalid"
        };
        return Ok(back("/login", code));
    };
    let stage = account.stage_after_password();
    let mut batch = vec![
        // With a second factor still to give, the right password only takes its own
        // attempt back: the codes count against the same limit.
        if stage == Stage::Verify {
            throttle::release(&db, &key, PER_LOGIN_ID)?
        } else {
            throttle::clear(&db, &key)?
        },
        audit::statement(
            &db,
            &Entry {
                event: if stage == Stage::Full {
                    "signin.success"
                } else {
                    "signin.password_ok"
                },
                account_id: Some(&account.id),
                login_id: Some(&account.login_id),
                scope: Some(scope),
                origin: Some(origin),
                detail: Some(format!("次の手順: {}", stage.label())),
                ..Default::default()
            },
            now,
        )?,
    ];
    if let Some(k) = &address_key {
        batch.push(throttle::release(&db, k, PER_ADDRESS)?);
    }
    if password::needs_rehash(&account.password_hash) {
        // Made under earlier parameters: replaced now that the password is at hand, unless
        // the password changed meanwhile.
        let fresh = password::hash(&form.password, random::<{ password::SALT_BYTES }>()?);
        batch.push(
            db.prepare(
                "UPDATE accounts SET password_hash = ?1 WHERE id = ?2 AND password_hash = ?3",
            )
            .bind(&[
                fresh.into(),
                account.id.as_str().into(),
                account.password_hash.as_str().into(),
            ])?,
        );
    }
    db.batch(batch).await?;
    if stage == Stage::Verify && account.second_factor.as_deref() == Some("sms") {
        // A failed send is shown on the next page, which offers to send again.
        if let Some(phone) = &account.sms_phone {
            let _ = send_sms_code(env, &db, &account.id, phone, now).await;
        }
    }
    let previous = visitor.caller.as_ref().map(|c| c.session.as_str());
    let new = session::New {
        account: &account.id,
        stage,
        previous,
        origin,
        reveal: None,
    };
    go(env, &db, new, stage.home(), now).await
}

// ---------------------------------------------------------------------------------------
// 初回設定: own login id and password

/// A new password that breaks a rule (or does not match its confirmation) sends the
/// visitor back to `page` with the rules it breaks.
fn refused_password(page: &str, password: &str, confirm: &str, login_id: &str) -> Option<Answer> {
    if password != confirm {
        return Some(back(page, "mismatch"));
    }
    let problems = password_problems(password, login_id);
    if problems.is_empty() {
        return None;
    }
    let codes: Vec<&str> = problems.iter().map(|p| p.code()).collect();
    Some(back(page, &format!("password&p={}", codes.join(","))))
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login_id: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
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
    let caller = at_stage(visitor, stages)?;
    if !csrf_ok(visitor, token) {
        return Err(back(page, "expired"));
    }
    Ok(caller)
}

/// The caller of a form that sets up a second factor (`page`): during the first sign-in,
/// or later from a session whose password is recent (else back to re-enter it).
fn factor_caller<'a>(visitor: &'a Visitor, token: &str, page: &str) -> Result<&'a Caller, Answer> {
    let caller = form_caller(visitor, &[Stage::Choose, Stage::Full], token, page)?;
    if stale(caller, now()) {
        return Err(back("/setup/2fa", "reauth"));
    }
    Ok(caller)
}

/// The caller of a form if their session is at one of `stages`; the form handler sends
/// anyone else to where they stand.
fn at_stage<'a>(visitor: &'a Visitor, stages: &[Stage]) -> Result<&'a Caller, Answer> {
    match &visitor.caller {
        Some(c) if stages.contains(&c.stage) => Ok(c),
        Some(c) => Err(see_other(c.stage.home())),
        None => Err(back("/login", "signed_out")),
    }
}

#[worker::send]
pub async fn setup(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Answer {
    let caller = match form_caller(&visitor, &[Stage::Setup], &form.csrf, "/setup") {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let login_id = form.login_id.trim();
    if let Some(code) = login_id_problem(login_id) {
        return back("/setup", code);
    }
    if let Some(answer) =
        refused_password("/setup", &form.password, &form.password_confirm, login_id)
    {
        return answer;
    }
    let origin = origin(&headers);
    match setup_inner(&env, caller, &origin, login_id, &form.password, now()).await {
        Ok(answer) => answer,
        Err(e) => unavailable("/setup", e),
    }
}

async fn setup_inner(
    env: &Env,
    caller: &Caller,
    origin: &Origin,
    login_id: &str,
    new_password: &str,
    now: DateTime<Utc>,
) -> Result<Answer, AppError> {
    let db = env.d1("DB")?;
    let hash = password::hash(new_password, random::<{ password::SALT_BYTES }>()?);
    // The guard keeps a login id unique and a finished first sign-in finished.
    let updated = named(
        &db,
        "UPDATE accounts SET login_id = :login, password_hash = :hash, temp_expires_at = NULL, \
           password_changed_at = :now \
         WHERE id = :id AND temp_expires_at IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM accounts WHERE login_id = :login AND id <> :id)",
        &[
            ("login", &JsValue::from(login_id)),
            ("hash", &JsValue::from(hash)),
            ("now", &ms(now)),
            ("id", &JsValue::from(caller.account_id.as_str())),
        ],
    )?
    .run()
    .await?;
    let account = account_by_id(&db, &caller.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if crate::d1::changes(Some(&updated)) == 0 {
        // Either the id is taken, or this form was sent twice and the first one already
        // finished: then carry on from where the visitor stands.
        return Ok(if account.temp_expires_at.is_none() {
            see_other("/")
        } else {
            back("/setup", "login_id_taken")
        });
    }
    let stage = account.stage_after_password();
    let mut entries = vec![Entry {
        login_id: Some(login_id),
        detail: Some(format!(
            "初回設定（仮ユーザID {} から変更）",
            caller.login_id
        )),
        ..Entry::by(caller, origin, "password.changed")
    }];
    if stage == Stage::Full {
        entries.push(Entry {
            detail: Some("リセット後のパスワードを設定".into()),
            ..Entry::by(caller, origin, "signin.success")
        });
    }
    let batch = entries
        .iter()
        .map(|e| audit::statement(&db, e, now))
        .collect::<worker::Result<Vec<_>>>()?;
    db.batch(batch).await?;
    if stage == Stage::Verify
        && let Some(phone) = &account.sms_phone
    {
        let _ = send_sms_code(env, &db, &account.id, phone, now).await;
    }
    let new = session::New {
        account: &account.id,
        stage,
        previous: Some(&caller.session),
        origin,
        reveal: None,
    };
    go(env, &db, new, stage.home(), now).await
}

// ---------------------------------------------------------------------------------------
// 2段階認証の選択

#[derive(Deserialize)]
pub struct ChooseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    method: String,
    /// Asked for when a signed-in user's session is not fresh.
    #[serde(default)]
    password: String,
}

/// In a full session, the second factor may change only shortly after the password was
/// given (`domain::session::REAUTH_WINDOW`).
fn stale(caller: &Caller, now: DateTime<Utc>) -> bool {
    needs_reauth(caller.stage, caller.authenticated_at, now)
}

/// Checks the password a signed-in user typed again (to change the second factor or the
/// password). Each try counts towards the login id's lockout like a sign-in; a right one
/// is taken back. A wrong one is audited as `failed_event`.
async fn password_again(
    db: &D1Database,
    caller: &Caller,
    origin: &Origin,
    given: &str,
    failed_event: &'static str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let key = throttle::login_id_key(&caller.login_id);
    let failed = |detail: &str| Entry {
        detail: Some(detail.to_owned()),
        ..Entry::by(caller, origin, failed_event)
    };
    if throttle::reserve(db, &key, PER_LOGIN_ID, now)
        .await?
        .is_none()
    {
        audit::record(db, &failed("ユーザIDがロック中"), now).await;
        return Ok(false);
    }
    let account = account_by_id(db, &caller.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !password::verify(given, &account.password_hash) {
        audit::record(db, &failed("パスワードの誤り"), now).await;
        return Ok(false);
    }
    throttle::release(db, &key, PER_LOGIN_ID)?.run().await?;
    Ok(true)
}

/// Checks the password a signed-in user gave again; a right one makes the session fresh.
async fn reauthenticate(
    env: &Env,
    caller: &Caller,
    origin: &Origin,
    given: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    if given.is_empty() {
        return Ok(false);
    }
    let db = env.d1("DB")?;
    if !password_again(&db, caller, origin, given, "password.reauth_failed", now).await? {
        return Ok(false);
    }
    db.batch(vec![
        db.prepare("UPDATE sessions SET reauth_at = ?2 WHERE id_hash = ?1")
            .bind(&[caller.session.as_str().into(), ms(now)])?,
        audit::statement(&db, &Entry::by(caller, origin, "password.reauth"), now)?,
    ])
    .await?;
    Ok(true)
}

#[worker::send]
pub async fn choose(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<ChooseForm>,
) -> Answer {
    let caller = match form_caller(
        &visitor,
        &[Stage::Choose, Stage::Full],
        &form.csrf,
        "/setup/2fa",
    ) {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    if stale(caller, now()) {
        let origin = origin(&headers);
        match reauthenticate(&env, caller, &origin, &form.password, now()).await {
            Ok(true) => {}
            Ok(false) => return back("/setup/2fa", "reauth"),
            Err(e) => return unavailable("/setup/2fa", e),
        }
    }
    match form.method.as_str() {
        "totp" => see_other("/setup/totp"),
        "sms" => see_other("/setup/sms"),
        "none" => {
            let origin = origin(&headers);
            match choose_none(&env, caller, &origin, now()).await {
                Ok(answer) => answer,
                Err(e) => unavailable("/setup/2fa", e),
            }
        }
        _ => back("/setup/2fa", "choose"),
    }
}

/// Choosing the second factor at the first sign-in completes the sign-in: recorded as
/// such, like a sign-in with a code.
fn completed(
    db: &D1Database,
    caller: &Caller,
    origin: &Origin,
    now: DateTime<Utc>,
) -> worker::Result<Option<worker::D1PreparedStatement>> {
    if caller.stage != Stage::Choose {
        return Ok(None);
    }
    let entry = Entry {
        detail: Some("2段階認証の方法を選択して完了".into()),
        ..Entry::by(caller, origin, "signin.success")
    };
    audit::statement(db, &entry, now).map(Some)
}

async fn choose_none(
    env: &Env,
    caller: &Caller,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<Answer, AppError> {
    let db = env.d1("DB")?;
    let mut batch = clear_second_factor(&db, &caller.account_id, Some("none"))?;
    batch.extend([
        crate::d1::statement(
            &db,
            &store::sessions::revoke_others(&caller.account_id, &caller.session, now),
        )?,
        audit::statement(
            &db,
            &Entry {
                detail: caller
                    .second_factor
                    .as_deref()
                    .map(|f| format!("変更前: {}", domain::access::factor_label(f))),
                ..Entry::by(caller, origin, "second_factor.none")
            },
            now,
        )?,
    ]);
    batch.extend(completed(&db, caller, origin, now)?);
    db.batch(batch).await?;
    go(
        env,
        &db,
        full_session(caller, origin),
        "/?done=2fa_none",
        now,
    )
    .await
}

/// Takes away the second factor of `account` and its recovery codes, leaving
/// `second_factor` as `value` (`'none'`: chosen not to use one; `NULL`: to be chosen at
/// the next sign-in).
pub(crate) fn clear_second_factor(
    db: &D1Database,
    account: &str,
    value: Option<&str>,
) -> worker::Result<Vec<worker::D1PreparedStatement>> {
    Ok(vec![
        db.prepare(
            "UPDATE accounts SET second_factor = ?2, totp_secret = NULL, totp_last_step = NULL, \
               totp_pending = NULL, sms_phone = NULL, sms_pending_phone = NULL WHERE id = ?1",
        )
        .bind(&[account.into(), value.map_or(JsValue::NULL, JsValue::from)])?,
        db.prepare("DELETE FROM recovery_codes WHERE account_id = ?1")
            .bind(&[account.into()])?,
    ])
}

// ---------------------------------------------------------------------------------------
// 認証アプリ (TOTP) and SMS: confirming one code enables the factor

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

#[worker::send]
pub async fn confirm_totp(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Answer {
    let caller = match factor_caller(&visitor, &form.csrf, "/setup/totp") {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let origin = origin(&headers);
    let now = now();
    let result = async {
        let db = env.d1("DB")?;
        let account = account_by_id(&db, &caller.account_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let fresh = account
            .totp_pending_at
            .and_then(app::d1::time)
            .is_some_and(|at| totp::pending_confirmable(at, now));
        let pending = account.totp_pending.clone().filter(|_| fresh);
        let secret = pending.as_deref().and_then(|p| {
            app::sealing::open_totp(&crate::config::get(&env).totp_seal_key, &account.id, p)
        });
        let (Some(secret), Some(pending)) = (secret, pending) else {
            return Ok(back("/setup/totp", "totp_expired"));
        };
        let Some(step) = totp::verify(&secret, &form.code, now.timestamp(), None) else {
            audit::record(
                &db,
                &Entry::by(caller, &origin, "second_factor.totp_confirm_failed"),
                now,
            )
            .await;
            return Ok(back("/setup/totp", "code"));
        };
        let update = db
            .prepare(
                "UPDATE accounts SET second_factor = 'totp', totp_secret = totp_pending, \
                   totp_last_step = ?2, totp_pending = NULL, totp_pending_at = NULL, \
                   sms_phone = NULL, sms_pending_phone = NULL WHERE id = ?1 AND totp_pending = ?3",
            )
            .bind(&[
                caller.account_id.as_str().into(),
                (step as f64).into(),
                pending.into(),
            ])?;
        enable(
            &env,
            &db,
            caller,
            &origin,
            update,
            "second_factor.totp_enabled",
            now,
        )
        .await
    }
    .await;
    result.unwrap_or_else(|e| unavailable("/setup/totp", e))
}

/// Enables a second factor (`update`), makes fresh recovery codes, ends the account's
/// other sessions and continues in a new full session that shows the codes once.
async fn enable(
    env: &Env,
    db: &D1Database,
    caller: &Caller,
    origin: &Origin,
    update: worker::D1PreparedStatement,
    event: &'static str,
    now: DateTime<Utc>,
) -> Result<Answer, AppError> {
    let mut codes = Vec::with_capacity(onetime::RECOVERY_CODES);
    for _ in 0..onetime::RECOVERY_CODES {
        codes.push(onetime::recovery_code(random::<8>()?));
    }
    let mut batch = vec![
        update,
        db.prepare("DELETE FROM recovery_codes WHERE account_id = ?1")
            .bind(&[caller.account_id.as_str().into()])?,
    ];
    for code in &codes {
        let normal = onetime::normalize_recovery(code).unwrap_or_else(|| code.clone());
        batch.push(
            db.prepare("INSERT INTO recovery_codes (account_id, code_hash) VALUES (?1, ?2)")
                .bind(&[
                    caller.account_id.as_str().into(),
                    sha256_hex(&normal).into(),
                ])?,
        );
    }
    batch.push(crate::d1::statement(
        db,
        &store::sessions::revoke_others(&caller.account_id, &caller.session, now),
    )?);
    batch.push(audit::statement(
        db,
        &Entry::by(caller, origin, event),
        now,
    )?);
    batch.extend(completed(db, caller, origin, now)?);
    let results = db.batch(batch).await?;
    if crate::d1::changes(results.first()) == 0 {
        return Ok(back("/setup/2fa", "choose"));
    }
    // The codes are shown once, on the next page, by the new session.
    let reveal = serde_json::to_string(&codes).unwrap_or_default();
    let new = session::New {
        reveal: Some(&reveal),
        ..full_session(caller, origin)
    };
    go(env, db, new, "/setup/recovery", now).await
}

#[derive(Deserialize)]
pub struct PhoneForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
}

/// Sends a new SMS code to `phone`, replacing any earlier one. `Err` holds the page code
/// of the problem (`sms_wait`, `sms_failed`).
async fn send_sms_code(
    env: &Env,
    db: &D1Database,
    account: &str,
    phone: &str,
    now: DateTime<Utc>,
) -> Result<Result<(), &'static str>, AppError> {
    let code = onetime::sms_code(random::<4>()?);
    // A code sent less than SMS_RESEND_INTERVAL ago stays: the row is replaced only when
    // older, in the same statement, so parallel requests send one code.
    let stored = named(
        db,
        "INSERT INTO sms_challenges (account_id, phone, code_hash, sent_at, expires_at, attempts) \
         VALUES (:account, :phone, :hash, :now, :expires, 0) \
         ON CONFLICT (account_id) DO UPDATE SET phone = excluded.phone, code_hash = excluded.code_hash, \
           sent_at = excluded.sent_at, expires_at = excluded.expires_at, attempts = 0 \
         WHERE sms_challenges.sent_at <= :resend_before",
        &[
            ("account", &JsValue::from(account)),
            ("phone", &JsValue::from(phone)),
            ("hash", &JsValue::from(sha256_hex(&code))),
            ("now", &ms(now)),
            ("expires", &ms(now + onetime::SMS_CODE_TTL)),
            ("resend_before", &ms(now - onetime::SMS_RESEND_INTERVAL)),
        ],
    )?
    .run()
    .await?;
    if crate::d1::changes(Some(&stored)) == 0 {
        return Ok(Err("sms_wait"));
    }
    let sent = crate::sms::send(env, phone, &onetime::sms_body(&code)).await;
    let entry = |event, detail: String| Entry {
        event,
        account_id: Some(account),
        detail: Some(detail),
        ..Default::default()
    };
    if let Err(e) = sent {
        worker::console_error!("sending an SMS code: {e}");
        db.batch(vec![
            db.prepare("DELETE FROM sms_challenges WHERE account_id = ?1")
                .bind(&[account.into()])?,
            audit::statement(
                db,
                &entry(
                    "second_factor.sms_failed",
                    format!("to {}: {e}", onetime::mask_phone(phone)),
                ),
                now,
            )?,
        ])
        .await?;
        return Ok(Err("sms_failed"));
    }
    let to = format!("宛先 {}", onetime::mask_phone(phone));
    audit::record(db, &entry("second_factor.sms_sent", to), now).await;
    Ok(Ok(()))
}

/// Checks a typed SMS code against the live challenge of `account` for `phone`.
async fn check_sms_code(
    db: &D1Database,
    account: &str,
    phone: &str,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    // The attempt is counted before the comparison, in one statement, so parallel
    // guesses cannot exceed SMS_MAX_ATTEMPTS.
    let code_hash = db
        .prepare(
            "UPDATE sms_challenges SET attempts = attempts + 1 \
             WHERE account_id = ?1 AND phone = ?2 AND attempts < ?3 AND expires_at > ?4 \
             RETURNING code_hash",
        )
        .bind(&[
            account.into(),
            phone.into(),
            f64::from(onetime::SMS_MAX_ATTEMPTS).into(),
            ms(now),
        ])?
        .first::<String>(Some("code_hash"))
        .await?;
    let Some(code_hash) = code_hash else {
        return Ok(false);
    };
    let digits = onetime::normalize_code(typed).unwrap_or_default();
    if !crate::auth::same_secret(&sha256_hex(&digits), &code_hash) {
        return Ok(false);
    }
    // Used once: only the request that deletes it may go on.
    let used = db
        .prepare("DELETE FROM sms_challenges WHERE account_id = ?1 AND code_hash = ?2")
        .bind(&[account.into(), code_hash.into()])?
        .run()
        .await?;
    Ok(crate::d1::changes(Some(&used)) == 1)
}

#[worker::send]
pub async fn send_phone_code(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    Form(form): Form<PhoneForm>,
) -> Answer {
    let caller = match factor_caller(&visitor, &form.csrf, "/setup/sms") {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let Ok(phone) = onetime::parse_phone(&form.phone) else {
        return back("/setup/sms", "phone");
    };
    let now = now();
    let result = async {
        let db = env.d1("DB")?;
        db.prepare("UPDATE accounts SET sms_pending_phone = ?2 WHERE id = ?1")
            .bind(&[caller.account_id.as_str().into(), phone.as_str().into()])?
            .run()
            .await?;
        Ok::<_, AppError>(
            match send_sms_code(&env, &db, &caller.account_id, &phone, now).await? {
                Ok(()) => see_other("/setup/sms?sent=1"),
                Err(code) => back("/setup/sms", code),
            },
        )
    }
    .await;
    result.unwrap_or_else(|e| unavailable("/setup/sms", e))
}

#[worker::send]
pub async fn confirm_sms(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Answer {
    let caller = match factor_caller(&visitor, &form.csrf, "/setup/sms") {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let origin = origin(&headers);
    let now = now();
    let result = async {
        let db = env.d1("DB")?;
        let account = account_by_id(&db, &caller.account_id).await?.ok_or(AppError::NotFound)?;
        let Some(phone) = account.sms_pending_phone else {
            return Ok(back("/setup/sms", "sms_start"));
        };
        if !check_sms_code(&db, &caller.account_id, &phone, &form.code, now).await? {
            return Ok(see_other("/setup/sms?sent=1&e=code"));
        }
        let update = db
            .prepare(
                "UPDATE accounts SET second_factor = 'sms', sms_phone = ?2, sms_pending_phone = NULL, \
                   totp_secret = NULL, totp_last_step = NULL, totp_pending = NULL WHERE id = ?1",
            )
            .bind(&[caller.account_id.as_str().into(), phone.as_str().into()])?;
        enable(&env, &db, caller, &origin, update, "second_factor.sms_enabled", now).await
    }
    .await;
    result.unwrap_or_else(|e| unavailable("/setup/sms", e))
}

// ---------------------------------------------------------------------------------------
// 2段階認証 at sign-in

/// Ends a sign-in at the second step: too many wrong codes (`codes`), or the login id or
/// address is locked (`locked`). `release_id` takes back the attempt counted against the
/// login id when it was never checked.
async fn end_sign_in(
    db: &D1Database,
    caller: &Caller,
    origin: &Origin,
    key: &str,
    code: &'static str,
    release_id: bool,
    now: DateTime<Utc>,
) -> Result<Answer, AppError> {
    let why = if code == "codes" {
        "2段階目: 確認コードの誤りが上限に到達"
    } else {
        "2段階目: ロック中"
    };
    let entry = Entry {
        detail: Some(why.into()),
        ..Entry::by(caller, origin, "signin.failure")
    };
    let mut batch = vec![
        crate::d1::statement(db, &store::sessions::revoke(&caller.session, now))?,
        audit::statement(db, &entry, now)?,
    ];
    if release_id {
        batch.push(throttle::release(db, key, PER_LOGIN_ID)?);
    }
    db.batch(batch).await?;
    let mut r = back("/login", code);
    set_cookies(&mut r, &[session::clear_cookie()]);
    Ok(r)
}

#[worker::send]
pub async fn verify(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Answer {
    let caller = match form_caller(&visitor, &[Stage::Verify], &form.csrf, "/login/verify") {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let origin = origin(&headers);
    let now = now();
    let result = async {
        let db = env.d1("DB")?;
        // Each code is counted before it is checked: against this sign-in (at most
        // MAX_CODE_FAILURES), against the login id's lockout — so signing in again with
        // the password brings no fresh guesses — and against the address.
        let key = throttle::login_id_key(&caller.login_id);
        let address_key = origin.ip.as_deref().map(throttle::address_key);
        let tries = db
            .prepare(
                "UPDATE sessions SET failed_codes = failed_codes + 1 \
                 WHERE id_hash = ?1 AND revoked_at IS NULL AND failed_codes < ?2 \
                 RETURNING failed_codes",
            )
            .bind(&[
                caller.session.as_str().into(),
                f64::from(domain::session::MAX_CODE_FAILURES).into(),
            ])?
            .first::<f64>(Some("failed_codes"))
            .await?;
        let entry = |event, detail: Option<String>| Entry {
            detail,
            ..Entry::by(caller, &origin, event)
        };
        let over =
            |code, release_id| end_sign_in(&db, caller, &origin, &key, code, release_id, now);
        let Some(tries) = tries else {
            return over("codes", false).await;
        };
        if throttle::reserve(&db, &key, PER_LOGIN_ID, now)
            .await?
            .is_none()
        {
            return over("locked", false).await;
        }
        if let Some(k) = &address_key
            && throttle::reserve(&db, k, PER_ADDRESS, now).await?.is_none()
        {
            return over("locked", true).await;
        }
        let account = account_by_id(&db, &caller.account_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut how = None;
        match account.second_factor.as_deref() {
            Some("totp") => {
                let secret = account.totp_secret.as_deref().and_then(|s| {
                    app::sealing::open_totp(&crate::config::get(&env).totp_seal_key, &account.id, s)
                });
                let last = account.totp_last_step.map(|s| s as i64);
                if let Some(step) =
                    secret.and_then(|s| totp::verify(&s, &form.code, now.timestamp(), last))
                {
                    // Only a later step may be used next: a code is good once.
                    let used = db
                        .prepare(
                            "UPDATE accounts SET totp_last_step = ?2 WHERE id = ?1 \
                             AND (totp_last_step IS NULL OR totp_last_step < ?2)",
                        )
                        .bind(&[account.id.as_str().into(), (step as f64).into()])?
                        .run()
                        .await?;
                    if crate::d1::changes(Some(&used)) > 0 {
                        how = Some("totp");
                    }
                }
            }
            Some("sms") => {
                if let Some(phone) = &account.sms_phone
                    && check_sms_code(&db, &account.id, phone, &form.code, now).await?
                {
                    how = Some("sms");
                }
            }
            _ => {}
        }
        if how.is_none()
            && let Some(normal) = onetime::normalize_recovery(&form.code)
        {
            let used = db
                .prepare(
                    "UPDATE recovery_codes SET used_at = ?3 \
                     WHERE account_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
                )
                .bind(&[
                    account.id.as_str().into(),
                    sha256_hex(&normal).into(),
                    ms(now),
                ])?
                .run()
                .await?;
            if crate::d1::changes(Some(&used)) > 0 {
                how = Some("recovery code");
            }
        }
        let Some(how) = how else {
            audit::record(
                &db,
                &entry("signin.failure", Some("2段階目: 確認コードの誤り".into())),
                now,
            )
            .await;
            if tries as u32 >= domain::session::MAX_CODE_FAILURES {
                return over("codes", false).await;
            }
            return Ok(back("/login/verify", "code"));
        };
        let mut batch = vec![
            throttle::clear(&db, &key)?,
            audit::statement(
                &db,
                &entry(
                    "signin.success",
                    Some(format!("2段階目: {}", domain::access::factor_label(how))),
                ),
                now,
            )?,
        ];
        if let Some(k) = &address_key {
            batch.push(throttle::release(&db, k, PER_ADDRESS)?);
        }
        db.batch(batch).await?;
        let to = if how == "recovery code" {
            "/account?done=recovery_used"
        } else {
            "/"
        };
        go(&env, &db, full_session(caller, &origin), to, now).await
    }
    .await;
    result.unwrap_or_else(|e| unavailable("/login/verify", e))
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
}

/// Sends the sign-in SMS code again.
#[worker::send]
pub async fn resend(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    Form(form): Form<TokenForm>,
) -> Answer {
    let caller = match form_caller(&visitor, &[Stage::Verify], &form.csrf, "/login/verify") {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let Some(phone) = caller.sms_phone.clone() else {
        return back("/login/verify", "code");
    };
    let result = async {
        let db = env.d1("DB")?;
        Ok::<_, AppError>(
            match send_sms_code(&env, &db, &caller.account_id, &phone, now()).await? {
                Ok(()) => see_other("/login/verify?sent=1"),
                Err(code) => back("/login/verify", code),
            },
        )
    }
    .await;
    result.unwrap_or_else(|e| unavailable("/login/verify", e))
}

// ---------------------------------------------------------------------------------------
// ログアウト and パスワード変更

#[worker::send]
pub async fn logout(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Answer {
    if !csrf_ok(&visitor, &form.csrf) {
        return see_other("/");
    }
    if let Some(caller) = &visitor.caller {
        let now = now();
        let origin = origin(&headers);
        let result = async {
            let db = env.d1("DB")?;
            db.batch(vec![
                crate::d1::statement(&db, &store::sessions::revoke(&caller.session, now))?,
                audit::statement(&db, &Entry::by(caller, &origin, "signout"), now)?,
            ])
            .await?;
            Ok::<_, AppError>(())
        }
        .await;
        if let Err(e) = result {
            return unavailable("/account", e);
        }
    }
    let mut r = see_other("/login?bye=1");
    set_cookies(&mut r, &[session::clear_cookie()]);
    r
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

#[worker::send]
pub async fn change_password(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Answer {
    let caller = match form_caller(&visitor, &[Stage::Full], &form.csrf, "/account") {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    if let Some(answer) = refused_password(
        "/account",
        &form.password,
        &form.password_confirm,
        &caller.login_id,
    ) {
        return answer;
    }
    let origin = origin(&headers);
    let now = now();
    let result = async {
        let db = env.d1("DB")?;
        let current_ok = password_again(
            &db,
            caller,
            &origin,
            &form.current,
            "password.change_failed",
            now,
        )
        .await?;
        if !current_ok {
            return Ok(back("/account", "current"));
        }
        let hash = password::hash(&form.password, random::<{ password::SALT_BYTES }>()?);
        db.batch(vec![
            db.prepare(
                "UPDATE accounts SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
            )
            .bind(&[caller.account_id.as_str().into(), hash.into(), ms(now)])?,
            crate::d1::statement(
                &db,
                &store::sessions::revoke_others(&caller.account_id, &caller.session, now),
            )?,
            audit::statement(&db, &Entry::by(caller, &origin, "password.changed"), now)?,
        ])
        .await?;
        go(
            &env,
            &db,
            full_session(caller, &origin),
            "/account?done=password",
            now,
        )
        .await
    }
    .await;
    result.unwrap_or_else(|e| unavailable("/account", e))
}

/// Ends every other session of the signed-in user (アカウント設定: a lost phone, a shared PC).
#[worker::send]
pub async fn end_others(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Answer {
    let caller = match form_caller(&visitor, &[Stage::Full], &form.csrf, "/account") {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let origin = origin(&headers);
    let now = now();
    let result = async {
        let db = env.d1("DB")?;
        db.batch(vec![
            crate::d1::statement(
                &db,
                &store::sessions::revoke_others(&caller.account_id, &caller.session, now),
            )?,
            audit::statement(&db, &Entry::by(caller, &origin, "signout.others"), now)?,
        ])
        .await?;
        Ok::<_, AppError>(see_other("/account?done=others"))
    }
    .await;
    result.unwrap_or_else(|e| unavailable("/account", e))
}
