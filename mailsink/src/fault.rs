//! Injected failures for end-to-end tests: the next N `POST /emails` (or, when asked for,
//! the next N SMS sends) answer a chosen error status, after an optional delay, and store
//! nothing. A 2xx status instead delays the request and then handles it normally: a
//! provider that accepted the mail but answered too late, which the sender must retry
//! without the mail arriving twice. Mail and SMS each have their own pending faults, so a
//! test that breaks one is not surprised by a failure of the other.

use std::time::Duration;

use serde::Deserialize;

use crate::mail::Invalid;

/// Longer delays would only tie up a thread; no client waits this long.
const MAX_DELAY_MS: u64 = 10 * 60 * 1000;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    remaining: u32,
    status: u16,
    delay: Duration,
}

#[derive(Debug, PartialEq)]
pub enum Fault {
    /// Wait `delay`, then answer `status` without looking at the request.
    Fail { status: u16, delay: Duration },
    /// Wait `delay`, then handle the request as usual.
    Slow { delay: Duration },
}

impl Faults {
    /// The fault for the request at hand, if any is left.
    pub fn take(&mut self) -> Option<Fault> {
        self.remaining = self.remaining.checked_sub(1)?;
        let delay = self.delay;
        Some(match self.status {
            200..=299 => Fault::Slow { delay },
            status => Fault::Fail { status, delay },
        })
    }

    pub fn pending(&self) -> u32 {
        self.remaining
    }
}

/// Which provider API a fault is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// `POST /emails`
    #[default]
    Emails,
    /// `POST /2010-04-01/Accounts/{sid}/Messages.json`
    Sms,
}

/// A `POST /_control` body: `{"reset": true}` and/or
/// `{"fail_next": N, "status": 500, "delay_ms": 0, "api": "emails"}`.
#[derive(Debug, PartialEq)]
pub struct Control {
    /// Forget every mail, message, fault and counted attempt first.
    pub reset: bool,
    /// Replace the pending faults of this API with these.
    pub faults: Option<(Api, Faults)>,
}

impl Control {
    pub fn parse(body: &[u8]) -> Result<Control, Invalid> {
        // Unknown fields are refused: a typo like `failNext` must not pass silently as
        // "no fault" in a test that then proves nothing.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            #[serde(default)]
            reset: bool,
            fail_next: Option<u32>,
            status: Option<u16>,
            delay_ms: Option<u64>,
            api: Option<Api>,
        }
        let raw: Raw = serde_json::from_slice(body)
            .map_err(|e| Invalid::new(format!("invalid control body: {e}")))?;
        let faults = match (raw.fail_next, raw.status, raw.delay_ms, raw.api) {
            (None, None, None, None) => None,
            (None, _, _, _) => {
                return Err(Invalid::new(
                    "`status`, `delay_ms` and `api` need `fail_next`".to_owned(),
                ));
            }
            (Some(remaining), status, delay_ms, api) => {
                let status = status.unwrap_or(500);
                if !(200..=599).contains(&status) {
                    return Err(Invalid::new(format!(
                        "`status` must be 200 to 599, got {status}"
                    )));
                }
                let delay_ms = delay_ms.unwrap_or(0);
                if delay_ms > MAX_DELAY_MS {
                    return Err(Invalid::new(format!(
                        "`delay_ms` must be at most {MAX_DELAY_MS}, got {delay_ms}"
                    )));
                }
                let faults = Faults {
                    remaining,
                    status,
                    delay: Duration::from_millis(delay_ms),
                };
                Some((api.unwrap_or_default(), faults))
            }
        };
        Ok(Control {
            reset: raw.reset,
            faults,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(body: &str) -> Faults {
        let (api, faults) = Control::parse(body.as_bytes()).unwrap().faults.unwrap();
        assert_eq!(api, Api::Emails);
        faults
    }

    #[test]
    fn fail_next_two_fails_two_requests_with_500_by_default() {
        let mut faults = faults(r#"{"fail_next": 2}"#);
        let fail = Fault::Fail {
            status: 500,
            delay: Duration::ZERO,
        };
        assert_eq!(faults.pending(), 2);
        assert_eq!(faults.take(), Some(fail));
        assert_eq!(faults.pending(), 1);
        assert!(faults.take().is_some());
        assert_eq!(faults.take(), None);
        assert_eq!(faults.pending(), 0);
    }

    #[test]
    fn a_2xx_status_only_slows_the_request_down() {
        let mut faults = faults(r#"{"fail_next": 1, "status": 200, "delay_ms": 1500}"#);
        assert_eq!(
            faults.take(),
            Some(Fault::Slow {
                delay: Duration::from_millis(1500)
            })
        );
    }

    #[test]
    fn api_sms_aims_the_faults_at_text_messages() {
        let control = Control::parse(br#"{"fail_next": 1, "status": 503, "api": "sms"}"#);
        let (api, mut faults) = control.unwrap().faults.unwrap();
        assert_eq!(api, Api::Sms);
        assert_eq!(
            faults.take(),
            Some(Fault::Fail {
                status: 503,
                delay: Duration::ZERO
            })
        );
    }

    #[test]
    fn reset_alone_sets_no_faults() {
        let control = Control::parse(br#"{"reset": true}"#).unwrap();
        assert_eq!(
            control,
            Control {
                reset: true,
                faults: None
            }
        );
    }

    #[track_caller]
    fn refused(body: &str, message_start: &str) {
        let message = Control::parse(body.as_bytes()).unwrap_err().to_string();
        assert!(message.starts_with(message_start), "{message}");
    }

    #[test]
    fn unknown_fields_and_impossible_values_are_refused() {
        refused(
            r#"{"failNext": 1}"#,
            "invalid control body: unknown field `failNext`",
        );
        refused(
            r#"{"status": 503}"#,
            "`status`, `delay_ms` and `api` need `fail_next`",
        );
        refused(
            r#"{"api": "sms"}"#,
            "`status`, `delay_ms` and `api` need `fail_next`",
        );
        refused(
            r#"{"fail_next": 1, "api": "fax"}"#,
            "invalid control body: unknown variant `fax`",
        );
        refused(
            r#"{"fail_next": 1, "status": 101}"#,
            "`status` must be 200 to 599",
        );
        refused(
            r#"{"fail_next": 1, "delay_ms": 600001}"#,
            "`delay_ms` must be at most",
        );
        refused(r#"{"fail_next": -1}"#, "invalid control body");
    }
}
