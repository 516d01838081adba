//! The service's settings, typed, parsed once from whatever the platform offers (`[vars]`,
//! secrets, `.dev.vars`) through a lookup function: the one place a setting's name, its
//! default and its bounds are written. A value that does not parse falls back to the
//! default with a warning — a typo must never turn a limit off or delete data early.
//! Secrets are [`Secret`]s, whose `Debug` prints `[redacted]`.

use std::fmt;

use chrono::{NaiveTime, TimeDelta};

use crate::downtime::Policy;
use crate::ratelimit::Limit;
use crate::retention;
use crate::window::Window;

/// A secret setting. It is never printed: `Debug` shows `[redacted]`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The value, for the one use that needs it (signing, sealing, an API call).
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The secret if it has at least `min` bytes; shorter counts as unset.
    pub fn at_least(&self, min: usize) -> Option<&str> {
        (self.0.len() >= min).then_some(self.0.as_str())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// `REPORT_RATE_PER_S` / `REPORT_BURST`: the per-device report rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ingest {
    pub limit: Limit,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retention {
    /// `RETENTION_DAYS`: raw rows and rollups older than this are deleted.
    pub days: u32,
    /// `RETENTION_CHUNK`: rows deleted per statement.
    pub chunk: u32,
    /// `RETENTION_MAX_CHUNKS`: statements per table per cron tick.
    pub max_chunks: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Alerts {
    /// `ALERT_BATCH_WINDOW_S`: how long lower-tier alerts wait to be mailed together.
    pub batch_window: TimeDelta,
    /// `INCIDENT_WINDOW_MIN`: repeats closer than this belong to one incident.
    pub incident_window: TimeDelta,
}

/// The HTTP email API (`MAIL_API_URL`, `MAIL_API_KEY`, `MAIL_FROM`) and the portal's
/// public base URL for links in mails (`PUBLIC_URL`).
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub url: String,
    pub key: Secret,
    pub from: String,
    pub portal: String,
}

/// The SMS API (`SMS_API_URL`, `SMS_ACCOUNT_SID`, `SMS_AUTH_TOKEN`, `SMS_FROM`).
#[derive(Debug, Clone, PartialEq)]
pub struct Sms {
    pub url: String,
    pub account_sid: String,
    pub auth_token: Secret,
    pub from: String,
}

/// Fixed-window limits (`domain::window`), each counted before the request is judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// `ENROLL_PER_DEVICE_PER_HOUR`: enrollment attempts naming one device id.
    pub enroll_device: Window,
    /// `ENROLL_PER_ADDRESS_PER_HOUR`: enrollment attempts from one address.
    pub enroll_address: Window,
    /// `ADMIN_API_PER_MIN`: operator and reseller API requests per token.
    pub api: Window,
    /// `ACCOUNTS_ISSUED_PER_HOUR`: accounts issued per token (each mails an address).
    pub accounts: Window,
}

/// Sign-in codes and the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// `AUDIT_RETENTION_DAYS`: audit entries older than this are deleted.
    pub audit_days: u32,
    /// `SMS_PER_NUMBER_PER_HOUR`: codes sent to one phone number in an hour, at most.
    pub sms_per_number: u32,
    /// `SMS_PER_HOUR`: codes sent to all numbers together in an hour, at most.
    pub sms_per_hour: u32,
    /// `SMS_ALLOWED_PREFIXES`: the E.164 beginnings a phone number for codes must have.
    pub sms_prefixes: Vec<String>,
}

