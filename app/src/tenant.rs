//! Who is asking, and whose data they may read: the one place where tenant scoping is
//! applied. The Worker resolves the visitor's session once per request (functions'
//! `session`) and provides a `Visitor` to the portal; API handlers resolve a bearer token
//! to a `Scope`. Both then ask `visible_customer` / `visible_customers` before reading a
//! customer's data, with the rule of `domain::access`. A customer outside the caller's
//! scope is answered like one that does not exist.

use domain::access::{Scope, Stage, VISIBLE_CUSTOMERS};
use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1Database;
use worker::send::SendFuture;

use crate::d1::named;

/// A signed-in (or signing-in) portal user.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    pub login_id: String,
    pub email: String,
    pub scope: Scope,
    pub stage: Stage,
    /// `totp`, `sms`, `none`, or `None` before the user chose.
    pub second_factor: Option<String>,
    pub sms_phone: Option<String>,
    /// SHA-256 of the session id.
    pub session: String,
    /// When the user last gave their password: the session's start, or a later
    /// confirmation (see `domain::session::recently_authenticated`).
    pub authenticated_at: chrono::DateTime<chrono::Utc>,
}

/// What the portal knows about the request: the session, if any, and the anti-forgery
/// token that every form posts back.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub caller: Option<Caller>,
    pub csrf: String,
}

/// The request's visitor (provided by the Worker).
pub fn visitor() -> Result<Visitor, ServerFnError> {
    use_context::<Visitor>().ok_or_else(|| ServerFnError::new("no visitor"))
}

/// The caller if their sign-in has reached one of `stages`; otherwise the server
/// function fails as unauthenticated (401).
pub fn caller_at(stages: &[Stage]) -> Result<(Caller, String), ServerFnError> {
    let v = visitor()?;
    match v.caller {
        Some(c) if stages.contains(&c.stage) => Ok((c, v.csrf)),
        _ => {
            status(401);
            Err(ServerFnError::new("サインインしてください"))
        }
    }
}

/// The fully signed-in caller.
pub fn signed_in() -> Result<(Caller, String), ServerFnError> {
    caller_at(&[Stage::Full])
}

/// Sets the HTTP status of the current page or server-function answer.
pub fn status(code: u16) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(code) = axum::http::StatusCode::from_u16(code)
    {
        response.set_status(code);
    }
}

/// The 404 a caller gets for a customer outside their scope, as for one that does not
/// exist.
pub fn not_found() -> ServerFnError {
    status(404);
    ServerFnError::new("見つかりません")
}

#[derive(Debug, Clone, Deserialize)]
pub struct CustomerRef {
    pub id: String,
    pub name: String,
    /// When the contract ended (epoch ms); such a customer gets no new appliances or
    /// accounts.
    pub contract_ended_at: Option<f64>,
}

/// The customer `customer`, if it exists and `scope` may see it.
pub async fn visible_customer(
    db: &D1Database,
    scope: &Scope,
    customer: &str,
) -> worker::Result<Option<CustomerRef>> {
    let sql = format!(
        "SELECT id, name, contract_ended_at FROM customers \
         WHERE id = :customer AND id IN ({VISIBLE_CUSTOMERS})"
    );
    let [role, id] = scope_values(scope);
    let customer = JsValue::from(customer);
    named(
        db,
        &sql,
        &[("role", &role), ("scope", &id), ("customer", &customer)],
    )?
    .first::<CustomerRef>(None)
    .await
}

/// Every customer `scope` may see, by name.
pub async fn visible_customers(db: &D1Database, scope: &Scope) -> worker::Result<Vec<CustomerRef>> {
    let sql = format!(
        "SELECT id, name, contract_ended_at FROM customers WHERE id IN ({VISIBLE_CUSTOMERS}) ORDER BY name, id"
    );
    let [role, id] = scope_values(scope);
    named(db, &sql, &[("role", &role), ("scope", &id)])?
        .all()
        .await?
        .results()
}

/// The values of `:role` and `:scope` in the `domain::access` queries.
pub fn scope_values(scope: &Scope) -> [JsValue; 2] {
    [JsValue::from(scope.role()), JsValue::from(scope.scope_id())]
}

/// Runs `work` with the Worker's environment for a server function: D1's futures are not
/// `Send`, which server functions require, and a storage failure is logged (`what` names
/// the work) and answered as a bare error.
pub async fn with_env<T, Fut>(
    what: &'static str,
    work: impl FnOnce(worker::Env) -> Fut,
) -> Result<T, ServerFnError>
where
    Fut: std::future::Future<Output = worker::Result<T>> + 'static,
    T: 'static,
{
    let env = use_context::<worker::Env>().ok_or_else(|| ServerFnError::new("no worker env"))?;
    SendFuture::new(work(env)).await.map_err(|e| {
        worker::console_error!("{what}: {e}");
        ServerFnError::new("storage unavailable")
    })
}

/// The customer a portal page shows: the one asked for (staff), or the caller's own
/// company when none is named (a customer admin). `Err` is the 404 to answer.
pub async fn page_customer(
    requested: Option<String>,
) -> Result<(Caller, CustomerRef), ServerFnError> {
    let (caller, _) = signed_in()?;
    let wanted = match requested.or_else(|| caller.scope.own_customer().map(str::to_owned)) {
        Some(c) => c,
        None => return Err(not_found()),
    };
    let scope = caller.scope.clone();
    let found = with_env("visible customer", |env| async move {
        visible_customer(&env.d1("DB")?, &scope, &wanted).await
    })
    .await?;
    match found {
        Some(c) => Ok((caller, c)),
        None => Err(not_found()),
    }
}
