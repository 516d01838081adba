//! A text message as the sink keeps it, and what a Twilio-shaped `POST …/Messages.json`
//! form must hold to become one: `To` in E.164 (a plus sign and 8 to 15 digits), a `From`
//! and a `Body` of at most 1600 characters. Each refusal carries Twilio's error code, so
//! the sender sees what it would see from Twilio. Other fields (`StatusCallback`, …) are
//! accepted and ignored, as Twilio takes them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Twilio's limit on `Body`, in characters.
pub const MAX_BODY_CHARS: usize = 1600;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `SM` and 32 hex digits, as Twilio's message SIDs.
    pub sid: String,
    pub received_at: DateTime<Utc>,
    pub account_sid: String,
    pub from: String,
    pub to: String,
    pub body: String,
    /// How many SMS parts the body would be sent as; see [`segments`].
    pub num_segments: usize,
}

impl Message {
    pub fn received(
        submission: Submission,
        sid: String,
        account_sid: String,
        received_at: DateTime<Utc>,
    ) -> Message {
        let Submission { to, from, body } = submission;
        Message {
            sid,
            received_at,
            account_sid,
            num_segments: segments(&body),
            from,
            to,
            body,
        }
    }

    /// Whether the message went to `number`, written exactly as the sender wrote it.
    pub fn is_to(&self, number: &str) -> bool {
        self.to == number.trim()
    }
}

/// A valid Messages form.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    to: String,
    from: String,
    body: String,
}

/// Why a form is not a valid submission, in words for the sender's developer.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum Invalid {
    #[error("a `To` phone number is required")]
    MissingTo,
    #[error("invalid `To` phone number {0:?}: use E.164, a plus sign and 8 to 15 digits")]
    ToNotE164(String),
    #[error("a `From` phone number is required")]
    MissingFrom,
    #[error("a message `Body` is required")]
    MissingBody,
    #[error("`Body` may have at most {MAX_BODY_CHARS} characters, got {0}")]
    BodyTooLong(usize),
}

impl Invalid {
    /// Twilio's error code for the same mistake.
    pub fn code(&self) -> u32 {
        match self {
            Invalid::MissingTo => 21604,
            Invalid::ToNotE164(_) => 21211,
            Invalid::MissingFrom => 21603,
            Invalid::MissingBody => 21602,
            Invalid::BodyTooLong(_) => 21617,
        }
    }
}

impl Submission {
    /// Checks the fields in Twilio's order; the first value of a repeated field counts.
    pub fn parse(fields: &[(String, String)]) -> Result<Submission, Invalid> {
        let field = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map_or("", |(_, v)| v.as_str())
        };
        let to = field("To");
        if to.trim().is_empty() {
            return Err(Invalid::MissingTo);
        }
        if !is_e164(to) {
            return Err(Invalid::ToNotE164(to.to_owned()));
        }
        let from = field("From");
        if from.trim().is_empty() {
            return Err(Invalid::MissingFrom);
        }
        let body = field("Body");
        if body.is_empty() {
            return Err(Invalid::MissingBody);
        }
        let chars = body.chars().count();
        if chars > MAX_BODY_CHARS {
            return Err(Invalid::BodyTooLong(chars));
        }
        Ok(Submission {
            to: to.to_owned(),
            from: from.to_owned(),
            body: body.to_owned(),
        })
    }
}

