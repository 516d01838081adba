//! The rules of signing in to the portal, apart from storage and HTTP: which second
//! factor an account uses, whether a login id and password let someone in, when a right
//! password takes back the attempt the throttle counted, which checks a typed code goes
//! through, and the names shared by the Worker, the portal and the e2e tests — the
//! `?e=<code>` a form sends the visitor back with, and the audit log's event names.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::Stage;

/// The second factor an account chose (`accounts.second_factor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecondFactor {
    /// An authenticator app (TOTP).
    Totp,
    /// A code by SMS.
    Sms,
    /// Chosen not to use one.
    None,
}

impl SecondFactor {
    pub const ALL: [SecondFactor; 3] = [SecondFactor::Totp, SecondFactor::Sms, SecondFactor::None];

    pub fn as_str(self) -> &'static str {
        match self {
            SecondFactor::Totp => "totp",
            SecondFactor::Sms => "sms",
            SecondFactor::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<SecondFactor> {
        SecondFactor::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// In Japanese, as the account page and the audit log show it.
    pub fn label(self) -> &'static str {
        match self {
            SecondFactor::Totp => "認証アプリ",
            SecondFactor::Sms => "SMS",
            SecondFactor::None => "利用しない",
        }
    }

    /// Whether signing in asks for a code of this factor.
    pub fn asks_for_code(self) -> bool {
        !matches!(self, SecondFactor::None)
    }
}

/// Why a login id and password did not let someone in (the audit log's detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    UnknownLoginId,
    WrongPassword,
    TemporaryPasswordExpired,
}

impl LoginRefusal {
    pub fn detail(self) -> &'static str {
        match self {
            LoginRefusal::UnknownLoginId => "存在しないユーザID",
            LoginRefusal::WrongPassword => "パスワードの誤り",
            LoginRefusal::TemporaryPasswordExpired => "仮パスワードの有効期限切れ",
        }
    }
}

/// A temporary password expires at `expires`; a permanent one (`None`) never does.
pub fn temporary_expired(expires: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    expires.is_some_and(|t| t < now)
}

/// What was found for a typed login id: `None` when no usable account has it; otherwise
/// whether the password matched and when the password (if temporary) expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub password_ok: bool,
    pub temporary_until: Option<DateTime<Utc>>,
}

/// The verdict on a login id and password. An unknown id and a wrong password are told
/// apart only in the audit log, never to the visitor.
pub fn login_verdict(found: Option<Found>, now: DateTime<Utc>) -> Result<(), LoginRefusal> {
    match found {
        None => Err(LoginRefusal::UnknownLoginId),
        Some(f) if !f.password_ok => Err(LoginRefusal::WrongPassword),
        Some(f) if temporary_expired(f.temporary_until, now) => {
            Err(LoginRefusal::TemporaryPasswordExpired)
        }
        Some(_) => Ok(()),
    }
}

/// What a right password does to the login id's throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Take back only this attempt: a second factor is still to be given, and its codes
    /// count against the same limit, so signing in again brings no fresh guesses.
    ThisAttempt,
    /// Forget every failure: the sign-in is complete (or leads to setting one up).
    Everything,
}

/// The release after a right password, given where the sign-in continues.
pub fn release_after_password(next: Stage) -> Release {
    if next == Stage::Verify {
        Release::ThisAttempt
    } else {
        Release::Everything
    }
}

/// A right code completes the sign-in: every failure of the login id is forgotten, and
/// the address gets back the attempt this code counted.
pub const RELEASE_AFTER_CODE: Release = Release::Everything;

/// One way a typed code may be right at the second step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Totp,
    Sms,
    RecoveryCode,
}

impl CodeCheck {
    /// How the sign-in was completed, as the audit log shows it.
    pub fn label(self) -> &'static str {
        match self {
            CodeCheck::Totp => SecondFactor::Totp.label(),
            CodeCheck::Sms => SecondFactor::Sms.label(),
            CodeCheck::RecoveryCode => "リカバリーコード",
        }
    }

    /// Where the visitor lands once signed in this way: a used recovery code is worth a
    /// word on the account page.
    pub fn landing(self) -> &'static str {
        match self {
            CodeCheck::RecoveryCode => "/account?done=recovery_used",
            CodeCheck::Totp | CodeCheck::Sms => "/",
        }
    }
}

/// The checks a typed code goes through, in order, for an account with `factor`: its
/// own factor first, then a recovery code, which stands in for any factor.
pub fn code_checks(factor: Option<SecondFactor>) -> &'static [CodeCheck] {
    match factor {
        Some(SecondFactor::Totp) => &[CodeCheck::Totp, CodeCheck::RecoveryCode],
        Some(SecondFactor::Sms) => &[CodeCheck::Sms, CodeCheck::RecoveryCode],
        Some(SecondFactor::None) | None => &[CodeCheck::RecoveryCode],
    }
}

