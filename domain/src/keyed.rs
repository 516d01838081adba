//! One-time codes at rest — recovery codes and SMS codes — are kept as a keyed digest:
//! HMAC-SHA256 under a key that lives outside the database (derived from `TOTP_SEAL_KEY`
//! with a label of its own, `code_key`), over the kind of code, its account and the code.
//! A copy of D1 alone then gives no way to test guesses: without the key, six digits or a
//! 40-bit recovery code cannot be found from its digest, and a digest fits only its own
//! account. Stored form: `k1.` + lower-case hex; digests of an earlier form never match.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Keeps the codes' key apart from every other use of the same secret.
const LABEL: &[u8] = b"mimamori one-time code digests v1";
const PREFIX: &str = "k1.";

/// The key of the code digests, derived from `secret` (`TOTP_SEAL_KEY`).
pub fn code_key(secret: &str) -> [u8; 32] {
    mac(secret.as_bytes(), &[LABEL])
}

/// Which kind of code a digest is of: a code of one kind never stands for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Recovery,
    Sms,
}

impl Kind {
    fn label(self) -> &'static [u8] {
        match self {
            Kind::Recovery => b"recovery",
            Kind::Sms => b"sms",
        }
    }
}

/// The stored form of `code` (normalized by the caller) of `kind` for `account`.
pub fn digest(key: &[u8; 32], kind: Kind, account: &str, code: &str) -> String {
    // Each part is followed by a NUL, which none of them contains, so no two different
    // (kind, account, code) give the same message.
    let tag = mac(
        key,
        &[
            kind.label(),
            b"\0",
            account.as_bytes(),
            b"\0",
            code.as_bytes(),
        ],
    );
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("{PREFIX}{hex}")
}

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes a key of any length.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    fn key(secret: &str) -> [u8; 32] {
        code_key(secret)
    }

    #[test]
    fn a_digest_is_not_the_plain_sha256_of_the_code() {
        let d = digest(&key("seal-key-0123456789"), Kind::Sms, "acc-1", "123456");
        let plain: String = Sha256::digest(b"123456")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(d.starts_with("k1."), "{d}");
        assert_eq!(d.len(), 3 + 64);
        assert!(!d.contains(&plain));
    }

    #[test]
    fn a_digest_depends_on_the_key_the_kind_and_the_account() {
        let k = key("seal-key-0123456789");
        let d = digest(&k, Kind::Recovery, "acc-1", "abcd2345efgh");
        assert_eq!(
            d,
            digest(&k, Kind::Recovery, "acc-1", "abcd2345efgh"),
            "stable"
        );
        let others = [
            digest(
                &key("another-seal-key-99"),
                Kind::Recovery,
                "acc-1",
                "abcd2345efgh",
            ),
            digest(&k, Kind::Sms, "acc-1", "abcd2345efgh"),
            digest(&k, Kind::Recovery, "acc-2", "abcd2345efgh"),
            digest(&k, Kind::Recovery, "acc-1", "abcd2345efgi"),
            // The parts cannot slide into each other.
            digest(&k, Kind::Recovery, "acc-1a", "bcd2345efgh"),
        ];
        for o in others {
            assert_ne!(o, d);
        }
    }
}
