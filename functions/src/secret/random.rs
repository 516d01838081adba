//! Random bytes from the platform's CSPRNG (`crypto.getRandomValues`); a failure is an
//! outage of the platform, answered 503.

use crate::error::AppError;

/// `N` bytes of randomness.
pub fn random<const N: usize>() -> Result<[u8; N], AppError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| {
        worker::console_error!("random bytes: {e}");
        AppError::Unavailable { retry_after_s: 1 }
    })?;
    Ok(bytes)
}
