//! The keys sign-in attempts are counted under (`store::throttle` counts them): the
//! SHA-256 of `id:<login id>` — lower-cased, whether or not the id exists, so a lockout
//! tells nothing about who exists — and of `ip:<address>` (many ids from one place).

use crate::secret::sha256_hex;

pub fn login_id_key(login_id: &str) -> String {
    sha256_hex(&format!("id:{}", login_id.trim().to_lowercase()))
}

pub fn address_key(ip: &str) -> String {
    sha256_hex(&format!("ip:{ip}"))
}
