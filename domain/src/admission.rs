//! Whether an appliance may use the service: it enrolls with a code that is unused and
//! unexpired, and it enrolls and reports only while it is enabled and its customer's
//! contract runs. A code that cannot be redeemed is told apart from nothing (401, like an
//! unknown code); a stopped appliance or ended contract is a 403, the contract first.

use chrono::{DateTime, Utc};

/// Why an appliance is turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Unknown, used or expired code; unknown or revoked token (401).
    #[error("not a valid code or token")]
    Unknown,
    /// The customer's contract has ended (403).
    #[error("the contract has ended")]
    ContractEnded,
    /// The operator disabled the appliance (403).
    #[error("the appliance is disabled")]
    Disabled,
}

/// What decides whether an appliance may enroll or report, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub disabled: bool,
    pub contract_ended: bool,
}

/// An enrollment code as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}

/// An appliance in `standing` may report (and enroll).
pub fn admit(standing: Standing) -> Result<(), Refusal> {
    if standing.contract_ended {
        return Err(Refusal::ContractEnded);
    }
    if standing.disabled {
        return Err(Refusal::Disabled);
    }
    Ok(())
}

/// `code` may be exchanged for a device token at `now` by an appliance in `standing`.
pub fn redeem(code: Code, standing: Standing, now: DateTime<Utc>) -> Result<(), Refusal> {
    if code.used || code.expires_at <= now {
        return Err(Refusal::Unknown);
    }
    admit(standing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("a time")
    }

    const RUNNING: Standing = Standing {
        disabled: false,
        contract_ended: false,
    };

    #[track_caller]
    fn check(
        used: bool,
        expires: &str,
        disabled: bool,
        ended: bool,
        expected: Result<(), Refusal>,
    ) {
        let code = Code {
            expires_at: at(expires),
            used,
        };
        let standing = Standing {
            disabled,
            contract_ended: ended,
        };
        assert_eq!(redeem(code, standing, at("2026-12-01T00:00:00Z")), expected);
    }

    #[test]
    fn an_unused_unexpired_code_of_a_running_appliance_is_redeemed() {
        check(false, "2026-12-01T00:00:01Z", false, false, Ok(()));
    }

    #[test]
    fn a_used_or_expired_code_is_like_an_unknown_one() {
        check(
            true,
            "2026-12-31T00:00:00Z",
            false,
            false,
            Err(Refusal::Unknown),
        );
        check(
            false,
            "2026-12-01T00:00:00Z",
            false,
            false,
            Err(Refusal::Unknown),
        );
        check(
            false,
            "2026-11-01T00:00:00Z",
            true,
            true,
            Err(Refusal::Unknown),
        );
    }

    #[test]
    fn an_ended_contract_is_told_before_a_disabled_appliance() {
        check(
            false,
            "2026-12-31T00:00:00Z",
            true,
            true,
            Err(Refusal::ContractEnded),
        );
        check(
            false,
            "2026-12-31T00:00:00Z",
            false,
            true,
            Err(Refusal::ContractEnded),
        );
        check(
            false,
            "2026-12-31T00:00:00Z",
            true,
            false,
            Err(Refusal::Disabled),
        );
    }

    #[test]
    fn reporting_needs_a_running_contract_and_an_enabled_appliance() {
        assert_eq!(admit(RUNNING), Ok(()));
        let disabled = Standing {
            disabled: true,
            ..RUNNING
        };
        assert_eq!(admit(disabled), Err(Refusal::Disabled));
        let ended = Standing {
            contract_ended: true,
            ..disabled
        };
        assert_eq!(admit(ended), Err(Refusal::ContractEnded));
    }
}
