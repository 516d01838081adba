//! The identity part of the operator and reseller API: portal accounts (issued with
//! temporary credentials sent by mail only, seed §3.5), resets of a password or second
//! factor, resellers, API tokens and the audit log. Scoping goes through `app::tenant`:
//! an account, customer or reseller outside the caller's scope is a 404.

use app::d1::{ms, named};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use domain::access::Scope;
use domain::account::{parse_new_account, parse_new_reseller, parse_new_token};
use domain::customer::Email;
use domain::{onetime, password};
use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

use crate::audit::{self, Entry};
use crate::auth::{ApiCaller, api_caller, require_json};
use crate::error::AppError;
use crate::mail_api::send_now;
use crate::secret::{hex, random, sha256_hex};

/// Whose account a new one is.
enum Owner {
    Operator,
    Reseller(String),
    Customer(String),
}

/// `POST /api/v1/admin/customers/{customer_id}/accounts` `{"email"}` → 201
/// `{"account_id"}`: a customer admin. The temporary login id and password go to the
/// address by mail, never in the answer.
#[worker::send]
pub async fn create_for_customer(
    Extension(env): Extension<Env>,
    Path(customer_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    create(&env, &headers, &body, Owner::Customer(customer_id)).await
}

/// `POST /api/v1/admin/resellers/{reseller_id}/accounts` `{"email"}`: a reseller's
/// staff (by the operator, or by the reseller itself).
#[worker::send]
pub async fn create_for_reseller(
    Extension(env): Extension<Env>,
    Path(reseller_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    create(&env, &headers, &body, Owner::Reseller(reseller_id)).await
}

/// `POST /api/v1/admin/operator/accounts` `{"email"}`: operator staff (operator only).
#[worker::send]
pub async fn create_for_operator(
    Extension(env): Extension<Env>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    create(&env, &headers, &body, Owner::Operator).await
}

/// Authenticates, checks that the caller reaches `owner` (404 if not; 403 for a customer
/// whose contract has ended, like appliances), then issues the account.
async fn create(
    env: &Env,
    headers: &HeaderMap,
    body: &[u8],
    owner: Owner,
) -> Result<Response, AppError> {
    let route = match owner {
        Owner::Operator => "/api/v1/admin/operator/accounts",
        Owner::Reseller(_) => "/api/v1/admin/resellers/{id}/accounts",
        Owner::Customer(_) => "/api/v1/admin/customers/{id}/accounts",
    };
    let caller = api_caller(headers, env, &Method::POST, route).await?;
    if let Owner::Operator = owner {
        crate::auth::operator(&caller)?;
    }
    require_json(headers)?;
    let email = parse_new_account(body)?;
    let db = env.d1("DB")?;
    let to_whom = match &owner {
        Owner::Operator => "見守りサービス運営".to_owned(),
        Owner::Reseller(id) => reseller_name(&db, caller.scope(), id)
            .await?
            .ok_or(AppError::NotFound)?,
        Owner::Customer(id) => {
            let customer = store::access::customer(&crate::store(env)?, caller.access(), id)
                .await?
                .ok_or(AppError::NotFound)?;
            if customer.contract_ended() {
                return Err(AppError::ContractEnded);
            }
            customer.name().to_owned()
        }
    };
    issue(env, &db, &caller, owner, &to_whom, email).await
}

#[derive(Deserialize)]
struct NameRow {
    name: String,
}

/// `InvalidField` on `$.reseller_id` unless the reseller `id` exists.
pub(crate) async fn require_reseller(db: &D1Database, id: &str) -> Result<(), AppError> {
    let known = db
        .prepare("SELECT 1 AS known FROM resellers WHERE id = ?1")
        .bind(&[id.into()])?
        .first::<serde_json::Value>(None)
        .await?;
    if known.is_none() {
        let (path, message) = ("$.reseller_id".into(), "no such reseller".into());
        return Err(AppError::InvalidField { path, message });
    }
    Ok(())
}

async fn reseller_name(
    db: &D1Database,
    scope: &Scope,
    reseller: &str,
) -> Result<Option<String>, AppError> {
    if !scope.reaches_reseller(reseller) {
        return Ok(None);
    }
    Ok(db
        .prepare("SELECT name FROM resellers WHERE id = ?1")
        .bind(&[reseller.into()])?
        .first::<NameRow>(None)
        .await?
        .map(|r| r.name))
}

/// New temporary credentials: a login id (kept for a reset) and a password, hashed.
struct Temporary {
    login_id: String,
    password: String,
    hash: String,
    expires: DateTime<Utc>,
}

fn temporary(login_id: Option<String>, now: DateTime<Utc>) -> Result<Temporary, AppError> {
    let password = onetime::temp_password(random::<12>()?);
    Ok(Temporary {
        login_id: match login_id {
            Some(id) => id,
            None => onetime::temp_login_id(random::<6>()?),
        },
        hash: password::hash(&password, random::<{ password::SALT_BYTES }>()?),
        password,
        expires: now + onetime::TEMP_CREDENTIALS_TTL,
    })
}

async fn mail_credentials(
    env: &Env,
    key: &str,
    email: &str,
    to_whom: &str,
    t: &Temporary,
) -> Result<(), String> {
    let portal = crate::config::get(env).mail.clone().portal;
    let mail =
        domain::mail::temp_credentials(to_whom, &t.login_id, &t.password, t.expires, &portal);
    send_now(env, key, &[email], &mail).await
}

async fn issue(
    env: &Env,
    db: &D1Database,
    caller: &ApiCaller,
    owner: Owner,
    to_whom: &str,
    email: Email,
) -> Result<Response, AppError> {
    let now = Utc::now();
    let account_id = format!("acc_{}", hex(&random::<8>()?));
    let t = temporary(None, now)?;
    let (role, reseller, customer) = match &owner {
        Owner::Operator => ("operator", None, None),
        Owner::Reseller(r) => ("reseller", Some(r.as_str()), None),
        Owner::Customer(c) => ("customer", None, Some(c.as_str())),
    };
    let opt = |v: Option<&str>| v.map_or(JsValue::NULL, JsValue::from);
    let scope = Scope::from_row(role, reseller, customer);
    db.batch(vec![
        named(
            db,
            "INSERT INTO accounts (id, role, reseller_id, customer_id, email, login_id, password_hash, \
               temp_expires_at, created_at) \
             VALUES (:id, :role, :reseller, :customer, :email, :login, :hash, :expires, :now)",
            &[
                ("id", &JsValue::from(account_id.as_str())),
                ("role", &JsValue::from(role)),
                ("reseller", &opt(reseller)),
                ("customer", &opt(customer)),
                ("email", &JsValue::from(email.as_str())),
                ("login", &JsValue::from(t.login_id.as_str())),
                ("hash", &JsValue::from(t.hash.as_str())),
                ("expires", &ms(t.expires)),
                ("now", &ms(now)),
            ],
        )?,
        audit::statement(
            db,
            &Entry {
                event: "account.issued",
                account_id: Some(&account_id),
                login_id: Some(&t.login_id),
                scope: scope.as_ref(),
                token_id: Some(&caller.token_id),
                origin: Some(&caller.origin),
                detail: Some(format!(
                    "{}のアカウント。仮ユーザIDと仮パスワードを {} へ送信",
                    scope.as_ref().map_or(role, |s| s.label()),
                    email.as_str()
                )),
            },
            now,
        )?,
    ])
    .await?;
    if let Err(e) = mail_credentials(env, &account_id, email.as_str(), to_whom, &t).await {
        // Without the mail nobody can use the account: take it back, the caller retries.
        worker::console_error!("mailing credentials of {account_id}: {e}");
        db.prepare("DELETE FROM accounts WHERE id = ?1")
            .bind(&[account_id.as_str().into()])?
            .run()
            .await?;
        audit::record(
            db,
            &Entry {
                event: "account.issue_failed",
                account_id: Some(&account_id),
                scope: scope.as_ref(),
                token_id: Some(&caller.token_id),
                detail: Some(format!("メールが受け付けられず発行を取り消し: {e}")),
                ..Default::default()
            },
            now,
        )
        .await;
        return Err(AppError::Unavailable { retry_after_s: 30 });
    }
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "account_id": account_id })),
    )
        .into_response())
}

