//! Secrets the server must read back (the TOTP seeds of authenticator apps) are stored
//! sealed: AES-256-GCM under a key that lives outside the database (`TOTP_SEAL_KEY`),
//! with the owner's id as associated data, so a copied row neither reads nor moves to
//! another account. The caller supplies the nonce (12 random bytes) — this crate has no
//! randomness.
//!
//! Stored form: `v1.` + base64url(nonce ‖ ciphertext ‖ tag).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const NONCE_BYTES: usize = 12;
const PREFIX: &str = "v1.";

/// Seals `plaintext` for `owner`.
pub fn seal(key: &[u8; 32], nonce: [u8; NONCE_BYTES], owner: &str, plaintext: &str) -> String {
    let cipher = Aes256Gcm::new(&(*key).into());
    let payload = Payload {
        msg: plaintext.as_bytes(),
        aad: owner.as_bytes(),
    };
    // Encryption fails only for inputs of gigabytes.
    let sealed = cipher
        .encrypt(&Nonce::from(nonce), payload)
        .unwrap_or_default();
    let mut bytes = nonce.to_vec();
    bytes.extend_from_slice(&sealed);
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Opens what `seal` made for `owner` under `key`; `None` if anything does not match.
pub fn open(key: &[u8; 32], owner: &str, sealed: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
    if bytes.len() < NONCE_BYTES + 16 {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
    let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
    let cipher = Aes256Gcm::new(&(*key).into());
    let payload = Payload {
        msg: ciphertext,
        aad: owner.as_bytes(),
    };
    let plain = cipher.decrypt(&Nonce::from(nonce), payload).ok()?;
    String::from_utf8(plain).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const NONCE: [u8; 12] = [1; 12];

    #[test]
    fn what_is_sealed_opens_for_its_owner_only() {
        let s = seal(&KEY, NONCE, "acc_1", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert!(s.starts_with("v1."));
        assert!(!s.contains("GEZDGNBV"), "the secret does not show");
        assert_eq!(
            open(&KEY, "acc_1", &s).as_deref(),
            Some("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        );
        assert_eq!(open(&KEY, "acc_2", &s), None, "moved to another account");
        assert_eq!(open(&[8; 32], "acc_1", &s), None, "another key");
    }

    #[test]
    fn tampered_or_foreign_values_do_not_open() {
        let s = seal(&KEY, NONCE, "acc_1", "secret");
        let mut tampered = s.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            open(&KEY, "acc_1", &String::from_utf8(tampered).unwrap()),
            None
        );
        for junk in ["", "v1.", "v1.!!!", "GEZDGNBVGY3TQOJQ", "v2.AAAA"] {
            assert_eq!(open(&KEY, "acc_1", junk), None, "{junk}");
        }
    }

    #[test]
    fn each_nonce_gives_a_different_value() {
        assert_ne!(seal(&KEY, [1; 12], "a", "x"), seal(&KEY, [2; 12], "a", "x"));
    }
}
