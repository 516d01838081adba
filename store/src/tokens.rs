//! API tokens as stored: only the SHA-256 of a token is kept; revoking one takes effect on
//! the next request. Resolving a token (or the bootstrap operator secret) is the only way
//! an API request gets an [`Access`]; every use is recorded with its audit entry.

use chrono::{DateTime, Utc};
use domain::access::Scope;
use serde::Deserialize;

use crate::audit::{self, Entry, Origin};
use crate::{Access, Db, Error, Operator, Query};

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
        token_id: Some(&caller.token_id),
        scope: Some(caller.scope()),
        origin: Some(&caller.origin),
        detail: Some(what),
        ..Entry::of(domain::signin::AuditEvent::TokenUsed)
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

/// A token to issue: only its SHA-256 is stored.
pub struct NewToken<'a> {
    pub id: &'a str,
    pub token_hash: &'a str,
    /// The operator's, or a reseller's.
    pub scope: &'a Scope,
    pub name: &'a str,
}

pub fn create(new: &NewToken<'_>, now: DateTime<Utc>) -> Query {
    let reseller = match new.scope {
        Scope::Reseller(r) => Some(r.as_str()),
        _ => None,
    };
    Query::new(
        "INSERT INTO api_tokens (id, token_hash, scope, reseller_id, name, created_at) \
         VALUES (:id, :hash, :scope, :reseller, :name, :now)",
    )
    .bind("id", new.id)
    .bind("hash", new.token_hash)
    .bind("scope", new.scope.role())
    .bind("reseller", reseller)
    .bind("name", new.name)
    .bind("now", now)
}

/// Revokes token `id`: one row changed if it was live.
pub fn revoke(id: &str, now: DateTime<Utc>) -> Query {
    Query::new("UPDATE api_tokens SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL")
        .bind("id", id)
        .bind("now", now)
}

/// An issued token, as staff see it (never the token itself).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Issued {
    pub id: String,
    pub scope: String,
    pub reseller_id: Option<String>,
    pub name: String,
    #[serde(with = "crate::time::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::ms_opt", default)]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::ms_opt", default)]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Every issued token, newest first.
pub async fn list(db: &Db, _operator: &Operator) -> Result<Vec<Issued>, Error> {
    db.all(Query::new(
        "SELECT id, scope, reseller_id, name, created_at, last_used_at, revoked_at \
         FROM api_tokens ORDER BY created_at DESC, id",
    ))
    .await
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

    #[test]
    fn a_created_token_resolves_until_it_is_revoked_once() {
        let f = fixture();
        let now = DateTime::from_timestamp_millis(7).expect("in range");
        let scope = Scope::Reseller("r-b".into());
        let new = NewToken {
            id: "t-new",
            token_hash: "h-new",
            scope: &scope,
            name: "desk b",
        };
        block_on(f.db.run(create(&new, now))).expect("creates");
        let caller = block_on(resolve(&f.db, "h-new", Origin::default()))
            .expect("reads")
            .expect("live");
        assert_eq!(caller.token_id, "t-new");
        assert_eq!(caller.scope(), &scope);
        let listed = block_on(list(
            &f.db,
            &Access::granted(Scope::Operator)
                .operator()
                .expect("operator"),
        ))
        .expect("lists");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].reseller_id.as_deref(), Some("r-b"));
        assert_eq!(listed[0].revoked_at, None);
        assert_eq!(block_on(f.db.run(revoke("t-new", now))).expect("runs"), 1);
        assert_eq!(block_on(f.db.run(revoke("t-new", now))).expect("runs"), 0);
        assert_eq!(
            block_on(f.db.run(revoke("t-unknown", now))).expect("runs"),
            0
        );
        assert!(
            block_on(resolve(&f.db, "h-new", Origin::default()))
                .expect("reads")
                .is_none()
        );
    }

    #[test]
    fn an_operator_token_has_no_reseller() {
        let f = fixture();
        let now = DateTime::from_timestamp_millis(7).expect("in range");
        let new = NewToken {
            id: "t-op",
            token_hash: "h-op",
            scope: &Scope::Operator,
            name: "ops",
        };
        block_on(f.db.run(create(&new, now))).expect("creates");
        let caller = block_on(resolve(&f.db, "h-op", Origin::default()))
            .expect("reads")
            .expect("live");
        assert!(caller.is_operator());
    }
}