#[derive(Deserialize)]
struct AccountRow {
    role: String,
    reseller_id: Option<String>,
    customer_id: Option<String>,
    email: String,
    login_id: String,
    password_hash: String,
    temp_expires_at: Option<f64>,
}

/// The account `id` if the caller may manage it; otherwise `NotFound`.
async fn managed_account(
    env: &Env,
    db: &D1Database,
    caller: &ApiCaller,
    id: &str,
) -> Result<(AccountRow, Scope), AppError> {
    let row = db
        .prepare(
            "SELECT role, reseller_id, customer_id, email, login_id, password_hash, temp_expires_at \
             FROM accounts WHERE id = ?1",
        )
        .bind(&[id.into()])?
        .first::<AccountRow>(None)
        .await?
        .ok_or(AppError::NotFound)?;
    let scope = Scope::from_row(
        &row.role,
        row.reseller_id.as_deref(),
        row.customer_id.as_deref(),
    )
    .ok_or(AppError::NotFound)?;
    let allowed = match (caller.scope(), &scope) {
        (Scope::Operator, _) => true,
        (by, Scope::Reseller(theirs)) => by.reaches_reseller(theirs),
        (_, Scope::Customer(c)) => {
            store::access::customer(&store::Db::d1(env.d1("DB")?), caller.access(), c)
                .await?
                .is_some()
        }
        _ => false,
    };
    if allowed {
        Ok((row, scope))
    } else {
        Err(AppError::NotFound)
    }
}