/// Audit entries are kept this many days unless `AUDIT_RETENTION_DAYS` says otherwise.
pub const AUDIT_RETENTION_DEFAULT_DAYS: u32 = 400;
/// Japanese mobile numbers (070, 080, 090).
pub const SMS_PREFIXES_DEFAULT: &str = "+8170,+8180,+8190";

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub ingest: Ingest,
    pub rates: Rates,
    pub retention: Retention,
    pub alerts: Alerts,
    /// `OFFLINE_AFTER_MIN`, `OFFLINE_DAILY_AT`: when an appliance is down and when the
    /// daily re-notice goes out. The portal's オンライン/オフライン uses the same threshold.
    pub downtime: Policy,
    pub mail: Mail,
    pub sms: Sms,
    pub identity: Identity,
    /// `PEER_MIN_COMPANIES`: the fewest other companies over which 参加企業平均 is shown
    /// (`domain::peers`).
    pub peer_min_companies: u32,
    /// `OPERATOR_TOKEN`: the bootstrap operator's bearer token; empty means none.
    pub operator_token: Secret,
    /// `SESSION_SECRET`: signs session cookies and form tokens (32 bytes or more).
    pub session_secret: Secret,
    /// `TOTP_SEAL_KEY`: seals authenticator seeds (16 characters or more).
    pub totp_seal_key: Secret,
    /// `DEV_CRON_CLOCK=1`: local development only — the time-travel cron route.
    pub dev_clock: bool,
}

/// Settings read only from the platform's secrets, never from plain `[vars]`: a value put
/// in `wrangler.toml` by mistake is ignored rather than published with the code.
pub const SECRET_ONLY: [&str; 3] = ["OPERATOR_TOKEN", "SESSION_SECRET", "TOTP_SEAL_KEY"];

/// The shortest `SESSION_SECRET` that signs anything.
pub const SESSION_SECRET_MIN: usize = 32;
/// The shortest `TOTP_SEAL_KEY` that seals anything.
pub const TOTP_SEAL_KEY_MIN: usize = 16;

impl Config {
    /// Reads every setting through `lookup` (`None`: not set). Returns the config and a
    /// warning per value that was set but unusable.
    pub fn parse(lookup: impl Fn(&str) -> Option<String>) -> (Config, Vec<String>) {
        let mut warnings = Vec::new();
        let text = |key: &str| lookup(key).unwrap_or_default();
        let d = Limit::DEFAULT;
        let per_second = value(&lookup, &mut warnings, "REPORT_RATE_PER_S", d.per_second);
        let burst = value(&lookup, &mut warnings, "REPORT_BURST", d.burst);
        let mut number = |key: &str, default: i64| value(&lookup, &mut warnings, key, default);
        let retention = Retention {
            days: number("RETENTION_DAYS", i64::from(retention::DEFAULT_DAYS)).clamp(1, 3650)
                as u32,
            chunk: number("RETENTION_CHUNK", 1000).clamp(1, 100_000) as u32,
            max_chunks: number("RETENTION_MAX_CHUNKS", 20).clamp(1, 1000) as u32,
        };
        let alerts = Alerts {
            batch_window: TimeDelta::seconds(number("ALERT_BATCH_WINDOW_S", 300).max(0)),
            incident_window: TimeDelta::minutes(number("INCIDENT_WINDOW_MIN", 60).max(1)),
        };
        let hourly = TimeDelta::hours(1);
        let rates = Rates {
            enroll_device: Window::new(number("ENROLL_PER_DEVICE_PER_HOUR", 10), hourly),
            enroll_address: Window::new(number("ENROLL_PER_ADDRESS_PER_HOUR", 1000), hourly),
            api: Window::new(number("ADMIN_API_PER_MIN", 1200), TimeDelta::minutes(1)),
            accounts: Window::new(number("ACCOUNTS_ISSUED_PER_HOUR", 100), hourly),
        };
        let offline_after = TimeDelta::minutes(number("OFFLINE_AFTER_MIN", 5).max(1));
        let policy = Policy::default();
        let daily_at = match lookup("OFFLINE_DAILY_AT") {
            Some(raw) if !raw.trim().is_empty() => NaiveTime::parse_from_str(raw.trim(), "%H:%M")
                .unwrap_or_else(|_| {
                    warnings.push(format!(
                        "OFFLINE_DAILY_AT={raw:?} is not HH:MM; using 09:00"
                    ));
                    policy.daily_at
                }),
            _ => policy.daily_at,
        };
        let limit = Limit::new(per_second, burst).unwrap_or_else(|| {
            warnings.push(format!(
                "report rate {per_second}/s burst {burst} is not usable; using the default"
            ));
            d
        });
        let identity = Identity {
            audit_days: value(
                &lookup,
                &mut warnings,
                "AUDIT_RETENTION_DAYS",
                i64::from(AUDIT_RETENTION_DEFAULT_DAYS),
            )
            .clamp(1, 3650) as u32,
            sms_per_number: value(&lookup, &mut warnings, "SMS_PER_NUMBER_PER_HOUR", 5_i64)
                .clamp(1, 1000) as u32,
            sms_per_hour: value(&lookup, &mut warnings, "SMS_PER_HOUR", 100_i64).clamp(1, 1_000_000)
                as u32,
            sms_prefixes: prefixes(lookup("SMS_ALLOWED_PREFIXES"), &mut warnings),
        };
        let config = Config {
            ingest: Ingest { limit },
            rates,
            retention,
            alerts,
            downtime: Policy {
                threshold: offline_after,
                daily_at,
                ..policy
            },
            mail: Mail {
                url: text("MAIL_API_URL").trim_end_matches('/').to_owned(),
                key: Secret::new(text("MAIL_API_KEY")),
                from: text("MAIL_FROM"),
                portal: text("PUBLIC_URL").trim_end_matches('/').to_owned(),
            },
            sms: Sms {
                url: text("SMS_API_URL").trim_end_matches('/').to_owned(),
                account_sid: text("SMS_ACCOUNT_SID"),
                auth_token: Secret::new(text("SMS_AUTH_TOKEN")),
                from: text("SMS_FROM"),
            },
            identity,
            peer_min_companies: value(
                &lookup,
                &mut warnings,
                "PEER_MIN_COMPANIES",
                i64::from(crate::peers::DEFAULT_MIN_COMPANIES),
            )
            .clamp(1, 1_000_000) as u32,
            operator_token: Secret::new(text("OPERATOR_TOKEN")),
            session_secret: Secret::new(text("SESSION_SECRET")),
            totp_seal_key: Secret::new(text("TOTP_SEAL_KEY")),
            dev_clock: text("DEV_CRON_CLOCK").trim() == "1",
        };
        (config, warnings)
    }
}

