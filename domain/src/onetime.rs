//! The other one-time secrets of signing in, and how people type them: SMS codes and the
//! mobile numbers they go to, recovery codes, and the temporary login id and password a new
//! account starts with. Randomness comes in as bytes from the caller. Whatever a person
//! types is read leniently (full-width characters, spaces, the dashes a Japanese IME
//! produces) into one canonical form; whatever we generate avoids characters that are
//! easily misread (0/o, 1/l/i).

use chrono::TimeDelta;

/// How long an SMS code may be used.
pub const SMS_CODE_TTL: TimeDelta = TimeDelta::minutes(5);
/// Wrong tries after which an SMS code is void.
pub const SMS_MAX_ATTEMPTS: u32 = 5;
/// The least time between two SMS to the same number.
pub const SMS_RESEND_INTERVAL: TimeDelta = TimeDelta::seconds(60);
/// The window the hourly caps on SMS codes count in (`SMS_PER_NUMBER_PER_HOUR`,
/// `SMS_PER_HOUR`): paid texts to any number are what an attacker pumps.
pub const SMS_CAP_WINDOW: TimeDelta = TimeDelta::hours(1);
/// Recovery codes issued at a time.
pub const RECOVERY_CODES: usize = 10;
/// How long a new account's temporary login id and password work.
pub const TEMP_CREDENTIALS_TTL: TimeDelta = TimeDelta::days(7);

/// Digits and lowercase letters without 0, 1, i, l, o: 31 symbols.
const ALPHABET: &[u8; 31] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// A six-digit SMS code. 2^32 is not a multiple of 10^6, so codes below 967296 are
/// drawn 4295 times in 2^32 and the others 4294: a lean of 0.02 % that gains an attacker
/// nothing within `SMS_MAX_ATTEMPTS`, and not worth asking the caller for more bytes.
pub fn sms_code(random: [u8; 4]) -> String {
    format!("{:06}", u32::from_be_bytes(random) % 1_000_000)
}

/// The SMS that carries `code`: under 70 characters, so one UCS-2 message.
pub fn sms_body(code: &str) -> String {
    format!(
        "見守り 認証コード: {code}（{}分間有効）。このコードを他人に教えないでください。",
        SMS_CODE_TTL.num_minutes()
    )
}

/// A six-digit code (SMS or authenticator app) as typed: spaces are dropped and
/// full-width digits read as digits; anything else makes it no code at all.
pub fn normalize_code(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .map(half_width)
        .filter(|c| !c.is_whitespace())
        .collect();
    (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// A mobile number as a Japanese user types it (`090-1234-5678`, `09012345678`,
/// `+81 90 1234 5678`, full-width digits) in E.164 (`+819012345678`). Domestic numbers
/// must be mobile ones (070, 080, 090); a number starting with `+` may be any E.164
/// number of 8 to 15 digits. The error is the message for the form.
pub fn parse_phone(input: &str) -> Result<String, &'static str> {
    let typed: String = input
        .chars()
        .map(half_width)
        .filter(|c| !is_separator(*c) && !matches!(c, '(' | ')'))
        .collect();
    if typed.is_empty() {
        return Err("携帯電話番号を入力してください");
    }
    let (international, digits) = match typed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, typed.as_str()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("携帯電話番号は数字で入力してください");
    }
    let national = match (international, digits.strip_prefix("81")) {
        // `+81 090 …`, keeping the trunk 0, is a common way of writing it.
        (true, Some(rest)) => rest.strip_prefix('0').unwrap_or(rest),
        (true, None) => {
            if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
                return Err("携帯電話番号の形式が正しくありません");
            }
            return Ok(format!("+{digits}"));
        }
        (false, _) => digits
            .strip_prefix('0')
            .ok_or("携帯電話番号の形式が正しくありません")?,
    };
    if !["70", "80", "90"].iter().any(|p| national.starts_with(p)) {
        return Err("070・080・090で始まる携帯電話番号を入力してください");
    }
    if national.len() != 10 {
        return Err("携帯電話番号の桁数が正しくありません");
    }
    Ok(format!("+81{national}"))
}

/// Whether codes may be sent to `e164` (from [`parse_phone`]): it begins with one of
/// `prefixes` (`SMS_ALLOWED_PREFIXES`; by default Japanese mobiles, +8170/+8180/+8190,
/// which `parse_phone` has already held to eight digits more).
pub fn phone_allowed(e164: &str, prefixes: &[String]) -> bool {
    prefixes.iter().any(|p| e164.starts_with(p.as_str()))
}