/// An account to reset through the API, with who asked and when.
struct Reset {
    caller: ApiCaller,
    db: D1Database,
    account: AccountRow,
    scope: Scope,
    now: DateTime<Utc>,
}

/// Authenticates a reset (`what`: its route) and finds the account if the caller may
/// manage it.
async fn reset(
    env: &Env,
    headers: &HeaderMap,
    account_id: &str,
    what: &str,
) -> Result<Reset, AppError> {
    let caller = api_caller(headers, env, &Method::POST, what).await?;
    let db = env.d1("DB")?;
    let (account, scope) = managed_account(env, &db, &caller, account_id).await?;
    Ok(Reset {
        caller,
        db,
        account,
        scope,
        now: Utc::now(),
    })
}

/// `POST /api/v1/admin/accounts/{account_id}/reset-password` → 200 `{"account_id"}`:
/// new temporary credentials by mail (the login id stays); every session ends.
#[worker::send]
pub async fn reset_password(
    Extension(env): Extension<Env>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Reset {
        caller,
        db,
        account,
        scope,
        now,
    } = reset(
        &env,
        &headers,
        &account_id,
        "/api/v1/admin/accounts/{id}/reset-password",
    )
    .await?;
    let t = temporary(Some(account.login_id.clone()), now)?;
    db.batch(vec![
        db.prepare("UPDATE accounts SET password_hash = ?2, temp_expires_at = ?3 WHERE id = ?1")
            .bind(&[
                account_id.as_str().into(),
                t.hash.as_str().into(),
                ms(t.expires),
            ])?,
        crate::d1::statement(&db, &store::sessions::revoke_all(&account_id, now))?,
        audit::statement(
            &db,
            &Entry {
                event: "account.password_reset",
                account_id: Some(&account_id),
                login_id: Some(&account.login_id),
                scope: Some(&scope),
                token_id: Some(&caller.token_id),
                origin: Some(&caller.origin),
                detail: Some(format!("仮パスワードを {} へ送信", account.email)),
            },
            now,
        )?,
    ])
    .await?;
    let key = format!("{account_id}-reset-{}", now.timestamp_millis());
    if let Err(e) = mail_credentials(&env, &key, &account.email, "ご利用者", &t).await {
        worker::console_error!("mailing a reset of {account_id}: {e}");
        // Put the old password back as it was (temporary ones with their expiry): a reset
        // nobody received must not lock the user out, nor make a temporary password
        // permanent.
        let expiry = account.temp_expires_at.map_or(JsValue::NULL, JsValue::from);
        db.batch(vec![
            db.prepare(
                "UPDATE accounts SET password_hash = ?2, temp_expires_at = ?3 WHERE id = ?1",
            )
            .bind(&[
                account_id.as_str().into(),
                account.password_hash.as_str().into(),
                expiry,
            ])?,
            audit::statement(
                &db,
                &Entry {
                    event: "account.password_reset_failed",
                    account_id: Some(&account_id),
                    login_id: Some(&account.login_id),
                    scope: Some(&scope),
                    token_id: Some(&caller.token_id),
                    origin: Some(&caller.origin),
                    detail: Some(format!(
                        "メールが受け付けられず、元のパスワードに戻した: {e}"
                    )),
                },
                now,
            )?,
        ])
        .await?;
        return Err(AppError::Unavailable { retry_after_s: 30 });
    }
    Ok(axum::Json(json!({ "account_id": account_id })).into_response())
}