/// A required setting that is missing or unusable: what depends on it (signing in, the
/// authenticator app, mail) cannot work until it is fixed. The Worker checks once per
/// isolate and names the key in its log, in `/api/v1/health` and on the portal's pages,
/// instead of answering each request with "try again later".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub key: &'static str,
    pub problem: &'static str,
}

impl Config {
    /// Every required setting that is missing or unusable, in a fixed order.
    pub fn problems(&self) -> Vec<Problem> {
        let url = |u: &str| u.starts_with("http://") || u.starts_with("https://");
        let checks = [
            (
                "SESSION_SECRET",
                self.session_secret.at_least(SESSION_SECRET_MIN).is_some(),
                "missing or shorter than 32 bytes: nobody can sign in",
            ),
            (
                "TOTP_SEAL_KEY",
                self.totp_seal_key.at_least(TOTP_SEAL_KEY_MIN).is_some(),
                "missing or shorter than 16 characters: authenticator apps cannot be used",
            ),
            (
                "MAIL_API_URL",
                url(&self.mail.url),
                "missing or not an http(s) URL: no mail can be sent",
            ),
            (
                "MAIL_FROM",
                !self.mail.from.trim().is_empty(),
                "missing: no mail can be sent",
            ),
            (
                "PUBLIC_URL",
                url(&self.mail.portal),
                "missing or not an http(s) URL: mails cannot link to the portal",
            ),
        ];
        checks
            .into_iter()
            .filter(|(_, ok, _)| !ok)
            .map(|(key, _, problem)| Problem { key, problem })
            .collect()
    }
}

/// Whether `host` (a `Host` header: name, optional port) is this machine — `127.0.0.1`,
/// `[::1]` or `localhost`. The development clock answers only there.
pub fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "127.0.0.1" | "::1" | "localhost"
    )
}

