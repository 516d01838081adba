//! The edges' fixed-window limits (`domain::window`, counted in `store::rates`), each a
//! 429 `rate_limited` with `Retry-After` when over:
//! - enrollment attempts per device id and per address, counted before the code is looked
//!   at, so a right and a wrong code get the same answer once a window is full;
//! - operator and reseller API requests per token (`auth::api_caller`);
//! - accounts issued per token, tighter, since each one mails an address.
//!
//! Addresses are kept hashed, as the sign-in throttle keys them (`throttle::address_key`).

use chrono::{DateTime, Utc};
use domain::device::DeviceId;
use domain::window::Window;
use store::Db;

use crate::error::AppError;

async fn take(db: &Db, key: &str, window: Window, now: DateTime<Utc>) -> Result<(), AppError> {
    store::rates::take(db, key, window, now)
        .await?
        .map_err(|retry_after_s| AppError::RateLimited { retry_after_s })
}

/// One enrollment attempt for `device` from `address` (when known).
pub async fn enroll(
    db: &Db,
    windows: &domain::config::Rates,
    device: &DeviceId,
    address: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let by_device = take(
        db,
        &format!("enroll:device:{}", device.as_str()),
        windows.enroll_device,
        now,
    )
    .await;
    if let Some(address) = address {
        let key = format!("enroll:{}", crate::throttle::address_key(address));
        take(db, &key, windows.enroll_address, now).await?;
    }
    by_device
}

/// One use of the API token `token_id` under `window`; `what` names the limit
/// (`api`: every request; `accounts`: accounts issued).
pub async fn per_token(
    db: &Db,
    window: Window,
    what: &str,
    token_id: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    take(db, &format!("{what}:{token_id}"), window, now).await
}
