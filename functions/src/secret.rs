//! Random values and the hashes under which secrets (enrollment codes, device tokens) are
//! stored: the database never holds a secret itself.

use sha2::{Digest, Sha256};

use crate::error::AppError;

/// `N` bytes from the platform's CSPRNG (`crypto.getRandomValues`).
pub fn random<const N: usize>() -> Result<[u8; N], AppError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| {
        worker::console_error!("random bytes: {e}");
        AppError::Unavailable { retry_after_s: 1 }
    })?;
    Ok(bytes)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}