macro_rules! names {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $value:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $value,)* }
            }

            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

names! {
    /// The `?e=<code>` a sign-in or account form sends the visitor back with; the portal
    /// shows each in Japanese (`app::messages`). The e2e tests assert on these values.
    FormError {
        Invalid = "invalid",
        Locked = "locked",
        Codes = "codes",
        Expired = "expired",
        SignedOut = "signed_out",
        Unavailable = "unavailable",
        LoginId = "login_id",
        LoginIdTmp = "login_id_tmp",
        LoginIdTaken = "login_id_taken",
        Mismatch = "mismatch",
        Password = "password",
        Current = "current",
        Choose = "choose",
        Reauth = "reauth",
        Code = "code",
        TotpExpired = "totp_expired",
        Phone = "phone",
        PhoneRegion = "phone_region",
        SmsStart = "sms_start",
        SmsWait = "sms_wait",
        SmsFailed = "sms_failed",
        SmsLimit = "sms_limit",
        NoteLong = "note_long",
        NoteChars = "note_chars",
    }
}

names! {
    /// The events of the audit log (`audit_log.event`).
    AuditEvent {
        SigninSuccess = "signin.success",
        SigninPasswordOk = "signin.password_ok",
        SigninFailure = "signin.failure",
        Signout = "signout",
        SignoutOthers = "signout.others",
        PasswordChanged = "password.changed",
        PasswordChangeFailed = "password.change_failed",
        PasswordReauth = "password.reauth",
        PasswordReauthFailed = "password.reauth_failed",
        SmsSent = "second_factor.sms_sent",
        SmsFailed = "second_factor.sms_failed",
        TotpEnabled = "second_factor.totp_enabled",
        SmsEnabled = "second_factor.sms_enabled",
        FactorNone = "second_factor.none",
        TotpConfirmFailed = "second_factor.totp_confirm_failed",
        AccountIssued = "account.issued",
        AccountIssueFailed = "account.issue_failed",
        PasswordReset = "account.password_reset",
        PasswordResetFailed = "account.password_reset_failed",
        SecondFactorReset = "account.second_factor_reset",
        TokenIssued = "token.issued",
        TokenRevoked = "token.revoked",
        TokenUsed = "token.used",
        IncidentHandled = "incident.handled",
        CustomerChanged = "customer.changed",
    }
}

impl FormError {
    /// `page?e=<code>`.
    pub fn on(self, page: &str) -> String {
        format!("{page}?e={}", self.as_str())
    }
}

impl AuditEvent {
    /// What the event is, in Japanese (the operator's audit page).
    pub fn label(self) -> &'static str {
        use AuditEvent::*;
        match self {
            SigninSuccess => "ログイン成功",
            SigninPasswordOk => "パスワード確認（次の手順へ）",
            SigninFailure => "ログイン失敗",
            Signout => "ログアウト",
            SignoutOthers => "ほかの端末をすべてログアウト",
            PasswordChanged => "パスワード変更",
            PasswordChangeFailed => "パスワード変更の失敗",
            PasswordReauth => "パスワードの再確認",
            PasswordReauthFailed => "パスワードの再確認の失敗",
            SmsSent => "SMS確認コードの送信",
            SmsFailed => "SMS確認コードの送信失敗",
            TotpEnabled => "2段階認証（認証アプリ）を設定",
            SmsEnabled => "2段階認証（SMS）を設定",
            FactorNone => "2段階認証を利用しない設定",
            TotpConfirmFailed => "認証アプリの確認コード誤り",
            AccountIssued => "アカウント発行",
            AccountIssueFailed => "アカウント発行の失敗",
            PasswordReset => "パスワードのリセット",
            PasswordResetFailed => "パスワードのリセットの失敗",
            SecondFactorReset => "2段階認証のリセット",
            TokenIssued => "APIトークン発行",
            TokenRevoked => "APIトークン失効",
            TokenUsed => "APIトークン利用",
            IncidentHandled => "「対応しました」の記録",
            CustomerChanged => "お客様情報の変更",
        }
    }
}