/// `POST /api/v1/admin/accounts/{account_id}/reset-second-factor` → 200: the user
/// chooses a second factor again at the next sign-in; every session ends.
#[worker::send]
pub async fn reset_second_factor(
    Extension(env): Extension<Env>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Reset {
        caller,
        db,
        account,
        scope,
        now,
    } = reset(
        &env,
        &headers,
        &account_id,
        "/api/v1/admin/accounts/{id}/reset-second-factor",
    )
    .await?;
    let mut batch = crate::signin::clear_second_factor(&db, &account_id, None)?;
    batch.extend([
        crate::d1::statement(&db, &store::sessions::revoke_all(&account_id, now))?,
        audit::statement(
            &db,
            &Entry {
                event: "account.second_factor_reset",
                account_id: Some(&account_id),
                login_id: Some(&account.login_id),
                scope: Some(&scope),
                token_id: Some(&caller.token_id),
                origin: Some(&caller.origin),
                ..Default::default()
            },
            now,
        )?,
    ]);
    db.batch(batch).await?;
    Ok(axum::Json(json!({ "account_id": account_id })).into_response())
}

/// `POST /api/v1/admin/resellers` `{"name"}` → 201 `{"reseller_id"}` (operator only).
#[worker::send]
pub async fn create_reseller(
    Extension(env): Extension<Env>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let caller = api_caller(&headers, &env, &Method::POST, "/api/v1/admin/resellers").await?;
    crate::auth::operator(&caller)?;
    require_json(&headers)?;
    let name = parse_new_reseller(&body)?;
    let db = env.d1("DB")?;
    let id = format!("rsl_{}", hex(&random::<8>()?));
    db.prepare("INSERT INTO resellers (id, name, created_at) VALUES (?1, ?2, ?3)")
        .bind(&[id.as_str().into(), name.as_str().into(), ms(Utc::now())])?
        .run()
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "reseller_id": id })),
    )
        .into_response())
}

