//! How long a portal session lives. A session ends after `IDLE` without a request, and
//! in any case `ABSOLUTE` after sign-in; while it is used, the cookie is renewed at most
//! every `RENEW_EVERY` (sliding expiry). A sign-in that is not finished (temporary
//! password, second factor pending) lives `PENDING`.

use chrono::{DateTime, TimeDelta, Utc};

use crate::access::Stage;

pub const IDLE: TimeDelta = TimeDelta::minutes(30);
pub const ABSOLUTE: TimeDelta = TimeDelta::hours(12);
pub const RENEW_EVERY: TimeDelta = TimeDelta::minutes(5);
pub const PENDING: TimeDelta = TimeDelta::minutes(15);
/// Changing the second factor of a signed-in account needs a password given this
/// recently (at sign-in or again on the form); a borrowed, unlocked session cannot
/// quietly switch it off.
pub const REAUTH_WINDOW: TimeDelta = TimeDelta::minutes(10);

/// Whether a password given at `authenticated` is recent enough at `now`.
pub fn recently_authenticated(authenticated: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - authenticated <= REAUTH_WINDOW
}

/// Whether a session at `stage` must give the password again before changing the second
/// factor: a full session whose password (given at `authenticated`) is no longer recent.
/// A sign-in still choosing its second factor never does.
pub fn needs_reauth(stage: Stage, authenticated: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    stage == Stage::Full && !recently_authenticated(authenticated, now)
}

/// Wrong second-factor codes one session may give before it is ended.
pub const MAX_CODE_FAILURES: u32 = 5;

/// When a session last renewed at `now` expires.
pub fn expires_at(stage: Stage, created: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    match stage {
        Stage::Full => (now + IDLE).min(created + ABSOLUTE),
        _ => (now + PENDING).min(created + PENDING),
    }
}

/// When a session started at `now` expires, for a sign-in that began at `signed_in`: a
/// full session as `expires_at` says (never past `ABSOLUTE` from the sign-in, whatever
/// new ids it went through); a step still pending gets `PENDING` from now, within the
/// same limit.
pub fn first_expiry(stage: Stage, signed_in: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    match stage {
        Stage::Full => expires_at(stage, signed_in, now),
        _ => (now + PENDING).min(signed_in + ABSOLUTE),
    }
}

/// Whether a token issued at `issued` should be replaced by a fresh one at `now`.
pub fn needs_renewal(stage: Stage, issued: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    stage == Stage::Full && now - issued >= RENEW_EVERY
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + TimeDelta::minutes(min)
    }

    #[test]
    fn a_used_session_slides_until_the_absolute_limit() {
        assert_eq!(expires_at(Stage::Full, at(0), at(0)), at(30));
        assert_eq!(expires_at(Stage::Full, at(0), at(100)), at(130));
        assert_eq!(expires_at(Stage::Full, at(0), at(700)), at(720));
    }

    #[test]
    fn an_unfinished_sign_in_does_not_slide() {
        assert_eq!(expires_at(Stage::Verify, at(0), at(0)), at(15));
        assert_eq!(expires_at(Stage::Setup, at(0), at(10)), at(15));
    }

    #[test]
    fn a_password_counts_as_recent_for_ten_minutes() {
        assert!(recently_authenticated(at(0), at(10)));
        assert!(!recently_authenticated(at(0), at(11)));
    }

    #[test]
    fn only_a_full_session_with_an_old_password_must_give_it_again() {
        assert!(!needs_reauth(Stage::Full, at(0), at(10)));
        assert!(needs_reauth(Stage::Full, at(0), at(11)));
        assert!(!needs_reauth(Stage::Choose, at(0), at(60)));
    }

    #[test]
    fn a_new_id_for_an_old_sign_in_keeps_its_absolute_limit() {
        assert_eq!(first_expiry(Stage::Full, at(0), at(0)), at(30));
        assert_eq!(first_expiry(Stage::Full, at(0), at(700)), at(720));
        assert!(
            first_expiry(Stage::Full, at(0), at(721)) < at(721),
            "born expired"
        );
        assert_eq!(first_expiry(Stage::Choose, at(0), at(10)), at(25));
        assert_eq!(first_expiry(Stage::Choose, at(0), at(715)), at(720));
    }

    #[test]
    fn tokens_are_renewed_every_five_minutes_of_use() {
        assert!(!needs_renewal(Stage::Full, at(0), at(4)));
        assert!(needs_renewal(Stage::Full, at(0), at(5)));
        assert!(!needs_renewal(Stage::Verify, at(0), at(10)));
    }
}
