//! The audit log: sign-ins (success and failure, with address and browser), changes of
//! password and second factor, account issuance and resets, and every use of an API
//! token. Entries are written in the same batch as the change they describe where there
//! is one. The operator reads them at /admin/audit and `GET /api/v1/admin/audit`.

use chrono::{DateTime, Utc};
pub use store::audit::Entry;
use worker::{D1Database, D1PreparedStatement};

pub fn statement(
    db: &D1Database,
    e: &Entry,
    now: DateTime<Utc>,
) -> worker::Result<D1PreparedStatement> {
    crate::d1::statement(db, &store::audit::insert(e, now))
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
