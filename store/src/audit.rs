//! The audit log's statements: one entry per sign-in step, account change and API token
//! use, written in the same batch as the change it describes where there is one.

use chrono::{DateTime, Utc};
use domain::access::Scope;

use crate::Query;
use crate::sessions::Caller;

/// Where a request comes from, as kept with sessions and in the audit log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

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
            scope: Some(caller.scope()),
            origin: Some(origin),
            ..Default::default()
        }
    }
}

/// The longest login id kept in an entry, in bytes.
const LOGIN_ID_BYTES: usize = 64;

/// `text` cut to at most `max` bytes, on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The statement that writes `e`.
pub fn insert(e: &Entry, now: DateTime<Utc>) -> Query {
    let (customer, reseller) = match e.scope {
        Some(Scope::Customer(c)) => (Some(c.as_str()), None),
        Some(Scope::Reseller(r)) => (None, Some(r.as_str())),
        _ => (None, None),
    };
    Query::new(
        "INSERT INTO audit_log (at, event, account_id, customer_id, reseller_id, token_id, \
           login_id, ip, user_agent, detail) \
         VALUES (:at, :event, :account, :customer, :reseller, :token, :login, :ip, :ua, :detail)",
    )
    .bind("at", now)
    .bind("event", e.event)
    .bind("account", e.account_id)
    .bind("customer", customer)
    .bind("reseller", reseller)
    .bind("token", e.token_id)
    .bind("login", e.login_id.map(|l| cut(l, LOGIN_ID_BYTES)))
    .bind("ip", e.origin.and_then(|o| o.ip.as_deref()))
    .bind("ua", e.origin.and_then(|o| o.user_agent.as_deref()))
    .bind("detail", e.detail.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, db};

    #[test]
    fn an_entry_keeps_its_scope_and_a_cut_login_id() {
        let db = db();
        let scope = Scope::Reseller("r-a".into());
        let login = "あ".repeat(30); // 90 bytes: byte 64 falls inside a character
        let origin = Origin {
            ip: Some("192.0.2.1".into()),
            user_agent: None,
        };
        let entry = Entry {
            event: "signin.failed",
            login_id: Some(&login),
            scope: Some(&scope),
            origin: Some(&origin),
            ..Default::default()
        };
        let now = DateTime::from_timestamp_millis(1_000).expect("in range");
        block_on(db.run(insert(&entry, now))).expect("writes");
        #[derive(serde::Deserialize)]
        struct Row {
            at: i64,
            reseller_id: Option<String>,
            customer_id: Option<String>,
            login_id: String,
            ip: String,
        }
        let row: Row = block_on(db.first(Query::new(
            "SELECT at, reseller_id, customer_id, login_id, ip FROM audit_log",
        )))
        .expect("reads")
        .expect("one row");
        assert_eq!(row.at, 1_000);
        assert_eq!(row.reseller_id.as_deref(), Some("r-a"));
        assert_eq!(row.customer_id, None);
        assert_eq!(row.login_id, "あ".repeat(21));
        assert_eq!(row.ip, "192.0.2.1");
    }
}
