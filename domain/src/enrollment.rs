//! Enrollment codes: what an operator hands to the person installing an appliance, and
//! the appliance sends once to obtain its token (api-v1). A code is single-use, expires
//! after 30 days, and is stored only as a hash. It is typed by people, so it uses an
//! alphabet without look-alikes (no 0/O, 1/I/L) and comes in groups of four.

use chrono::{DateTime, TimeDelta, Utc};

use crate::device::DeviceId;
use crate::fields::{BodyError, Obj, json_body};

/// How often an enrolled appliance reports (api-v1 `report_interval_s`).
pub const REPORT_INTERVAL_S: u32 = 60;

/// An appliance asking for its token (api-v1 `POST /api/v1/device/enroll`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enroll {
    pub device_id: DeviceId,
    pub code: String,
    pub model: Option<String>,
    pub firmware: Option<String>,
}

pub fn parse_enroll(body: &[u8]) -> Result<Enroll, BodyError> {
    let value = json_body(body)?;
    let obj = Obj::new("$", &value)?;
    Ok(Enroll {
        device_id: obj.parsed("device_id", DeviceId::parse_field)?,
        code: obj.text("enrollment_code", 64)?,
        model: obj.opt_label("model", 64)?,
        firmware: obj.opt_label("firmware", 64)?,
    })
}

/// How long a code stays valid (api-v1 default).
pub const VALIDITY: TimeDelta = TimeDelta::days(30);

/// Random bytes a code is made from, one per symbol.
pub const RANDOM_BYTES: usize = 20;

const ALPHABET: &[u8; 31] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// `XXXX-XXXX-XXXX-XXXX-XXXX` from 20 random bytes (the edge supplies them).
pub fn code_from_random(random: [u8; RANDOM_BYTES]) -> String {
    // A byte modulo 31 favours 8 of the symbols very slightly; 20 symbols still carry
    // about 99 bits, far beyond guessing within 30 days.
    let symbols: Vec<char> = random
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    symbols
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The form a code is compared in: upper case, without separators or spaces, so that
/// `abcd efgh…` typed by hand matches `ABCD-EFGH-…`.
pub fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub fn expires_at(issued_at: DateTime<Utc>) -> DateTime<Utc> {
    issued_at + VALIDITY
}

/// A device token: `mmd_` and 32 random bytes in lowercase hex. Only its hash is stored.
pub fn device_token(random: [u8; 32]) -> String {
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("mmd_{hex}")
}

/// Whether a bearer token has the shape of a device token; others are refused without a
/// lookup.
pub fn is_device_token(token: &str) -> bool {
    token.len() == 68
        && token.starts_with("mmd_")
        && token[4..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_device_token_has_the_shape_the_reports_endpoint_accepts() {
        let t = super::device_token([0xab; 32]);
        assert!(super::is_device_token(&t));
        assert!(!super::is_device_token(&t[..67]));
        assert!(!super::is_device_token("Bearer x"));
        assert!(!super::is_device_token(&t.replace("mmd_", "mmx_")));
    }

    use super::*;

    #[test]
    fn a_code_is_five_groups_of_four_unambiguous_symbols() {
        let code = code_from_random([7; RANDOM_BYTES]);
        assert_eq!(code.len(), 24);
        assert_eq!(code.split('-').count(), 5);
        let all: Vec<u8> = (0..=255).collect();
        for chunk in all.chunks(RANDOM_BYTES) {
            let mut random = [0u8; RANDOM_BYTES];
            random[..chunk.len()].copy_from_slice(chunk);
            let code = code_from_random(random);
            assert!(
                code.split('-')
                    .all(|g| g.len() == 4 && g.chars().all(|c| !"01OIL".contains(c))),
                "{code}"
            );
        }
    }

    #[test]
    fn different_random_bytes_give_different_codes() {
        let mut other = [7; RANDOM_BYTES];
        other[19] = 8;
        assert_ne!(code_from_random([7; RANDOM_BYTES]), code_from_random(other));
    }

    #[test]
    fn a_hand_typed_code_normalizes_to_the_issued_one() {
        assert_eq!(normalize("abcd efgh-JKMN"), normalize("ABCD-EFGH-JKMN"));
    }

    #[test]
    fn an_enroll_body_needs_the_device_id_and_the_code() {
        let e = parse_enroll(
            br#"{"device_id":"c025a28b0a41","enrollment_code":"ABCD-EFGH","model":"UTM-S100"}"#,
        )
        .unwrap();
        assert_eq!(
            (e.device_id.as_str(), e.code.as_str()),
            ("c025a28b0a41", "ABCD-EFGH")
        );
        assert_eq!(e.firmware, None);
        let missing = parse_enroll(br#"{"device_id":"c025a28b0a41"}"#);
        assert!(
            matches!(missing, Err(BodyError::InvalidField(f)) if f.path == "$.enrollment_code")
        );
    }

    #[test]
    fn a_code_expires_thirty_days_after_issue() {
        let t = DateTime::parse_from_rfc3339("2026-11-25T10:00:00+09:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(expires_at(t).to_rfc3339(), "2026-12-25T01:00:00+00:00");
    }
}