/// The shared names as JSON, for the e2e tests (`e2e/vocabulary.json`, checked by
/// `vocabulary_file_is_current` and read by `e2e/vocabulary.test.mjs`).
pub fn vocabulary() -> serde_json::Value {
    let names = |all: &mut dyn Iterator<Item = &'static str>| all.collect::<Vec<_>>();
    serde_json::json!({
        "form_errors": names(&mut FormError::ALL.iter().map(|e| e.as_str())),
        "audit_events": names(&mut AuditEvent::ALL.iter().map(|e| e.as_str())),
        "second_factors": names(&mut SecondFactor::ALL.iter().map(|f| f.as_str())),
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("in range") + TimeDelta::minutes(minutes)
    }

    #[track_caller]
    fn check(found: Option<Found>, now: DateTime<Utc>, expected: Result<(), LoginRefusal>) {
        assert_eq!(login_verdict(found, now), expected);
    }

    fn found(password_ok: bool, temporary_until: Option<DateTime<Utc>>) -> Option<Found> {
        Some(Found {
            password_ok,
            temporary_until,
        })
    }

    #[test]
    fn an_unknown_login_id_is_refused() {
        check(None, at(0), Err(LoginRefusal::UnknownLoginId));
    }

    #[test]
    fn a_wrong_password_is_refused_even_when_temporary_and_expired() {
        check(found(false, None), at(0), Err(LoginRefusal::WrongPassword));
        check(
            found(false, Some(at(-1))),
            at(0),
            Err(LoginRefusal::WrongPassword),
        );
    }

    #[test]
    fn an_expired_temporary_password_is_refused_and_a_live_one_accepted() {
        check(
            found(true, Some(at(-1))),
            at(0),
            Err(LoginRefusal::TemporaryPasswordExpired),
        );
        check(found(true, Some(at(1))), at(0), Ok(()));
        check(found(true, Some(at(0))), at(0), Ok(()));
    }

    #[test]
    fn a_right_permanent_password_is_accepted() {
        check(found(true, None), at(0), Ok(()));
        assert!(!temporary_expired(None, at(100_000)));
    }

    #[test]
    fn a_right_password_takes_back_only_its_attempt_while_a_code_is_still_due() {
        assert_eq!(release_after_password(Stage::Verify), Release::ThisAttempt);
        for next in [Stage::Setup, Stage::Choose, Stage::Full] {
            assert_eq!(
                release_after_password(next),
                Release::Everything,
                "{next:?}"
            );
        }
        assert_eq!(RELEASE_AFTER_CODE, Release::Everything);
    }

    #[test]
    fn a_code_is_checked_against_the_own_factor_then_as_a_recovery_code() {
        use CodeCheck::*;
        let cases = [
            (Some(SecondFactor::Totp), &[Totp, RecoveryCode][..]),
            (Some(SecondFactor::Sms), &[Sms, RecoveryCode][..]),
            (Some(SecondFactor::None), &[RecoveryCode][..]),
            (None, &[RecoveryCode][..]),
        ];
        for (factor, checks) in cases {
            assert_eq!(code_checks(factor), checks, "{factor:?}");
        }
        assert_eq!(RecoveryCode.landing(), "/account?done=recovery_used");
        assert_eq!(Totp.landing(), "/");
    }

    #[test]
    fn second_factors_read_back_what_they_write() {
        for f in SecondFactor::ALL {
            assert_eq!(SecondFactor::parse(f.as_str()), Some(f));
        }
        assert_eq!(SecondFactor::parse("recovery code"), None);
        assert!(!SecondFactor::None.asks_for_code());
    }

    #[test]
    fn form_errors_and_audit_events_have_distinct_names_that_read_back() {
        let mut seen = std::collections::HashSet::new();
        for e in FormError::ALL {
            assert_eq!(FormError::parse(e.as_str()), Some(*e));
            assert!(seen.insert(e.as_str()), "{e:?}");
        }
        for e in AuditEvent::ALL {
            assert_eq!(AuditEvent::parse(e.as_str()), Some(*e));
            assert!(seen.insert(e.as_str()), "{e:?}");
            assert!(!e.label().is_empty());
        }
        assert_eq!(FormError::Locked.on("/login"), "/login?e=locked");
        assert_eq!(AuditEvent::SmsSent.as_str(), "second_factor.sms_sent");
    }

    /// `e2e/vocabulary.json` is these enums' lists; `UPDATE_VOCABULARY=1 cargo test -p
    /// domain vocabulary` rewrites it after a change.
    #[test]
    fn vocabulary_file_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../e2e/vocabulary.json");
        let want = format!("{:#}\n", vocabulary());
        if std::env::var_os("UPDATE_VOCABULARY").is_some() {
            std::fs::write(path, &want).expect("writes");
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            have, want,
            "run UPDATE_VOCABULARY=1 cargo test -p domain vocabulary"
        );
    }
}
