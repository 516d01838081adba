//! Two-step verification with an authenticator app (RFC 6238 TOTP) in the only flavour
//! every app honours: HMAC-SHA-1, six digits, a new code every thirty seconds. The secret
//! is the caller's random bytes, stored as base32 and shown as a QR code or a key to type.
//! A code is accepted one step early or late for clock skew, and never for a step at or
//! before the last one accepted, so an overheard code cannot be used again.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use totp_rs::{Algorithm, Builder, Totp};

/// 160 bits, the length RFC 4226 recommends and Google Authenticator expects.
pub const SECRET_BYTES: usize = 20;
/// Seconds each code is current for.
pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: usize = 6;

/// A seed shown as a QR code may be confirmed for this long after it was made…
pub const PENDING_TTL: chrono::TimeDelta = chrono::TimeDelta::minutes(15);
/// …and reloading the page within this time shows the same seed (not a new one the
/// user's app has never seen). Shorter than `PENDING_TTL`, so a shown seed can always
/// still be confirmed.
pub const PENDING_REUSE: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// Whether a pending seed made at `made` may still be confirmed at `now` (`PENDING_TTL`).
pub fn pending_confirmable(made: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - made < PENDING_TTL
}

/// Whether reloading the setup page at `now` shows the pending seed made at `made` again
/// rather than a new one (`PENDING_REUSE`).
pub fn pending_reusable(made: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - made < PENDING_REUSE
}

/// RFC 4648 base32, the encoding of otpauth URIs and of keys typed into apps.
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The secret shared with the user's authenticator app.
#[derive(Clone)]
pub struct Secret([u8; SECRET_BYTES]);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl Secret {
    /// A secret made of the caller's random bytes (from a CSPRNG).
    pub fn new(random: [u8; SECRET_BYTES]) -> Secret {
        Secret(random)
    }

    /// The 32-character form the database stores and the otpauth URI carries. Twenty
    /// bytes are exactly 32 five-bit groups, so there is no padding.
    pub fn to_base32(&self) -> String {
        let mut out = String::with_capacity(32);
        for chunk in self.0.chunks(5) {
            let bits = chunk.iter().fold(0u64, |bits, b| bits << 8 | u64::from(*b));
            for shift in (0..8).rev() {
                out.push(char::from(BASE32[(bits >> (shift * 5) & 31) as usize]));
            }
        }
        out
    }

    /// Reads [`Secret::to_base32`] (or [`Secret::manual_key`]) back: case and spaces are
    /// ignored; anything that is not 32 base32 characters is refused.
    pub fn from_base32(text: &str) -> Option<Secret> {
        let chars: Vec<u8> = text
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .map(|b| b.to_ascii_uppercase())
            .collect();
        if chars.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; SECRET_BYTES];
        for (group, out) in chars.chunks(8).zip(bytes.chunks_mut(5)) {
            let mut bits = 0u64;
            for c in group {
                bits = bits << 5 | BASE32.iter().position(|a| a == c)? as u64;
            }
            for (i, byte) in out.iter_mut().enumerate() {
                *byte = (bits >> (32 - 8 * i)) as u8;
            }
        }
        Some(Secret(bytes))
    }

    /// The key for typing into an app by hand, in blocks of four: `GEZD GNBV …`.
    pub fn manual_key(&self) -> String {
        crate::onetime::grouped(&self.to_base32(), " ")
    }

    fn totp(&self) -> Totp {
        // Skew 0: `verify` walks the window itself, to skip steps already used. The
        // parameters are constants that `build` accepts (tested), so the unchecked
        // constructor cannot make an invalid Totp.
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS as u8)
            .with_skew(0)
            .with_step_duration(STEP_SECONDS as u64)
            .with_secret(self.0)
            .build_noncompliant()
    }
}