/// A number from [`parse_phone`] for display with the middle hidden: Japanese mobiles as
/// they are written at home (`090-****-5678`), others as `+1*****2671`.
pub fn mask_phone(e164: &str) -> String {
    if let Some(national) = e164.strip_prefix("+81")
        && national.len() == 10
        && national.bytes().all(|b| b.is_ascii_digit())
    {
        return format!("0{}-****-{}", &national[..2], &national[6..]);
    }
    let n = e164.chars().count();
    if n < 8 {
        return "*".repeat(n);
    }
    e164.chars()
        .enumerate()
        .map(|(i, c)| if i < 3 || i >= n - 4 { c } else { '*' })
        .collect()
}

/// A recovery code like `k7fq-2m9x`: eight symbols, 31^8 ≈ 2^39.6 possibilities. Taking
/// a 64-bit number modulo 31^8 leans by at most 1 in 2·10^7.
pub fn recovery_code(random: [u8; 8]) -> String {
    grouped(&symbols(u128::from(u64::from_be_bytes(random)), 8), "-")
}

/// A recovery code as typed, in the form [`recovery_code`] made it (`k7fq-2m9x`), for
/// hashing and comparing: case, spaces, dashes and full-width characters do not matter.
pub fn normalize_recovery(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .map(half_width)
        .filter(|c| !is_separator(*c))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == 8 && code.bytes().all(|b| ALPHABET.contains(&b))).then(|| grouped(&code, "-"))
}

/// A temporary login id like `tmp-k7fq2m9x`, which [`crate::account::login_id_syntax_problem`]
/// accepts. It names the account rather than guards it, so 31^8 ids and a lean of up to
/// 0.3 % (2^48 modulo 31^8) are plenty; the caller still checks it is unused.
pub fn temp_login_id(random: [u8; 6]) -> String {
    let mut wide = [0u8; 8];
    wide[2..].copy_from_slice(&random);
    format!(
        "{}{}",
        crate::account::TEMP_PREFIX,
        symbols(u128::from(u64::from_be_bytes(wide)), 8)
    )
}

/// A temporary password like `k7fq-2m9x-hn3c-wx9r`: 16 symbols, about 79 bits. The
/// hyphens are part of it. [`crate::account::password_problems`] accepts every one: 19
/// characters, the hyphens keep it from being monotonous or a common word, and no run of
/// more than four symbols can contain a `tmp-` login id.
pub fn temp_password(random: [u8; 12]) -> String {
    let mut wide = [0u8; 16];
    wide[4..].copy_from_slice(&random);
    grouped(&symbols(u128::from_be_bytes(wide), 16), "-")
}

/// `count` symbols of `ALPHABET` read from `n` in base 31.
fn symbols(mut n: u128, count: usize) -> String {
    (0..count)
        .map(|_| {
            let c = char::from(ALPHABET[(n % 31) as usize]);
            n /= 31;
            c
        })
        .collect()
}

/// ASCII `text` in blocks of four joined by `sep`.
pub(crate) fn grouped(text: &str, sep: &str) -> String {
    let blocks: Vec<&str> = text
        .as_bytes()
        .chunks(4)
        .map(|block| std::str::from_utf8(block).unwrap_or_default())
        .collect();
    blocks.join(sep)
}

/// Full-width ASCII (`０`, `Ａ`, `＋`, `－`) as the ASCII it stands for.
fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// What people put between groups of digits or letters: spaces, and the dashes a Japanese
/// IME may give for `-` (hyphens, minus, the long-vowel mark ー).
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{30FC}' | '\u{FF70}'
        )
}

#[cfg(test)]
mod tests {
    #[test]
    fn by_default_only_japanese_mobiles_get_codes() {
        let japan: Vec<String> = ["+8170", "+8180", "+8190"].map(String::from).to_vec();
        let allowed = |typed: &str| parse_phone(typed).is_ok_and(|e| phone_allowed(&e, &japan));
        for ok in ["090-1234-5678", "+81 80 1234 5678", "070 1234 5678"] {
            assert!(allowed(ok), "{ok}");
        }
        for refused in [
            "+1 415 555 2671",
            "+44 7700 900123",
            "03-1234-5678",
            "+81312345678",
        ] {
            assert!(!allowed(refused), "{refused}");
        }
        let us = vec!["+1415".to_owned()];
        assert!(phone_allowed("+14155552671", &us));
        assert!(!phone_allowed("+819012345678", &us));
    }

    use super::*;
    use crate::account::{login_id_syntax_problem, password_problems};
    use proptest::prelude::*;

