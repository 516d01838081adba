//! The identity part of the operator and reseller API: portal accounts (issued with
//! temporary credentials sent by mail only, seed §3.5), resets of a password or second
//! factor, resellers, API tokens and the audit log. Scoping goes through `app::tenant`:
//! an account, customer or reseller outside the caller's scope is a 404.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use domain::access::{Manages, Scope, manages};
use domain::account::{parse_new_account, parse_new_reseller, parse_new_token};
use domain::customer::Email;
use domain::signin::AuditEvent;
use domain::{onetime, password};
use serde::Deserialize;
use serde_json::json;
use store::accounts::AccountRow;
use store::audit::insert;
use worker::Env;

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
    let db = crate::store(env)?;
    let to_whom = match &owner {
        Owner::Operator => "見守りサービス運営".to_owned(),
        Owner::Reseller(id) if caller.scope().reaches_reseller(id) => {
            store::resellers::name(&db, id)
                .await?
                .ok_or(AppError::NotFound)?
        }
        Owner::Reseller(_) => return Err(AppError::NotFound),
        Owner::Customer(id) => {
            let customer = store::access::customer(&db, caller.access(), id)
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

/// `InvalidField` on `$.reseller_id` unless the reseller `id` exists.
pub(crate) async fn require_reseller(db: &store::Db, id: &str) -> Result<(), AppError> {
    if !store::resellers::exists(db, id).await? {
        let (path, message) = ("$.reseller_id".into(), "no such reseller".into());
        return Err(AppError::InvalidField { path, message });
    }
    Ok(())
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
    db: &store::Db,
    caller: &ApiCaller,
    owner: Owner,
    to_whom: &str,
    email: Email,
) -> Result<Response, AppError> {
    let now = Utc::now();
    let account_id = format!("acc_{}", hex(&random::<8>()?));
    let t = temporary(None, now)?;
    let scope = match owner {
        Owner::Operator => Scope::Operator,
        Owner::Reseller(r) => Scope::Reseller(r),
        Owner::Customer(c) => Scope::Customer(c),
    };
    let new = store::accounts::NewAccount {
        id: &account_id,
        scope: &scope,
        email: email.as_str(),
        login_id: &t.login_id,
        password_hash: &t.hash,
        temp_expires_at: t.expires,
    };
    let issued = Entry {
        account_id: Some(&account_id),
        login_id: Some(&t.login_id),
        scope: Some(&scope),
        token_id: Some(&caller.token_id),
        origin: Some(&caller.origin),
        detail: Some(format!(
            "{}のアカウント。仮ユーザIDと仮パスワードを {} へ送信",
            scope.label(),
            email.as_str()
        )),
        ..Entry::of(AuditEvent::AccountIssued)
    };
    db.batch(vec![
        store::accounts::issue(&new, now),
        insert(&issued, now),
    ])
    .await?;
    if let Err(e) = mail_credentials(env, &account_id, email.as_str(), to_whom, &t).await {
        // Without the mail nobody can use the account: take it back, the caller retries.
        worker::console_error!("mailing credentials of {account_id}: {e}");
        db.run(store::accounts::withdraw(&account_id)).await?;
        let failed = Entry {
            account_id: Some(&account_id),
            scope: Some(&scope),
            token_id: Some(&caller.token_id),
            detail: Some(format!("メールが受け付けられず発行を取り消し: {e}")),
            ..Entry::of(AuditEvent::AccountIssueFailed)
        };
        audit::record(db, &failed, now).await;
        return Err(AppError::Unavailable { retry_after_s: 30 });
    }
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "account_id": account_id })),
    )
        .into_response())
}