/// How many SMS parts carry `body`. A body of GSM 7-bit characters fits 160 of them in
/// one part, or 153 per part when split; anything else (Japanese, emoji) goes as UCS-2,
/// 70 UTF-16 units in one part or 67 per part. Ignores that a carrier never splits an
/// escaped character across parts, which can add a part in rare cases.
pub fn segments(body: &str) -> usize {
    let septets: Option<usize> = body
        .chars()
        .map(|c| {
            if GSM_BASIC.contains(c) {
                Some(1)
            } else if GSM_EXTENDED.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (units, single, per_part) = match septets {
        Some(septets) => (septets, 160, 153),
        None => (body.encode_utf16().count(), 70, 67),
    };
    if units <= single {
        1
    } else {
        units.div_ceil(per_part)
    }
}

/// The GSM 03.38 default alphabet: one septet each.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                         ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Its extension table: two septets each, an escape and the character.
const GSM_EXTENDED: &str = "\u{c}^{}\\[~]|€";

fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Vec<(String, String)> {
        [
            ("To", "+819012345678"),
            ("From", "+815000000000"),
            ("Body", "【見守り】認証コード: 123456"),
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .to_vec()
    }

    #[track_caller]
    fn check(change: impl FnOnce(&mut Vec<(String, String)>), expected: Result<(), Invalid>) {
        let mut fields = valid();
        change(&mut fields);
        assert_eq!(Submission::parse(&fields).map(drop), expected, "{fields:?}");
    }

    fn set(fields: &mut [(String, String)], name: &str, value: &str) {
        for (n, v) in fields.iter_mut() {
            if n == name {
                *v = value.to_owned();
            }
        }
    }

    fn remove(fields: &mut Vec<(String, String)>, name: &str) {
        fields.retain(|(n, _)| n != name);
    }

    #[test]
    fn a_complete_form_is_a_submission_and_unknown_fields_are_ignored() {
        check(|_| {}, Ok(()));
        check(
            |f| f.push(("StatusCallback".to_owned(), "https://x".to_owned())),
            Ok(()),
        );
    }

    #[test]
    fn a_form_without_to_from_or_body_is_refused_with_twilios_code() {
        check(|f| remove(f, "To"), Err(Invalid::MissingTo));
        check(|f| set(f, "To", " "), Err(Invalid::MissingTo));
        check(|f| remove(f, "From"), Err(Invalid::MissingFrom));
        check(|f| remove(f, "Body"), Err(Invalid::MissingBody));
        check(|f| set(f, "Body", ""), Err(Invalid::MissingBody));
        let codes: Vec<u32> = [
            Invalid::MissingTo,
            Invalid::ToNotE164(String::new()),
            Invalid::MissingFrom,
            Invalid::MissingBody,
        ]
        .iter()
        .map(Invalid::code)
        .collect();
        assert_eq!(codes, [21604, 21211, 21603, 21602]);
    }

    #[test]
    fn to_must_be_a_plus_sign_and_8_to_15_digits() {
        check(|f| set(f, "To", "+12345678"), Ok(()));
        check(|f| set(f, "To", "+123456789012345"), Ok(()));
        for bad in [
            "09012345678",
            "+1234567",
            "+1234567890123456",
            "+81 90 1234 5678",
            "+81-90-1234-5678",
            "++819012345678",
        ] {
            check(
                |f| set(f, "To", bad),
                Err(Invalid::ToNotE164(bad.to_owned())),
            );
        }
    }

    #[test]
    fn a_body_over_1600_characters_is_refused() {
        let limit = "あ".repeat(MAX_BODY_CHARS);
        check(|f| set(f, "Body", &limit), Ok(()));
        let over = "あ".repeat(MAX_BODY_CHARS + 1);
        check(|f| set(f, "Body", &over), Err(Invalid::BodyTooLong(1601)));
        assert_eq!(Invalid::BodyTooLong(1601).code(), 21617);
    }

    #[test]
    fn the_first_of_repeated_fields_counts() {
        let mut fields = valid();
        fields.push(("To".to_owned(), "+10000000000".to_owned()));
        let message = Message::received(
            Submission::parse(&fields).unwrap(),
            "SM1".to_owned(),
            "AC1".to_owned(),
            Utc::now(),
        );
        assert!(message.is_to("+819012345678"));
        assert!(!message.is_to("+10000000000"));
        assert_eq!(message.num_segments, 1);
    }

    #[track_caller]
    fn check_segments(body: &str, expected: usize) {
        assert_eq!(segments(body), expected, "{} chars", body.chars().count());
    }

    #[test]
    fn gsm_text_fits_160_in_one_part_and_153_per_part_when_split() {
        check_segments("Your code is 123456", 1);
        check_segments(&"a".repeat(160), 1);
        check_segments(&"a".repeat(161), 2);
        check_segments(&"a".repeat(306), 2);
        check_segments(&"a".repeat(307), 3);
        // `€` takes an escape and a septet.
        check_segments(&"€".repeat(80), 1);
        check_segments(&"€".repeat(81), 2);
    }

    #[test]
    fn japanese_text_fits_70_in_one_part_and_67_per_part_when_split() {
        check_segments("【見守り】認証コード: 123456（10分間有効）", 1);
        check_segments(&"あ".repeat(70), 1);
        check_segments(&"あ".repeat(71), 2);
        check_segments(&"あ".repeat(134), 2);
        check_segments(&"あ".repeat(135), 3);
        // An emoji is two UTF-16 units.
        check_segments(&"😀".repeat(35), 1);
        check_segments(&"😀".repeat(36), 2);
    }
}