/// `POST /api/v1/admin/tokens` → 201 `{"token_id", "token"}` (operator only). The token
/// is shown once; only its SHA-256 is kept.
#[worker::send]
pub async fn create_token(
    Extension(env): Extension<Env>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let caller = api_caller(&headers, &env, &Method::POST, "/api/v1/admin/tokens").await?;
    crate::auth::operator(&caller)?;
    require_json(&headers)?;
    let new = parse_new_token(&body)?;
    let db = env.d1("DB")?;
    if let Some(r) = &new.reseller_id {
        require_reseller(&db, r.as_str()).await?;
    }
    let now = Utc::now();
    let id = format!("tok_{}", hex(&random::<8>()?));
    let token = format!("mmt_{}", hex(&random::<32>()?));
    let scope = match &new.reseller_id {
        Some(r) => Scope::Reseller(r.as_str().to_owned()),
        None => Scope::Operator,
    };
    let reseller = new
        .reseller_id
        .as_ref()
        .map_or(JsValue::NULL, |r| JsValue::from(r.as_str()));
    db.batch(vec![
        named(
            &db,
            "INSERT INTO api_tokens (id, token_hash, scope, reseller_id, name, created_at) \
             VALUES (:id, :hash, :scope, :reseller, :name, :now)",
            &[
                ("id", &JsValue::from(id.as_str())),
                ("hash", &JsValue::from(sha256_hex(&token))),
                ("scope", &JsValue::from(scope.role())),
                ("reseller", &reseller),
                ("name", &JsValue::from(new.name.as_str())),
                ("now", &ms(now)),
            ],
        )?,
        audit::statement(
            &db,
            &Entry {
                event: "token.issued",
                token_id: Some(&caller.token_id),
                scope: Some(&scope),
                detail: Some(format!("{id} （{}、{}）", new.name, scope.label())),
                ..Default::default()
            },
            now,
        )?,
    ])
    .await?;
    let body = json!({ "token_id": id, "token": token, "scope": scope.role() });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// `DELETE /api/v1/admin/tokens/{token_id}` → 204 (operator only). Takes effect on the
/// token's next request.
#[worker::send]
pub async fn revoke_token(
    Extension(env): Extension<Env>,
    Path(token_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let caller = api_caller(&headers, &env, &Method::DELETE, "/api/v1/admin/tokens/{id}").await?;
    crate::auth::operator(&caller)?;
    let db = env.d1("DB")?;
    let now = Utc::now();
    let results = db
        .batch(vec![
            db.prepare(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            )
            .bind(&[token_id.as_str().into(), ms(now)])?,
            audit::statement(
                &db,
                &Entry {
                    event: "token.revoked",
                    token_id: Some(&caller.token_id),
                    detail: Some(token_id.clone()),
                    ..Default::default()
                },
                now,
            )?,
        ])
        .await?;
    if crate::d1::changes(results.first()) == 0 {
        return Err(AppError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub struct AuditQuery {
    limit: Option<String>,
    customer_id: Option<String>,
    account_id: Option<String>,
}

/// `GET /api/v1/admin/audit?limit=&customer_id=&account_id=` → 200 `{"entries": […]}`,
/// newest first (operator only).
#[worker::send]
pub async fn audit_log(
    Extension(env): Extension<Env>,
    Query(q): Query<AuditQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let caller = api_caller(&headers, &env, &Method::GET, "/api/v1/admin/audit").await?;
    crate::auth::operator(&caller)?;
    let db = env.d1("DB")?;
    let limit = match q.limit.as_deref() {
        None => 100,
        Some(l) => l.parse::<u32>().map_err(|_| AppError::InvalidField {
            path: "limit".into(),
            message: "must be a whole number from 1 to 1000".into(),
        })?,
    }
    .clamp(1, 1000);
    let rows = app::staff::audit_records(
        &db,
        q.customer_id.as_deref(),
        q.account_id.as_deref(),
        limit,
    )
    .await?;
    let entries: Vec<_> = rows
        .into_iter()
        .map(|r| {
            let at = app::d1::time(r.at).map(domain::jst::rfc3339);
            let mut v = serde_json::to_value(&r).unwrap_or_default();
            v["at"] = json!(at);
            v
        })
        .collect();
    Ok(axum::Json(json!({ "entries": entries })).into_response())
}