/// `SMS_ALLOWED_PREFIXES`: comma-separated beginnings of E.164 numbers (`+8190`); unset
/// or empty means Japanese mobiles, and a list with a malformed item is refused whole
/// (with a warning) for the default rather than read in part.
fn prefixes(raw: Option<String>, warnings: &mut Vec<String>) -> Vec<String> {
    let default = || SMS_PREFIXES_DEFAULT.split(',').map(str::to_owned).collect();
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return default();
    };
    let items: Vec<String> = raw.split(',').map(|p| p.trim().to_owned()).collect();
    let good = |p: &String| {
        p.len() >= 2 && p.starts_with('+') && p[1..].bytes().all(|b| b.is_ascii_digit())
    };
    if items.iter().all(good) {
        return items;
    }
    warnings.push(format!(
        "SMS_ALLOWED_PREFIXES={raw:?} is not a list like +8190,+8180; using {SMS_PREFIXES_DEFAULT}"
    ));
    default()
}

/// The setting `key` as a `T`; `default` when unset, or (with a warning) unparsable.
fn value<T: std::str::FromStr + fmt::Display + Copy>(
    lookup: &impl Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
    key: &str,
    default: T,
) -> T {
    match lookup(key) {
        Some(raw) if !raw.trim().is_empty() => raw.trim().parse().unwrap_or_else(|_| {
            warnings.push(format!("{key}={raw:?} is not a number; using {default}"));
            default
        }),
        _ => default,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> (Config, Vec<String>) {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::parse(|k| map.get(k).cloned())
    }

    #[test]
    fn nothing_set_is_every_default_and_no_dev_clock() {
        let (c, warnings) = parse(&[]);
        assert_eq!(c.ingest.limit, Limit::DEFAULT);
        assert_eq!(c.retention.days, retention::DEFAULT_DAYS);
        assert_eq!(c.alerts.batch_window, TimeDelta::seconds(300));
        assert_eq!(c.alerts.incident_window, TimeDelta::minutes(60));
        assert_eq!(
            c.downtime,
            Policy {
                threshold: TimeDelta::minutes(5),
                ..Policy::default()
            }
        );
        assert!(!c.dev_clock);
        assert_eq!(c.identity.audit_days, 400);
        assert_eq!(
            (c.identity.sms_per_number, c.identity.sms_per_hour),
            (5, 100)
        );
        assert_eq!(c.identity.sms_prefixes, ["+8170", "+8180", "+8190"]);
        assert!(c.operator_token.is_empty());
        assert!(warnings.is_empty(), "{warnings:?}");
        let missing: Vec<_> = c.problems().into_iter().map(|p| p.key).collect();
        assert_eq!(
            missing,
            [
                "SESSION_SECRET",
                "TOTP_SEAL_KEY",
                "MAIL_API_URL",
                "MAIL_FROM",
                "PUBLIC_URL"
            ]
        );
    }

    #[test]
    fn a_typo_keeps_the_default_and_says_so() {
        let (c, warnings) = parse(&[
            ("RETENTION_DAYS", "ninety"),
            ("OFFLINE_DAILY_AT", "9am"),
            ("REPORT_BURST", "0"),
            ("INCIDENT_WINDOW_MIN", "-5"),
        ]);
        assert_eq!(c.retention.days, retention::DEFAULT_DAYS);
        assert_eq!(c.downtime.daily_at, Policy::default().daily_at);
        assert_eq!(c.ingest.limit, Limit::DEFAULT);
        assert_eq!(c.alerts.incident_window, TimeDelta::minutes(1));
        for key in ["RETENTION_DAYS", "OFFLINE_DAILY_AT", "report rate"] {
            assert!(
                warnings.iter().any(|w| w.contains(key)),
                "{key}: {warnings:?}"
            );
        }
    }

    #[test]
    fn settings_are_read_trimmed_and_bounded() {
        let (c, _) = parse(&[
            ("OFFLINE_AFTER_MIN", " 10 "),
            ("OFFLINE_DAILY_AT", "07:30"),
            ("MAIL_API_URL", "http://sink/"),
            ("PUBLIC_URL", "https://portal.example/"),
            ("RETENTION_CHUNK", "0"),
            ("DEV_CRON_CLOCK", "1"),
        ]);
        assert_eq!(c.downtime.threshold, TimeDelta::minutes(10));
        assert_eq!(
            c.downtime.daily_at,
            NaiveTime::from_hms_opt(7, 30, 0).expect("time")
        );
        assert_eq!(c.mail.url, "http://sink");
        assert_eq!(c.mail.portal, "https://portal.example");
        assert_eq!(c.retention.chunk, 1);
        assert!(c.dev_clock);
    }

    #[test]
    fn rate_windows_have_defaults_and_never_turn_off() {
        let (c, _) = parse(&[]);
        assert_eq!(
            (c.rates.api.max, c.rates.api.per),
            (1200, TimeDelta::minutes(1))
        );
        assert_eq!(c.rates.accounts.max, 100);
        assert_eq!(c.rates.enroll_device.max, 10);
        assert_eq!(c.rates.enroll_address.max, 1000);
        let (c, warnings) = parse(&[
            ("ADMIN_API_PER_MIN", "0"),
            ("ENROLL_PER_DEVICE_PER_HOUR", "x"),
        ]);
        assert_eq!(c.rates.api.max, 1);
        assert_eq!(c.rates.enroll_device.max, 10);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn a_full_configuration_has_no_problems() {
        let (c, _) = parse(&[
            ("SESSION_SECRET", "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t"),
            ("TOTP_SEAL_KEY", "seal-seal-seal-seal"),
            ("MAIL_API_URL", "http://127.0.0.1:8025"),
            ("MAIL_FROM", "見守り <noreply@mimamori.example>"),
            ("PUBLIC_URL", "https://portal.example"),
        ]);
        assert_eq!(c.problems(), []);
        let (c, _) = parse(&[("SESSION_SECRET", "short"), ("MAIL_API_URL", "sink:8025")]);
        let keys: Vec<_> = c.problems().into_iter().map(|p| p.key).collect();
        assert!(keys.contains(&"SESSION_SECRET") && keys.contains(&"MAIL_API_URL"));
    }

    #[test]
    fn only_this_machine_is_a_loopback_host() {
        let cases = [
            ("127.0.0.1:8787", true),
            ("127.0.0.1", true),
            ("localhost:8787", true),
            ("LOCALHOST", true),
            ("[::1]:8787", true),
            ("mimamori.example", false),
            ("127.0.0.1.evil.example", false),
            ("localhost.example:443", false),
            ("10.0.0.1:8787", false),
            ("", false),
        ];
        for (host, want) in cases {
            assert_eq!(loopback_host(host), want, "{host}");
        }
    }

    #[test]
    fn secrets_never_print() {
        let (c, warnings) = parse(&[
            ("SESSION_SECRET", "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t"),
            ("TOTP_SEAL_KEY", "seal-seal-seal-seal"),
            ("MAIL_API_KEY", "mail-key-value"),
            ("OPERATOR_TOKEN", "op-token-value"),
        ]);
        let shown = format!("{c:?}");
        for secret in ["s3cr3t", "seal-seal", "mail-key-value", "op-token-value"] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
        assert!(shown.contains("[redacted]"));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            c.session_secret.at_least(SESSION_SECRET_MIN).map(str::len),
            Some(34)
        );
        assert_eq!(c.totp_seal_key.at_least(32), None);
    }

    #[test]
    fn sms_prefixes_are_a_list_of_number_beginnings_or_the_default() {
        let (c, warnings) = parse(&[
            ("SMS_ALLOWED_PREFIXES", " +8190, +1415 "),
            ("AUDIT_RETENTION_DAYS", "30"),
            ("SMS_PER_NUMBER_PER_HOUR", "0"),
        ]);
        assert_eq!(c.identity.sms_prefixes, ["+8190", "+1415"]);
        assert_eq!(c.identity.audit_days, 30);
        assert_eq!(c.identity.sms_per_number, 1, "at least one code");
        assert!(!warnings.iter().any(|w| w.contains("SMS_ALLOWED")));
        for bad in ["8190", "+81-90", "+8190,,+8180", "+"] {
            let (c, warnings) = parse(&[("SMS_ALLOWED_PREFIXES", bad)]);
            assert_eq!(
                c.identity.sms_prefixes,
                ["+8170", "+8180", "+8190"],
                "{bad}"
            );
            assert!(
                warnings.iter().any(|w| w.contains("SMS_ALLOWED_PREFIXES")),
                "{bad}"
            );
        }
    }
}
