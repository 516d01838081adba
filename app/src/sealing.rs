//! Authenticator (TOTP) seeds are stored sealed (`domain::sealed`) under a key derived from
//! the `TOTP_SEAL_KEY` secret, which lives outside the database: a copy of D1 alone
//! yields no seeds. Without the secret no authenticator can be set up or checked. The
//! same secret keys the digests of recovery and SMS codes (`domain::keyed`) and seals the
//! recovery codes a new session waits to show once.

use domain::config::{Secret, TOTP_SEAL_KEY_MIN};
use domain::keyed::{self, Kind};
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

/// The stored digest of the one-time `code` of `kind` for `account` (`domain::keyed`);
/// `None` without a key.
pub fn code_digest(seal_key: &Secret, kind: Kind, account: &str, code: &str) -> Option<String> {
    let Some(secret) = seal_key.at_least(TOTP_SEAL_KEY_MIN) else {
        worker::console_error!("TOTP_SEAL_KEY is missing or shorter than 16 characters");
        return None;
    };
    Some(keyed::digest(&keyed::code_key(secret), kind, account, code))
}

/// The owner a reveal is sealed for: never a TOTP seed's (the account id alone).
fn reveal_owner(account: &str) -> String {
    format!("reveal:{account}")
}

/// Recovery codes (as JSON) sealed for `account` until their one page view.
pub fn seal_reveal(seal_key: &Secret, account: &str, codes: &str) -> Option<String> {
    let key = key(seal_key)?;
    let mut nonce = [0u8; sealed::NONCE_BYTES];
    getrandom::fill(&mut nonce).ok()?;
    Some(sealed::seal(&key, nonce, &reveal_owner(account), codes))
}

/// The recovery codes `seal_reveal` sealed for `account`; `None` if they do not open.
pub fn open_reveal(seal_key: &Secret, account: &str, stored: &str) -> Option<String> {
    sealed::open(&key(seal_key)?, &reveal_owner(account), stored)
}
