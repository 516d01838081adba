//! Authenticator (TOTP) seeds are stored sealed (`domain::sealed`) under a key derived from
//! the `TOTP_SEAL_KEY` secret, which lives outside the database: a copy of D1 alone
//! yields no seeds. Without the secret no authenticator can be set up or checked.

use domain::config::{Secret, TOTP_SEAL_KEY_MIN};
use domain::{sealed, totp};
use sha2::{Digest, Sha256};

fn key(seal_key: &Secret) -> Option<[u8; 32]> {
    let Some(secret) = seal_key.at_least(TOTP_SEAL_KEY_MIN) else {
        worker::console_error!("TOTP_SEAL_KEY is missing or shorter than 16 characters");
        return None;
    };
    Some(Sha256::digest(secret.as_bytes()).into())
}

/// The stored form of `secret` for `account`; `None` without a key or randomness.
pub fn seal_totp(seal_key: &Secret, account: &str, secret: &totp::Secret) -> Option<String> {
    let key = key(seal_key)?;
    let mut nonce = [0u8; sealed::NONCE_BYTES];
    getrandom::fill(&mut nonce).ok()?;
    Some(sealed::seal(&key, nonce, account, &secret.to_base32()))
}

/// The seed stored for `account`; `None` if it does not open.
pub fn open_totp(seal_key: &Secret, account: &str, stored: &str) -> Option<totp::Secret> {
    let key = key(seal_key)?;
    totp::Secret::from_base32(&sealed::open(&key, account, stored)?)
}
