//! Rules for the accounts customers sign in with (seed §3.5): the login id and password a
//! user chooses at first sign-in, and throttling of failed sign-ins. Groundwork for the
//! identity issue; messages are the Japanese the sign-in forms show.

use chrono::{DateTime, TimeDelta, Utc};

use crate::customer::Email;
use crate::fields::{BodyError, Obj, json_body};
use crate::id::Id;
use crate::signin::FormError;

/// Shortest password accepted (NIST SP 800-63B asks for at least 8; 12 for an admin of a
/// security service).
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Passwords people pick first; refused whatever their length.
const COMMON: &[&str] = &[
    "password",
    "passw0rd",
    "12345678",
    "123456789",
    "1234567890",
    "qwerty",
    "qwertyuiop",
    "iloveyou",
    "admin",
    "administrator",
    "letmein",
    "welcome",
    "p@ssw0rd",
    "abc123",
    "mimamori",
    "password1",
    "password123",
    "qwerty123",
    "1q2w3e4r",
    "1qaz2wsx",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    TooLong,
    ContainsLoginId,
    Common,
    Monotonous,
}

impl PasswordProblem {
    pub const ALL: [PasswordProblem; 5] = [
        PasswordProblem::TooShort,
        PasswordProblem::TooLong,
        PasswordProblem::ContainsLoginId,
        PasswordProblem::Common,
        PasswordProblem::Monotonous,
    ];

    /// A short code for URLs (`?p=short,common`): a form sends the visitor back with the
    /// codes and the page shows their messages.
    pub fn code(self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "short",
            PasswordProblem::TooLong => "long",
            PasswordProblem::ContainsLoginId => "id",
            PasswordProblem::Common => "common",
            PasswordProblem::Monotonous => "monotonous",
        }
    }

    pub fn from_code(code: &str) -> Option<PasswordProblem> {
        PasswordProblem::ALL.into_iter().find(|p| p.code() == code)
    }

    pub fn message(self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "パスワードは12文字以上にしてください",
            PasswordProblem::TooLong => "パスワードは128文字以内にしてください",
            PasswordProblem::ContainsLoginId => "パスワードにユーザIDを含めないでください",
            PasswordProblem::Common => "よく使われているパスワードは使えません",
            PasswordProblem::Monotonous => "同じ文字や連続した文字だけのパスワードは使えません",
        }
    }
}

/// Every rule a new password breaks (empty: acceptable).
pub fn password_problems(password: &str, login_id: &str) -> Vec<PasswordProblem> {
    // Too long is reason enough, and the other rules need not read a megabyte.
    if crate::bounds::within(password, MAX_PASSWORD_CHARS).is_none() {
        return vec![PasswordProblem::TooLong];
    }
    let chars: Vec<char> = password.chars().collect();
    let mut problems = Vec::new();
    if chars.len() < MIN_PASSWORD_CHARS {
        problems.push(PasswordProblem::TooShort);
    }
    let lower = password.to_lowercase();
    let id = login_id.trim().to_lowercase();
    if id.chars().count() >= 3 && lower.contains(&id) {
        problems.push(PasswordProblem::ContainsLoginId);
    }
    if COMMON
        .iter()
        .any(|c| lower == *c || lower.trim_end_matches(|c: char| c.is_ascii_digit()) == *c)
    {
        problems.push(PasswordProblem::Common);
    }
    let steps: Vec<i64> = chars
        .windows(2)
        .map(|w| w[1] as i64 - w[0] as i64)
        .collect();
    let monotonous = !steps.is_empty() && steps.iter().all(|s| *s == steps[0] && s.abs() <= 1);
    if monotonous {
        problems.push(PasswordProblem::Monotonous);
    }
    problems
}

/// Temporary login ids (`domain::onetime::temp_login_id`) start with this; a chosen id
/// may not, so the two never clash.
pub const TEMP_PREFIX: &str = "tmp-";

/// Why a login id a user chose is refused, as the code the setup form is sent back with
/// (`None`: acceptable). A chosen id must be 4–32 characters of `A-Z a-z 0-9 . _ @ -`
/// (`login_id`) and must not start with `tmp-` (`login_id_tmp`).
pub fn login_id_problem(login_id: &str) -> Option<FormError> {
    if login_id_syntax_problem(login_id).is_some() {
        return Some(FormError::LoginId);
    }
    login_id
        .to_ascii_lowercase()
        .starts_with(TEMP_PREFIX)
        .then_some(FormError::LoginIdTmp)
}