    #[test]
    fn sms_codes_are_six_digits_zero_padded() {
        assert_eq!(sms_code([0, 0, 0, 0]), "000000");
        assert_eq!(sms_code([0, 0, 0, 42]), "000042");
        assert_eq!(sms_code([0xff; 4]), "967295");
        assert_eq!(sms_code([0, 0x0f, 0x42, 0x40]), "000000"); // 1_000_000
    }

    #[test]
    fn the_sms_says_what_the_code_is_for_and_fits_one_message() {
        let body = sms_body("012345");
        insta::assert_snapshot!(body, @"見守り 認証コード: 012345（5分間有効）。このコードを他人に教えないでください。");
        assert!(body.chars().count() <= 70);
    }

    #[test]
    fn the_sms_limits_are_five_minutes_five_tries_and_a_minute_between_sends() {
        assert_eq!(SMS_CODE_TTL.num_seconds(), 300);
        assert_eq!(SMS_MAX_ATTEMPTS, 5);
        assert_eq!(SMS_RESEND_INTERVAL.num_seconds(), 60);
        assert_eq!(TEMP_CREDENTIALS_TTL.num_days(), 7);
    }

    #[track_caller]
    fn check_code(input: &str, expected: Option<&str>) {
        assert_eq!(normalize_code(input).as_deref(), expected);
    }

    #[test]
    fn a_typed_code_may_have_spaces_and_full_width_digits() {
        check_code("123456", Some("123456"));
        check_code(" 123 456\t", Some("123456"));
        check_code("１２３４５６", Some("123456"));
        check_code("１２３　４５６", Some("123456"));
        check_code("12345", None);
        check_code("1234567", None);
        check_code("123-456", None);
        check_code("12345a", None);
        check_code("１２３４５six", None);
        check_code("", None);
    }

    #[track_caller]
    fn check_phone(input: &str, expected: Result<&str, &str>) {
        assert_eq!(parse_phone(input), expected.map(str::to_owned));
    }

    #[test]
    fn japanese_mobile_numbers_are_read_however_they_are_typed() {
        for typed in [
            "090-1234-5678",
            "09012345678",
            "090 1234 5678",
            "(090)1234-5678",
            "+81 90 1234 5678",
            "+81-90-1234-5678",
            "+819012345678",
            "+81 090 1234 5678",
            "０９０－１２３４－５６７８",
            "０９０ー１２３４ー５６７８",
            "０９０‐１２３４‐５６７８",
            "＋８１　９０　１２３４　５６７８",
            " 090-1234-5678 ",
        ] {
            check_phone(typed, Ok("+819012345678"));
        }
        check_phone("070-1234-5678", Ok("+817012345678"));
        check_phone("080-1234-5678", Ok("+818012345678"));
    }

    #[test]
    fn international_numbers_need_a_plus_and_8_to_15_digits() {
        check_phone("+1 (415) 555-2671", Ok("+14155552671"));
        check_phone("+44 7911 123456", Ok("+447911123456"));
        check_phone("+1234567", Err("携帯電話番号の形式が正しくありません"));
        check_phone(
            "+1234567890123456",
            Err("携帯電話番号の形式が正しくありません"),
        );
        check_phone("+0901234567", Err("携帯電話番号の形式が正しくありません"));
    }

    #[test]
    fn other_input_is_refused_with_a_message_saying_why() {
        check_phone("", Err("携帯電話番号を入力してください"));
        check_phone(" - ", Err("携帯電話番号を入力してください"));
        check_phone("+", Err("携帯電話番号は数字で入力してください"));
        check_phone("090-1234-567x", Err("携帯電話番号は数字で入力してください"));
        check_phone("090+12345678", Err("携帯電話番号は数字で入力してください"));
        check_phone("〇九〇", Err("携帯電話番号は数字で入力してください"));
        check_phone(
            "03-1234-5678",
            Err("070・080・090で始まる携帯電話番号を入力してください"),
        );
        check_phone(
            "050-1234-5678",
            Err("070・080・090で始まる携帯電話番号を入力してください"),
        );
        check_phone(
            "+81 3 1234 5678",
            Err("070・080・090で始まる携帯電話番号を入力してください"),
        );
        check_phone("090-1234-567", Err("携帯電話番号の桁数が正しくありません"));
        check_phone(
            "090-1234-56789",
            Err("携帯電話番号の桁数が正しくありません"),
        );
        check_phone(
            "+81 90 1234 567",
            Err("携帯電話番号の桁数が正しくありません"),
        );
        check_phone("9012345678", Err("携帯電話番号の形式が正しくありません"));
        check_phone("819012345678", Err("携帯電話番号の形式が正しくありません"));
    }