/// The Key URI that authenticator apps read from the QR code
/// (`otpauth://totp/<issuer>:<label>?secret=…`). Issuer and label are percent-encoded as
/// UTF-8, a colon included, so neither can break the `issuer:label` split.
pub fn otpauth_uri(secret: &Secret, account_label: &str, issuer: &str) -> String {
    // RFC 3986 unreserved characters stay as they are; `@` too, as it is legal in both a
    // path and a query and Google's own examples leave e-mail labels readable.
    let encode = |text: &str| {
        let mut out = String::new();
        for b in text.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
                out.push(char::from(b));
            } else {
                let _ = write!(out, "%{b:02X}");
            }
        }
        out
    };
    let issuer = encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{label}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        label = encode(account_label),
        secret = secret.to_base32(),
    )
}

/// `uri` as a QR code in a standalone SVG document: black modules on white, medium error
/// correction, the quiet zone, at least 200 px wide. It draws with `fill` attributes only
/// (no `style`, no script), so it passes a CSP without `'unsafe-inline'`. `None` when the
/// text does not fit in a QR code (over 2,000-odd bytes; an otpauth URI is about 150).
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(uri, EcLevel::M).ok()?;
    Some(
        code.render()
            .quiet_zone(true)
            .min_dimensions(200, 200)
            .dark_color(svg::Color("#000"))
            .light_color(svg::Color("#fff"))
            .build(),
    )
}

/// The six-digit code current at `unix_s` (times before 1970 count as 1970).
pub fn code_at(secret: &Secret, unix_s: i64) -> String {
    secret
        .totp()
        .generate(u64::try_from(unix_s).unwrap_or(0))
        .to_string()
}

