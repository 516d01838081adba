//! The identity part of the operator and reseller API: portal accounts, issued with
//! temporary credentials sent by mail only (seed §3.5) — here — and, by noun, resets of
//! a password or second factor (`reset`), resellers (`resellers`), API tokens (`tokens`)
//! and the audit log (`audit_log`). Scoping goes through `store::access` and
//! `domain::access`: an account, customer or reseller outside the caller's scope is a 404.

mod audit_log;
mod resellers;
mod reset;
mod tokens;

pub use audit_log::audit_log;
pub use resellers::create_reseller;
pub(crate) use resellers::require_reseller;
pub use reset::{reset_password, reset_second_factor};
pub use tokens::{create_token, revoke_token};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use domain::access::Scope;
use domain::account::parse_new_account;
use domain::customer::Email;
use domain::signin::AuditEvent;
use domain::{onetime, password};
use serde_json::json;
use store::audit::insert;
use worker::Env;

use crate::audit::{self, Entry};
use crate::auth::{ApiCaller, api_caller, require_json};
use crate::error::AppError;
use crate::mail_api::send_now;
use crate::secret::{hex, random};

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
    // Each account mails an address: a tighter limit per token than the API's.
    let accounts = crate::config::get(env).rates.accounts;
    crate::rate::per_token(&db, accounts, "accounts", &caller.token_id, Utc::now()).await?;
    issue(env, &db, &caller, owner, &to_whom, email).await
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