    #[test]
    fn a_masked_number_shows_only_its_start_and_last_four_digits() {
        assert_eq!(mask_phone("+819012345678"), "090-****-5678");
        assert_eq!(mask_phone("+817098765432"), "070-****-5432");
        assert_eq!(mask_phone("+14155552671"), "+14*****2671");
        assert_eq!(mask_phone("+4479111234"), "+44****1234");
        assert_eq!(mask_phone("+1234"), "*****");
    }

    #[test]
    fn recovery_codes_are_two_blocks_of_four_unambiguous_symbols() {
        assert_eq!(recovery_code([0; 8]), "2222-2222");
        assert_eq!(recovery_code([0, 0, 0, 0, 0, 0, 0, 1]), "3222-2222");
        assert_eq!(recovery_code([0xff; 8]), "h8ap-76dm");
    }

    #[track_caller]
    fn check_recovery(input: &str, expected: Option<&str>) {
        assert_eq!(normalize_recovery(input).as_deref(), expected);
    }

    #[test]
    fn a_typed_recovery_code_ignores_case_spaces_dashes_and_width() {
        check_recovery("k7fq-2m9x", Some("k7fq-2m9x"));
        check_recovery("K7FQ2M9X", Some("k7fq-2m9x"));
        check_recovery(" k7fq 2m9x ", Some("k7fq-2m9x"));
        check_recovery("k7-fq-2m-9x", Some("k7fq-2m9x"));
        check_recovery("ｋ７ｆｑ－２ｍ９ｘ", Some("k7fq-2m9x"));
        check_recovery("Ｋ７ＦＱー２Ｍ９Ｘ", Some("k7fq-2m9x"));
        check_recovery("k7fq-2m9", None);
        check_recovery("k7fq-2m9xa", None);
        check_recovery("k7fq-2m9o", None);
        check_recovery("k7fq-2m91", None);
        check_recovery("k7fq_2m9x", None);
        check_recovery("", None);
    }

    #[test]
    fn temporary_credentials_look_like_the_welcome_mail_says() {
        assert_eq!(temp_login_id([0; 6]), "tmp-22222222");
        assert_eq!(temp_password([0; 12]), "2222-2222-2222-2222");
        assert_eq!(temp_login_id([0xff; 6]), "tmp-9cdz8ms2");
        assert_eq!(temp_password([0xff; 12]), "394w-4cx4-zmbw-jm88");
    }

    fn in_alphabet(s: &str) -> bool {
        s.bytes().all(|b| ALPHABET.contains(&b))
    }

    proptest! {
        #[test]
        fn sms_codes_are_always_six_digits(random in any::<[u8; 4]>()) {
            let code = sms_code(random);
            prop_assert_eq!(normalize_code(&code), Some(code.clone()));
        }

        #[test]
        fn recovery_codes_always_read_back_as_themselves(random in any::<[u8; 8]>()) {
            let code = recovery_code(random);
            prop_assert_eq!(code.len(), 9);
            prop_assert_eq!(&code[4..5], "-");
            prop_assert!(in_alphabet(&code[..4]) && in_alphabet(&code[5..]));
            prop_assert_eq!(normalize_recovery(&code.to_uppercase()), Some(code));
        }

        #[test]
        fn temporary_login_ids_are_always_valid_login_ids(random in any::<[u8; 6]>()) {
            let id = temp_login_id(random);
            prop_assert_eq!(login_id_syntax_problem(&id), None);
            prop_assert!(id.len() == 12 && id.starts_with("tmp-") && in_alphabet(&id[4..]));
        }

        #[test]
        fn temporary_passwords_always_pass_the_password_rules(
            random in any::<[u8; 12]>(),
            id in any::<[u8; 6]>(),
        ) {
            let password = temp_password(random);
            prop_assert_eq!(password_problems(&password, &temp_login_id(id)), vec![]);
            let blocks: Vec<&str> = password.split('-').collect();
            prop_assert_eq!(blocks.len(), 4);
            prop_assert!(blocks.iter().all(|b| b.len() == 4 && in_alphabet(b)));
        }

        #[test]
        fn parsed_phone_numbers_parse_again_unchanged(
            prefix in prop::sample::select(vec!["070", "080", "090"]),
            rest in "[0-9]{8}",
        ) {
            let e164 = parse_phone(&format!("{prefix}-{}-{}", &rest[..4], &rest[4..])).unwrap();
            prop_assert_eq!(parse_phone(&e164), Ok(e164.clone()));
            prop_assert!(mask_phone(&e164).ends_with(&rest[4..]));
        }
    }
}