/// What any login id (temporary ones included) must look like: 4–32 characters of
/// `A-Z a-z 0-9 . _ @ -`.
pub fn login_id_syntax_problem(login_id: &str) -> Option<&'static str> {
    let n = login_id.chars().count();
    if !(4..=32).contains(&n) {
        return Some("ユーザIDは4文字以上32文字以内にしてください");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-');
    if !login_id.chars().all(allowed) {
        return Some("ユーザIDに使えるのは半角英数字と . _ @ - です");
    }
    None
}

/// Failed sign-ins of one login id (or one address): after `max_failures` within
/// `window`, sign-in is refused for `lockout`, whatever the password. The answer to the
/// user is the same as for a wrong password, so the lockout reveals nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttle {
    pub failures: u32,
    pub first_failure: Option<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
}

/// How many failures lock, within what time, for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_failures: u32,
    pub window: TimeDelta,
    pub lockout: TimeDelta,
}

/// Per login id (known or not): 5 failures within 15 minutes lock it for 15 minutes.
pub const PER_LOGIN_ID: Limits = Limits {
    max_failures: MAX_FAILURES,
    window: WINDOW,
    lockout: LOCKOUT,
};

/// Per address: many ids tried from one place (credential stuffing). High enough for an
/// office behind one NAT address.
pub const PER_ADDRESS: Limits = Limits {
    max_failures: 30,
    window: WINDOW,
    lockout: LOCKOUT,
};

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW: TimeDelta = TimeDelta::minutes(15);
pub const LOCKOUT: TimeDelta = TimeDelta::minutes(15);

impl Throttle {
    /// Whether a sign-in may be tried at `now`; `Err` holds when it may be tried again.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        match self.locked_until {
            Some(until) if now < until => Err(until),
            _ => Ok(()),
        }
    }

    /// The state after a failed sign-in at `now` under `limits`.
    pub fn failed_under(self, limits: Limits, now: DateTime<Utc>) -> Throttle {
        let fresh = self
            .first_failure
            .is_none_or(|first| now - first > limits.window)
            || self.locked_until.is_some_and(|until| now >= until);
        let (failures, first) = if fresh {
            (1, now)
        } else {
            (self.failures + 1, self.first_failure.unwrap_or(now))
        };
        Throttle {
            failures,
            first_failure: Some(first),
            locked_until: (failures >= limits.max_failures).then_some(now + limits.lockout),
        }
    }

    /// The state after a successful sign-in.
    pub fn succeeded(self) -> Throttle {
        Throttle::default()
    }
}

/// `POST …/accounts` `{"email"}`: where the temporary credentials go.
pub fn parse_new_account(body: &[u8]) -> Result<Email, BodyError> {
    let value = json_body(body)?;
    let obj = Obj::new("$", &value)?;
    Ok(obj.parsed("email", Email::parse)?)
}

/// `POST /api/v1/admin/resellers` `{"name"}`.
pub fn parse_new_reseller(body: &[u8]) -> Result<String, BodyError> {
    let value = json_body(body)?;
    let obj = Obj::new("$", &value)?;
    Ok(obj.label("name", 100)?)
}

/// An API token to issue: for the operator, or for one reseller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub reseller_id: Option<Id>,
    pub name: String,
}

