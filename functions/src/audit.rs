//! The audit log: sign-ins (success and failure, with address and browser), changes of
//! password and second factor, account issuance and resets, and every use of an API
//! token. Entries are written in the same batch as the change they describe where there
//! is one (`store::audit::insert`); an entry on its own goes through `record`, whose
//! failure never turns a successful action into an error for the user. The operator reads
//! them at /admin/audit and `GET /api/v1/admin/audit`.

use chrono::{DateTime, Utc};
pub use store::audit::Entry;

/// Writes one entry on its own; a failure is logged, not raised.
pub async fn record(db: &store::Db, e: &Entry<'_>, now: DateTime<Utc>) {
    if let Err(err) = db.run(store::audit::insert(e, now)).await {
        worker::console_error!("audit {}: {err}", e.event.as_str());
    }
}