/// The account `id` if the caller may manage it (`domain::access::manages`); otherwise
/// `NotFound`.
async fn managed_account(
    db: &store::Db,
    caller: &ApiCaller,
    id: &str,
) -> Result<(AccountRow, Scope), AppError> {
    let row = store::accounts::by_id(db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let scope = row.scope().ok_or(AppError::NotFound)?;
    let allowed = match manages(caller.scope(), &scope) {
        Manages::Yes => true,
        Manages::No => false,
        Manages::IfCustomerVisible(c) => store::access::customer(db, caller.access(), c)
            .await?
            .is_some(),
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
    db: store::Db,
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
    let db = crate::store(env)?;
    let (account, scope) = managed_account(&db, &caller, account_id).await?;
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
    let entry = |event, detail: String| Entry {
        account_id: Some(&account_id),
        login_id: Some(&account.login_id),
        scope: Some(&scope),
        token_id: Some(&caller.token_id),
        origin: Some(&caller.origin),
        detail: Some(detail),
        ..Entry::of(event)
    };
    let detail = format!("仮パスワードを {} へ送信", account.email);
    db.batch(vec![
        store::accounts::set_temporary_password(&account_id, &t.hash, t.expires),
        store::sessions::revoke_all(&account_id, now),
        insert(&entry(AuditEvent::PasswordReset, detail), now),
    ])
    .await?;
    let key = format!("{account_id}-reset-{}", now.timestamp_millis());
    if let Err(e) = mail_credentials(&env, &key, &account.email, "ご利用者", &t).await {
        worker::console_error!("mailing a reset of {account_id}: {e}");
        // Put the old password back as it was (temporary ones with their expiry): a reset
        // nobody received must not lock the user out, nor make a temporary password
        // permanent.
        let detail = format!("メールが受け付けられず、元のパスワードに戻した: {e}");
        db.batch(vec![
            store::accounts::restore_password(&account),
            insert(&entry(AuditEvent::PasswordResetFailed, detail), now),
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
    let mut batch = store::accounts::reset_second_factor(&account_id);
    batch.push(store::sessions::revoke_all(&account_id, now));
    let entry = Entry {
        account_id: Some(&account_id),
        login_id: Some(&account.login_id),
        scope: Some(&scope),
        token_id: Some(&caller.token_id),
        origin: Some(&caller.origin),
        ..Entry::of(AuditEvent::SecondFactorReset)
    };
    batch.push(insert(&entry, now));
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
    let db = crate::store(&env)?;
    let id = format!("rsl_{}", hex(&random::<8>()?));
    db.run(store::resellers::create(&id, &name, Utc::now()))
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
    let db = crate::store(&env)?;
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
    let token_hash = sha256_hex(&token);
    let issued = store::tokens::NewToken {
        id: &id,
        token_hash: &token_hash,
        scope: &scope,
        name: new.name.as_str(),
    };
    let entry = Entry {
        token_id: Some(&caller.token_id),
        scope: Some(&scope),
        detail: Some(format!("{id} （{}、{}）", new.name, scope.label())),
        ..Entry::of(AuditEvent::TokenIssued)
    };
    db.batch(vec![
        store::tokens::create(&issued, now),
        insert(&entry, now),
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
    let db = crate::store(&env)?;
    let now = Utc::now();
    let entry = Entry {
        token_id: Some(&caller.token_id),
        detail: Some(token_id.clone()),
        ..Entry::of(AuditEvent::TokenRevoked)
    };
    let changed = db
        .batch(vec![
            store::tokens::revoke(&token_id, now),
            insert(&entry, now),
        ])
        .await?;
    if changed.first().copied().unwrap_or(0) == 0 {
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
    let db = crate::store(&env)?;
    let limit = match q.limit.as_deref() {
        None => 100,
        Some(l) => l.parse::<u32>().map_err(|_| AppError::InvalidField {
            path: "limit".into(),
            message: "must be a whole number from 1 to 1000".into(),
        })?,
    }
    .clamp(1, 1000);
    let page = store::audit::Page {
        filter: store::audit::Filter {
            customer: q.customer_id.as_deref(),
            account: q.account_id.as_deref(),
        },
        before: None,
        limit,
    };
    let entries: Vec<_> = store::audit::page(&db, &page)
        .await?
        .into_iter()
        .map(|r| {
            json!({
                "at": domain::jst::rfc3339(r.at),
                "event": r.event,
                "account_id": r.account_id,
                "customer_id": r.customer_id,
                "reseller_id": r.reseller_id,
                "token_id": r.token_id,
                "login_id": r.login_id,
                "ip": r.ip,
                "user_agent": r.user_agent,
                "detail": r.detail,
            })
        })
        .collect();
    Ok(axum::Json(json!({ "entries": entries })).into_response())
}