/// `POST /api/v1/admin/tokens` `{"scope": "operator" | "reseller", "reseller_id"?, "name"}`.
pub fn parse_new_token(body: &[u8]) -> Result<NewToken, BodyError> {
    let value = json_body(body)?;
    let obj = Obj::new("$", &value)?;
    let name = obj.label("name", 100)?;
    let reseller_id = match obj.str("scope")? {
        "operator" => {
            if obj.get("reseller_id").is_some_and(|v| !v.is_null()) {
                return Err(obj
                    .invalid("reseller_id", "only a reseller token has a reseller_id")
                    .into());
            }
            None
        }
        "reseller" => Some(obj.parsed("reseller_id", Id::parse)?),
        _ => {
            return Err(obj
                .invalid("scope", "must be \"operator\" or \"reseller\"")
                .into());
        }
    };
    Ok(NewToken { reseller_id, name })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(password: &str, id: &str, expected: &[PasswordProblem]) {
        assert_eq!(password_problems(password, id), expected);
    }

    #[test]
    fn a_long_uncommon_password_is_accepted() {
        check("sakura-2026-kaigishitsu", "yamada", &[]);
        check("桜が咲く季節の会議室です", "yamada", &[]);
    }

    #[test]
    fn short_long_common_and_monotonous_passwords_are_refused() {
        use PasswordProblem::*;
        check("short", "yamada", &[TooShort]);
        check(&"x".repeat(129), "yamada", &[TooLong]);
        check(&"password".repeat(100_000), "password", &[TooLong]);
        check("password1234", "yamada", &[Common]);
        check("abcdefghijklmn", "yamada", &[Monotonous]);
        check("aaaaaaaaaaaaaa", "yamada", &[Monotonous]);
        check("yamada-no-password-desu", "Yamada", &[ContainsLoginId]);
    }

    #[test]
    fn every_problem_has_a_japanese_message() {
        use PasswordProblem::*;
        for p in [TooShort, TooLong, ContainsLoginId, Common, Monotonous] {
            assert!(!p.message().is_ascii());
        }
    }

    #[test]
    fn account_and_token_bodies_are_checked_field_by_field() {
        let path = |r: Result<NewToken, BodyError>| match r {
            Err(BodyError::InvalidField(f)) => f.path,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            parse_new_account(br#"{"email":"a@example.jp"}"#)
                .unwrap()
                .as_str(),
            "a@example.jp"
        );
        assert!(parse_new_account(br#"{"email":"nope"}"#).is_err());
        assert_eq!(
            parse_new_reseller(r#"{"name":"代理店"}"#.as_bytes()).unwrap(),
            "代理店"
        );
        let t =
            parse_new_token(br#"{"scope":"reseller","reseller_id":"rsl_1","name":"CRM"}"#).unwrap();
        assert_eq!(
            t.reseller_id.map(|r| r.as_str().to_owned()),
            Some("rsl_1".into())
        );
        assert_eq!(
            parse_new_token(br#"{"scope":"operator","name":"ops"}"#)
                .unwrap()
                .reseller_id,
            None
        );
        assert_eq!(
            path(parse_new_token(br#"{"scope":"root","name":"x"}"#)),
            "$.scope"
        );
        assert_eq!(
            path(parse_new_token(br#"{"scope":"reseller","name":"x"}"#)),
            "$.reseller_id"
        );
        assert_eq!(
            path(parse_new_token(
                br#"{"scope":"operator","reseller_id":"r","name":"x"}"#
            )),
            "$.reseller_id"
        );
    }

    #[test]
    fn an_address_locks_only_after_many_failures() {
        let mut t = Throttle::default();
        for m in 0..29 {
            t = t.failed_under(PER_ADDRESS, at(m / 3));
            assert!(t.check(at(m / 3)).is_ok(), "failure {m}");
        }
        t = t.failed_under(PER_ADDRESS, at(10));
        assert_eq!(t.check(at(10)), Err(at(25)));
    }

    #[test]
    fn problem_codes_round_trip() {
        for p in PasswordProblem::ALL {
            assert_eq!(PasswordProblem::from_code(p.code()), Some(p));
        }
        assert_eq!(PasswordProblem::from_code("nope"), None);
    }

    #[test]
    fn login_ids_are_short_plain_words() {
        assert_eq!(login_id_problem("yamada.taro"), None);
        assert!(login_id_problem("abc").is_some());
        assert!(login_id_problem("山田").is_some());
        assert!(login_id_problem("has space").is_some());
        assert!(login_id_problem("TMP-mine").is_some());
        assert_eq!(login_id_problem("abc"), Some(FormError::LoginId));
        assert_eq!(login_id_problem("山田"), Some(FormError::LoginId));
        assert_eq!(login_id_problem("has space"), Some(FormError::LoginId));
        assert_eq!(login_id_problem("TMP-mine"), Some(FormError::LoginIdTmp));
        assert_eq!(login_id_problem("tmp-"), Some(FormError::LoginIdTmp));
        // A malformed id is refused for its form first, whatever its prefix.
        assert_eq!(login_id_problem("tmp-山田"), Some(FormError::LoginId));
    }

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + TimeDelta::minutes(min)
    }

    #[test]
    fn five_failures_within_fifteen_minutes_lock_for_fifteen_minutes() {
        let mut t = Throttle::default();
        for m in 0..4 {
            t = t.failed_under(PER_LOGIN_ID, at(m));
            assert!(t.check(at(m)).is_ok());
        }
        t = t.failed_under(PER_LOGIN_ID, at(4));
        assert_eq!(t.check(at(5)), Err(at(19)));
        assert!(t.check(at(19)).is_ok());
    }

    #[test]
    fn failures_spread_out_never_lock_and_success_clears_them() {
        let mut t = Throttle::default();
        for m in [0, 20, 40, 60, 80, 100] {
            t = t.failed_under(PER_LOGIN_ID, at(m));
            assert!(t.check(at(m)).is_ok(), "at {m}");
        }
        assert_eq!(
            t.failed_under(PER_LOGIN_ID, at(101)).succeeded(),
            Throttle::default()
        );
    }
}
