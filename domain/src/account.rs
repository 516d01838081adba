//! Rules for the accounts customers sign in with (seed §3.5): the login id and password a
//! user chooses at first sign-in, and throttling of failed sign-ins. Groundwork for the
//! identity issue; messages are the Japanese the sign-in forms show.

use chrono::{DateTime, TimeDelta, Utc};

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
    let chars: Vec<char> = password.chars().collect();
    let mut problems = Vec::new();
    if chars.len() < MIN_PASSWORD_CHARS {
        problems.push(PasswordProblem::TooShort);
    }
    if chars.len() > MAX_PASSWORD_CHARS {
        problems.push(PasswordProblem::TooLong);
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

/// A login id a user may choose: 4–32 characters of `A-Z a-z 0-9 . _ @ -`.
pub fn login_id_problem(login_id: &str) -> Option<&'static str> {
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

/// Failed sign-ins of one account (or one address): after `MAX_FAILURES` within
/// `WINDOW`, sign-in is refused for `LOCKOUT`, whatever the password. The answer to the
/// user is the same as for a wrong password, so the lockout reveals nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttle {
    pub failures: u32,
    pub first_failure: Option<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
}

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

    /// The state after a failed sign-in at `now`.
    pub fn failed(self, now: DateTime<Utc>) -> Throttle {
        let fresh = self.first_failure.is_none_or(|first| now - first > WINDOW)
            || self.locked_until.is_some_and(|until| now >= until);
        let (failures, first) = if fresh {
            (1, now)
        } else {
            (self.failures + 1, self.first_failure.unwrap_or(now))
        };
        Throttle {
            failures,
            first_failure: Some(first),
            locked_until: (failures >= MAX_FAILURES).then_some(now + LOCKOUT),
        }
    }

    /// The state after a successful sign-in.
    pub fn succeeded(self) -> Throttle {
        Throttle::default()
    }
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
        check(&"x".repeat(129), "yamada", &[TooLong, Monotonous]);
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
    fn login_ids_are_short_plain_words() {
        assert_eq!(login_id_problem("yamada.taro"), None);
        assert!(login_id_problem("abc").is_some());
        assert!(login_id_problem("山田").is_some());
        assert!(login_id_problem("has space").is_some());
    }

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + TimeDelta::minutes(min)
    }

    #[test]
    fn five_failures_within_fifteen_minutes_lock_for_fifteen_minutes() {
        let mut t = Throttle::default();
        for m in 0..4 {
            t = t.failed(at(m));
            assert!(t.check(at(m)).is_ok());
        }
        t = t.failed(at(4));
        assert_eq!(t.check(at(5)), Err(at(19)));
        assert!(t.check(at(19)).is_ok());
    }

    #[test]
    fn failures_spread_out_never_lock_and_success_clears_them() {
        let mut t = Throttle::default();
        for m in [0, 20, 40, 60, 80, 100] {
            t = t.failed(at(m));
            assert!(t.check(at(m)).is_ok(), "at {m}");
        }
        assert_eq!(t.failed(at(101)).succeeded(), Throttle::default());
    }
}