/// Checks a code as the user typed it (spaces and full-width digits allowed) at
/// `unix_s`, against the current step and one either side, skipping every step up to
/// `last_used_step`. Returns the step that matched, for the caller to store as the new
/// `last_used_step`; the comparison itself is constant-time.
pub fn verify(
    secret: &Secret,
    code_input: &str,
    unix_s: i64,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let code = crate::onetime::normalize_code(code_input)?;
    let totp = secret.totp();
    let now = unix_s.div_euclid(STEP_SECONDS);
    // The current step first: on a (one in a million) collision with a neighbour, the
    // step stored is the one the user most likely read.
    [now, now - 1, now + 1]
        .into_iter()
        .filter(|step| last_used_step.is_none_or(|last| *step > last))
        .find(|step| {
            u64::try_from(*step)
                .is_ok_and(|step| totp.check(&code, step * STEP_SECONDS as u64).is_some())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The secret of RFC 6238 Appendix B (SHA-1).
    fn rfc_secret() -> Secret {
        Secret::new(*b"12345678901234567890")
    }

    #[track_caller]
    fn check(unix_s: i64, eight_digits: &str) {
        assert_eq!(code_at(&rfc_secret(), unix_s), eight_digits[2..]);
    }

    #[test]
    fn a_pending_seed_is_shown_again_for_ten_minutes_and_confirmable_for_fifteen() {
        let made = DateTime::from_timestamp_millis(1_800_000_000_000).unwrap();
        let at = |ms: i64| made + chrono::TimeDelta::milliseconds(ms);
        assert!(pending_reusable(made, made));
        assert!(pending_reusable(made, at(10 * 60_000 - 1)));
        assert!(!pending_reusable(made, at(10 * 60_000)));
        assert!(pending_confirmable(made, at(10 * 60_000)));
        assert!(pending_confirmable(made, at(15 * 60_000 - 1)));
        assert!(!pending_confirmable(made, at(15 * 60_000)));
        // A seed that could be shown again can always still be confirmed.
        for ms in [0, 1, 9 * 60_000, 10 * 60_000 - 1, 10 * 60_000, 20 * 60_000] {
            assert!(!pending_reusable(made, at(ms)) || pending_confirmable(made, at(ms)));
        }
    }

    #[test]
    fn codes_are_the_last_six_digits_of_the_rfc_6238_sha1_vectors() {
        check(59, "94287082");
        check(1_111_111_109, "07081804");
        check(1_111_111_111, "14050471");
        check(1_234_567_890, "89005924");
        check(2_000_000_000, "69279037");
        check(20_000_000_000, "65353130");
    }

    #[test]
    fn codes_match_oathtool() {
        // `oathtool --totp --base32 -N @1800000000 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ`
        let secret = rfc_secret();
        assert_eq!(code_at(&secret, 1_800_000_000), "768147");
        assert_eq!(code_at(&secret, 1_700_000_015), "732303");
    }

    #[test]
    fn the_parameters_are_ones_totp_rs_accepts_as_rfc_compliant() {
        let built = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS as u8)
            .with_skew(0)
            .with_step_duration(STEP_SECONDS as u64)
            .with_secret([0u8; SECRET_BYTES])
            .build();
        assert!(built.is_ok());
    }

    #[test]
    fn a_code_is_accepted_one_step_early_or_late_but_not_two() {
        let secret = rfc_secret();
        // 1_111_111_111 is step 37_037_037, 21 s into it.
        let t = 1_111_111_111;
        let step = 37_037_037;
        let code = code_at(&secret, t);
        assert_eq!(verify(&secret, &code, t, None), Some(step));
        assert_eq!(verify(&secret, &code, t - 21, None), Some(step));
        assert_eq!(verify(&secret, &code, t + 8, None), Some(step));
        assert_eq!(verify(&secret, &code, t - 30, None), Some(step));
        assert_eq!(verify(&secret, &code, t + 30, None), Some(step));
        assert_eq!(verify(&secret, &code, t - 60, None), None);
        assert_eq!(verify(&secret, &code, t + 60, None), None);
    }

    #[test]
    fn a_step_at_or_before_the_last_used_one_is_refused() {
        let secret = rfc_secret();
        let t = 1_111_111_111;
        let step = 37_037_037;
        let code = code_at(&secret, t);
        assert_eq!(verify(&secret, &code, t, Some(step - 1)), Some(step));
        assert_eq!(verify(&secret, &code, t, Some(step)), None);
        assert_eq!(verify(&secret, &code, t + 30, Some(step)), None);
        assert_eq!(verify(&secret, &code, t, Some(step + 1)), None);
        let next = code_at(&secret, t + 30);
        assert_eq!(verify(&secret, &next, t + 30, Some(step)), Some(step + 1));
    }

    #[test]
    fn spaces_and_full_width_digits_are_ignored_but_anything_else_refuses_the_code() {
        let secret = rfc_secret();
        let t = 1_111_111_111; // code 050471
        for typed in [
            "050471",
            "050 471",
            " 050471 ",
            "０５０４７１",
            "０５０　４７１",
        ] {
            assert!(verify(&secret, typed, t, None).is_some(), "{typed:?}");
        }
        for typed in [
            "",
            "50471",
            "0504711",
            "050-471",
            "+50471",
            "05047a",
            "05047１x",
        ] {
            assert_eq!(verify(&secret, typed, t, None), None, "{typed:?}");
        }
    }

    #[test]
    fn a_time_before_1970_matches_nothing_and_does_not_panic() {
        let secret = rfc_secret();
        assert_eq!(verify(&secret, &code_at(&secret, 0), -90, None), None);
        assert!(verify(&secret, &code_at(&secret, 0), -1, None).is_some());
        assert_eq!(verify(&secret, "000000", i64::MIN, None), None);
        assert_eq!(verify(&secret, "000000", i64::MAX, Some(i64::MAX)), None);
    }

    #[test]
    fn the_secret_is_rfc_4648_base32_without_padding() {
        let secret = rfc_secret();
        assert_eq!(secret.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            secret.manual_key(),
            "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"
        );
        let read = |text: &str| Secret::from_base32(text).map(|s| s.to_base32());
        assert_eq!(
            read("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            Some(secret.to_base32())
        );
        assert_eq!(
            read("gezd gnbv gy3t qojq gezd gnbv gy3t qojq"),
            Some(secret.to_base32())
        );
        assert_eq!(read("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ"), None);
        assert_eq!(read("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQA"), None);
        assert_eq!(read("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1"), None);
        assert_eq!(read("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ="), None);
        assert_eq!(read("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJé"), None);
    }

    #[test]
    fn debug_output_hides_the_secret() {
        assert_eq!(format!("{:?}", rfc_secret()), "Secret([redacted])");
    }

    #[test]
    fn the_otpauth_uri_percent_encodes_the_japanese_issuer() {
        assert_eq!(
            otpauth_uri(&rfc_secret(), "yamada.taro", "見守り"),
            "otpauth://totp/%E8%A6%8B%E5%AE%88%E3%82%8A:yamada.taro\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=%E8%A6%8B%E5%AE%88%E3%82%8A\
             &algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn the_otpauth_uri_escapes_separators_in_the_label() {
        assert_eq!(
            otpauth_uri(&rfc_secret(), "a:b&c=d e/f?g#h@i", "X Co"),
            "otpauth://totp/X%20Co:a%3Ab%26c%3Dd%20e%2Ff%3Fg%23h@i\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=X%20Co\
             &algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn the_qr_code_is_a_standalone_svg_without_styles_or_scripts() {
        let svg = qr_svg(&otpauth_uri(&rfc_secret(), "yamada.taro", "見守り")).unwrap();
        assert!(svg.starts_with("<?xml"), "{svg}");
        assert!(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(r##"fill="#000""##) && svg.contains(r##"fill="#fff""##));
        let lower = svg.to_lowercase();
        assert!(!lower.contains("style") && !lower.contains("script"));
        let width: u32 = svg
            .split(" width=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|w| w.parse().ok())
            .unwrap();
        assert!((200..400).contains(&width), "{width}");
    }

    #[test]
    fn text_too_long_for_a_qr_code_gives_none() {
        assert_eq!(qr_svg(&"x".repeat(5_000)), None);
    }

    proptest! {
        #[test]
        fn base32_round_trips(bytes in any::<[u8; SECRET_BYTES]>()) {
            let secret = Secret::new(bytes);
            let back = Secret::from_base32(&secret.to_base32()).unwrap();
            prop_assert_eq!(back.0, bytes);
            prop_assert_eq!(Secret::from_base32(&secret.manual_key()).unwrap().0, bytes);
        }

        #[test]
        fn the_current_code_is_accepted_and_its_step_returned(
            bytes in any::<[u8; SECRET_BYTES]>(),
            unix_s in 0i64..100_000_000_000,
        ) {
            let secret = Secret::new(bytes);
            let code = code_at(&secret, unix_s);
            prop_assert_eq!(code.len(), DIGITS);
            prop_assert!(code.bytes().all(|b| b.is_ascii_digit()));
            let step = verify(&secret, &code, unix_s, None).unwrap();
            // Another step only on a collision of codes, and then a neighbouring one.
            prop_assert!((step - unix_s / STEP_SECONDS).abs() <= 1);
            prop_assert_eq!(code_at(&secret, step * STEP_SECONDS), code);
        }

        #[test]
        fn a_code_is_refused_two_steps_away(
            bytes in any::<[u8; SECRET_BYTES]>(),
            step in 2i64..3_000_000_000,
            later in any::<bool>(),
        ) {
            let secret = Secret::new(bytes);
            let code = code_at(&secret, step * STEP_SECONDS);
            let at = if later { step + 2 } else { step - 2 };
            // Two steps' codes coincide once in a million: those cases say nothing.
            prop_assume!((at - 1..=at + 1).all(|s| code_at(&secret, s * STEP_SECONDS) != code));
            prop_assert_eq!(verify(&secret, &code, at * STEP_SECONDS, None), None);
            prop_assert_eq!(verify(&secret, &code, at * STEP_SECONDS + 29, None), None);
        }
    }
}
