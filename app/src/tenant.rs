//! Who is asking, and whose data a page may read. The Worker resolves the visitor's
//! session once per request (`store::sessions::current`) and provides a `Visitor` to the
//! portal; a page's server function takes the signed-in `Caller` from it and asks
//! `page_customer` for the `store::Tenant` it shows — the only value the store takes for a
//! customer's data. A customer outside the caller's scope is a 404, like one that does not
//! exist. Store failures become the server function's error with a 503 (unavailable) or a
//! 500 (a bug).

use domain::access::Stage;
use leptos::prelude::*;
use worker::send::SendFuture;

pub use store::Tenant;
pub use store::sessions::Caller;

/// What the portal knows about the request: the session, if any, and the anti-forgery
/// token that every form posts back.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub caller: Option<Caller>,
    pub csrf: String,
    /// The time the request is answered as of (the Worker's clock).
    pub now: chrono::DateTime<chrono::Utc>,
    /// A refused console form being drawn again (`crate::draft`).
    pub draft: Option<crate::draft::Draft>,
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

/// The time the request is answered as of: what a page's "now" is (whether an appliance
/// is online, what 直近7日 ends with).
pub fn now() -> Result<chrono::DateTime<chrono::Utc>, ServerFnError> {
    Ok(visitor()?.now)
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

/// Runs `work` with the Worker's environment for a server function: D1's futures are not
/// `Send`, which server functions require, and a storage failure is logged (`what` names
/// the work) and answered as a bare error.
pub async fn with_env<T, Fut>(
    what: &'static str,
    work: impl FnOnce(worker::Env) -> Fut,
) -> Result<T, ServerFnError>
where
    Fut: std::future::Future<Output = Result<T, store::Error>> + 'static,
    T: 'static,
{
    let env = use_context::<worker::Env>().ok_or_else(|| ServerFnError::new("no worker env"))?;
    SendFuture::new(work(env)).await.map_err(|e| {
        worker::console_error!("{what}: {e}");
        match e {
            store::Error::Bug(_) => {
                status(500);
                ServerFnError::new("internal error")
            }
            store::Error::Unavailable(_) => {
                status(503);
                ServerFnError::new("storage unavailable")
            }
        }
    })
}

/// The service's settings (provided by the Worker).
pub fn config() -> Result<std::sync::Arc<domain::config::Config>, store::Error> {
    use_context::<std::sync::Arc<domain::config::Config>>()
        .ok_or_else(|| store::Error::Bug("no config in context".into()))
}

/// The store of the request's Worker environment.
pub fn db(env: &worker::Env) -> Result<store::Db, store::Error> {
    env.d1("DB")
        .map(store::Db::d1)
        .map_err(|e| store::Error::Bug(format!("the DB binding: {e}")))
}

/// The customer a portal page shows: the one asked for (staff), or the caller's own
/// company when none is named (a customer admin). `Err` is the 404 to answer.
pub async fn page_customer(requested: Option<String>) -> Result<(Caller, Tenant), ServerFnError> {
    let (caller, _) = signed_in()?;
    // A customer admin's company came with the session: no second query.
    if let Some(own) = caller.own_tenant()
        && requested.as_deref().is_none_or(|r| r == own.id())
    {
        let own = own.clone();
        return Ok((caller, own));
    }
    let access = caller.access().clone();
    let found = with_env("visible customer", |env| async move {
        store::access::page_customer(&db(&env)?, &access, requested.as_deref()).await
    })
    .await?;
    match found {
        Some(c) => Ok((caller, c)),
        None => Err(not_found()),
    }
}
