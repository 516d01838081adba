//! Enabling a second factor: the change of the account, fresh recovery codes (only their
//! keyed digests kept, `domain::keyed`; the new session holds them sealed until it shows
//! them once), the end of the account's other sessions and the audit entries, in one
//! batch. At the first sign-in, choosing the
//! factor completes the sign-in, and is recorded like a sign-in with a code.

use app::tenant::Caller;
use chrono::{DateTime, Utc};
use domain::access::Stage;
use domain::keyed::Kind;
use domain::onetime;
use domain::signin::{AuditEvent, FormError};
use store::Query;
use store::audit::insert;
use worker::Env;

use super::{Answer, back, full_session, go};
use crate::audit::Entry;
use crate::error::AppError;
use crate::secret::random;
use crate::session::{self, Origin};

/// The entry that records a first sign-in completed by choosing a second factor; none
/// for a signed-in user changing theirs.
pub(super) fn completed(caller: &Caller, origin: &Origin, now: DateTime<Utc>) -> Option<Query> {
    (caller.stage == Stage::Choose).then(|| {
        let entry = Entry {
            detail: Some("2段階認証の方法を選択して完了".into()),
            ..Entry::by(caller, origin, AuditEvent::SigninSuccess)
        };
        insert(&entry, now)
    })
}

/// Enables a second factor (`update`, which changes one row unless the set-up went stale
/// meanwhile), makes fresh recovery codes, ends the account's other sessions and
/// continues in a new full session that shows the codes once.
pub(super) async fn enable(
    env: &Env,
    db: &store::Db,
    caller: &Caller,
    origin: &Origin,
    update: Query,
    event: AuditEvent,
    now: DateTime<Utc>,
) -> Result<Answer, AppError> {
    let mut codes = Vec::with_capacity(onetime::RECOVERY_CODES);
    for _ in 0..onetime::RECOVERY_CODES {
        codes.push(onetime::recovery_code(random::<8>()?));
    }
    let seal_key = &crate::config::get(env).totp_seal_key;
    let digest = |code: &String| {
        let normal = onetime::normalize_recovery(code).unwrap_or_else(|| code.clone());
        app::sealing::code_digest(seal_key, Kind::Recovery, &caller.account_id, &normal)
    };
    let hashes: Vec<String> = codes
        .iter()
        .map(digest)
        .collect::<Option<_>>()
        .ok_or(AppError::Unavailable { retry_after_s: 60 })?;
    let mut batch = vec![update];
    batch.extend(store::recovery::replace(&caller.account_id, &hashes));
    batch.push(store::sessions::revoke_others(
        &caller.account_id,
        &caller.session,
        now,
    ));
    batch.push(insert(&Entry::by(caller, origin, event), now));
    batch.extend(completed(caller, origin, now));
    let changed = db.batch(batch).await?;
    if changed.first().copied().unwrap_or(0) == 0 {
        return Ok(back("/setup/2fa", FormError::Choose));
    }
    // The codes are shown once, on the next page, by the new session.
    let reveal = serde_json::to_string(&codes).unwrap_or_default();
    let reveal = app::sealing::seal_reveal(seal_key, &caller.account_id, &reveal)
        .ok_or(AppError::Unavailable { retry_after_s: 60 })?;
    let new = session::New {
        reveal: Some(&reveal),
        ..full_session(caller, origin)
    };
    go(env, db, new, "/setup/recovery", now).await
}
