//! API tokens as stored: only the SHA-256 of a token is kept; revoking one takes effect on
//! the next request. Resolving a token (or the bootstrap operator secret) is the only way
//! an API request gets an [`Access`]; every use is recorded with its audit entry.

use chrono::{DateTime, Utc};
use domain::access::Scope;
use serde::Deserialize;

use crate::audit::{self, Entry, Origin};
use crate::{Access, Db, Error, Query};

/// An authenticated API caller.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// The issued token's id; `bootstrap` for the operator secret.
    pub token_id: String,
    /// Where the request comes from, for the audit log.
    pub origin: Origin,
    access: Access,
}

impl ApiCaller {
    pub fn access(&self) -> &Access {
        &self.access
    }
    pub fn scope(&self) -> &Scope {
        self.access.scope()
    }
    /// Whether this caller is the operator (operator-only endpoints answer others 403).
    pub fn is_operator(&self) -> bool {
        matches!(self.scope(), Scope::Operator)
    }
}

/// The caller presenting the bootstrap operator secret. The Worker compares the secret
/// (in constant time) before calling this.
pub fn bootstrap(origin: Origin) -> ApiCaller {
    ApiCaller {
        token_id: "bootstrap".into(),
        origin,
        access: Access::granted(Scope::Operator),
    }
}

#[derive(Deserialize)]
struct Row {
    id: String,
    scope: String,
    reseller_id: Option<String>,
}

/// The live token stored under `token_hash`; `None` for one unknown or revoked.
pub async fn resolve(
    db: &Db,
    token_hash: &str,
    origin: Origin,
) -> Result<Option<ApiCaller>, Error> {
    let row: Option<Row> = db
        .first(
            Query::new(
                "SELECT id, scope, reseller_id FROM api_tokens \
                 WHERE token_hash = :hash AND revoked_at IS NULL",
            )
            .bind("hash", token_hash),
        )
        .await?;
    Ok(row.and_then(|row| {
        let scope = Scope::from_row(&row.scope, row.reseller_id.as_deref(), None)?;
        Some(ApiCaller {
            token_id: row.id,
            origin,
            access: Access::granted(scope),
        })
    }))
}

/// Records one use of the caller's token (`what`: method and route).
pub async fn record_use(
    db: &Db,
    caller: &ApiCaller,
    what: String,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let entry = Entry {
        event: "token.used",
        token_id: Some(&caller.token_id),
        scope: Some(caller.scope()),
        origin: Some(&caller.origin),
        detail: Some(what),
        ..Default::default()
    };
    db.batch(vec![
        Query::new("UPDATE api_tokens SET last_used_at = :now WHERE id = :id")
            .bind("id", caller.token_id.as_str())
            .bind("now", now),
        audit::insert(&entry, now),
    ])
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, fixture};

    #[test]
    fn a_live_token_resolves_to_its_scope_and_a_revoked_one_to_nobody() {
        let f = fixture();
        f.db.execute_script(
            "INSERT INTO api_tokens (id, token_hash, scope, reseller_id, name, created_at, revoked_at) VALUES
               ('t-op', 'h-op', 'operator', NULL, 'ops', 0, NULL),
               ('t-ra', 'h-ra', 'reseller', 'r-a', 'desk', 0, NULL),
               ('t-old', 'h-old', 'reseller', 'r-a', 'old', 0, 5);",
        )
        .expect("tokens");
        let resolve =
            |hash: &str| block_on(resolve(&f.db, hash, Origin::default())).expect("reads");
        assert_eq!(
            resolve("h-op").map(|c| c.scope().clone()),
            Some(Scope::Operator)
        );
        let desk = resolve("h-ra").expect("live");
        assert_eq!(desk.scope(), &Scope::Reseller("r-a".into()));
        assert!(!desk.is_operator());
        assert!(resolve("h-old").is_none());
        assert!(resolve("h-unknown").is_none());
        let now = DateTime::from_timestamp_millis(9).expect("in range");
        block_on(record_use(&f.db, &desk, "GET /x".into(), now)).expect("records");
        let used: Option<(String,)> = None;
        drop(used);
        #[derive(Deserialize)]
        struct Use {
            last_used_at: i64,
            audited: i64,
        }
        let u: Use = block_on(f.db.first(Query::new(
            "SELECT last_used_at, (SELECT count(*) FROM audit_log WHERE token_id = 't-ra' \
               AND event = 'token.used' AND detail = 'GET /x') AS audited \
             FROM api_tokens WHERE id = 't-ra'",
        )))
        .expect("reads")
        .expect("row");
        assert_eq!((u.last_used_at, u.audited), (9, 1));
    }
}
