//! The audit log: sign-ins (success and failure, with address and browser), changes of
//! password and second factor, account issuance and resets, and every use of an API
//! token. Entries are written in the same batch as the change they describe where there
//! is one. The operator reads them at /admin/audit and `GET /api/v1/admin/audit`.

use app::d1::{ms, named};
use app::tenant::Caller;
use chrono::{DateTime, Utc};
use domain::access::Scope;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use crate::session::Origin;

/// One entry. `event` is a dotted name (`signin.success`, `password.changed`, …).
#[derive(Debug, Clone, Default)]
pub struct Entry<'a> {
    pub event: &'static str,
    pub account_id: Option<&'a str>,
    pub login_id: Option<&'a str>,
    pub scope: Option<&'a Scope>,
    pub token_id: Option<&'a str>,
    pub origin: Option<&'a Origin>,
    /// A short, non-secret description (never a password or code).
    pub detail: Option<String>,
}

impl<'a> Entry<'a> {
    /// An entry about what a signed-in (or signing-in) portal user did.
    pub fn by(caller: &'a Caller, origin: &'a Origin, event: &'static str) -> Entry<'a> {
        Entry {
            event,
            account_id: Some(&caller.account_id),
            login_id: Some(&caller.login_id),
            scope: Some(&caller.scope),
            origin: Some(origin),
            ..Default::default()
        }
    }
}

pub fn statement(
    db: &D1Database,
    e: &Entry,
    now: DateTime<Utc>,
) -> worker::Result<D1PreparedStatement> {
    let opt = |v: Option<&str>| v.map_or(JsValue::NULL, JsValue::from);
    let (customer, reseller) = match e.scope {
        Some(Scope::Customer(c)) => (Some(c.as_str()), None),
        Some(Scope::Reseller(r)) => (None, Some(r.as_str())),
        _ => (None, None),
    };
    named(
        db,
        "INSERT INTO audit_log (at, event, account_id, customer_id, reseller_id, token_id, login_id, ip, user_agent, detail) \
         VALUES (:at, :event, :account, :customer, :reseller, :token, :login, :ip, :ua, :detail)",
        &[
            ("at", &ms(now)),
            ("event", &JsValue::from(e.event)),
            ("account", &opt(e.account_id)),
            ("customer", &opt(customer)),
            ("reseller", &opt(reseller)),
            ("token", &opt(e.token_id)),
            (
                "login",
                &opt(e.login_id.map(|l| l.get(..l.len().min(64)).unwrap_or(l))),
            ),
            ("ip", &opt(e.origin.and_then(|o| o.ip.as_deref()))),
            ("ua", &opt(e.origin.and_then(|o| o.user_agent.as_deref()))),
            ("detail", &opt(e.detail.as_deref())),
        ],
    )
}

/// Writes one entry on its own. A failure is logged, not raised: the audit log must not
/// turn a successful action into an error for the user.
pub async fn record(db: &D1Database, e: &Entry<'_>, now: DateTime<Utc>) {
    let result = match statement(db, e, now) {
        Ok(s) => s.run().await.map(|_| ()),
        Err(err) => Err(err),
    };
    if let Err(err) = result {
        worker::console_error!("audit {}: {err}", e.event);
    }
}
