//! The filters of 検知履歴 (/alerts) as a URL carries them: `severity=high|medium|low|
//! investigating`, `function=`, `action=` (the wire names), `device=<appliance id>`,
//! `host=<IP or MAC>` and the page cursor `after=`. An empty value filters nothing; any
//! other value that is not one of these is refused with a Japanese message (the page
//! answers 400 and keeps the form), never guessed at. A host is compared in the form the
//! store keeps it: the IP address as Rust writes it (`2001:db8::1`), a MAC in lowercase.

use std::net::IpAddr;

use crate::device::DeviceId;
use crate::page::Cursor;
use crate::report::{Action, Function, Mac};
use crate::severity::Severity;

/// The query values as sent (`None` when absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent<'a> {
    pub severity: Option<&'a str>,
    pub function: Option<&'a str>,
    pub action: Option<&'a str>,
    pub device: Option<&'a str>,
    pub host: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// The filters chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chosen {
    pub severity: Option<Severity>,
    pub function: Option<Function>,
    pub action: Option<Action>,
    pub device: Option<DeviceId>,
    /// As stored: a normalised IP address or a lowercase MAC.
    pub host: Option<String>,
    pub after: Option<Cursor>,
}

/// Which value was refused; `Display` is the message the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("重要度の指定が正しくありません。一覧から選んでください。")]
    Severity,
    #[error("機能の指定が正しくありません。一覧から選んでください。")]
    Function,
    #[error("UTM装置の対応の指定が正しくありません。一覧から選んでください。")]
    Action,
    #[error("UTM装置の指定が正しくありません。一覧から選んでください。")]
    Device,
    #[error(
        "端末はIPアドレス（例: 192.168.1.10）かMACアドレス（例: 00:11:22:33:44:55）で入力してください。"
    )]
    Host,
    #[error("ページの指定が正しくありません。最初のページから開き直してください。")]
    After,
}

/// The longest host value looked at (an IPv6 address with a zone is shorter).
const HOST_CHARS: usize = 64;

/// The filters of `sent`, or the first value refused.
pub fn parse(sent: Sent<'_>) -> Result<Chosen, FilterError> {
    fn given(v: Option<&str>) -> Option<&str> {
        v.map(str::trim).filter(|v| !v.is_empty())
    }
    fn one<T>(
        v: Option<&str>,
        parse: impl Fn(&str) -> Option<T>,
        e: FilterError,
    ) -> Result<Option<T>, FilterError> {
        given(v).map(|v| parse(v).ok_or(e)).transpose()
    }
    Ok(Chosen {
        severity: one(sent.severity, Severity::parse, FilterError::Severity)?,
        function: one(sent.function, Function::parse, FilterError::Function)?,
        action: one(sent.action, Action::parse, FilterError::Action)?,
        device: one(
            sent.device,
            |v| DeviceId::parse(v).ok(),
            FilterError::Device,
        )?,
        host: one(sent.host, host, FilterError::Host)?,
        after: one(sent.after, |v| Cursor::parse(v).ok(), FilterError::After)?,
    })
}

/// A typed host in its stored form.
fn host(v: &str) -> Option<String> {
    let v = crate::bounds::within(v, HOST_CHARS)?;
    if let Ok(ip) = v.parse::<IpAddr>() {
        return Some(ip.to_string());
    }
    Mac::parse(v).ok().map(|m| m.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_absent_values_filter_nothing() {
        let blank = Sent {
            severity: Some(""),
            function: Some(" "),
            host: Some(""),
            ..Sent::default()
        };
        assert_eq!(parse(blank), Ok(Chosen::default()));
        assert_eq!(parse(Sent::default()), Ok(Chosen::default()));
    }

    #[test]
    fn known_values_are_read_in_their_stored_form() {
        let sent = Sent {
            severity: Some("investigating"),
            function: Some("ips"),
            action: Some("blocked"),
            host: Some("2001:DB8:0:0::1"),
            after: Some("1764583140000.42"),
            ..Sent::default()
        };
        let c = parse(sent).unwrap();
        assert_eq!(c.severity, Some(Severity::Investigating));
        assert_eq!(c.function, Some(Function::Ips));
        assert_eq!(c.action, Some(Action::Blocked));
        assert_eq!(c.host.as_deref(), Some("2001:db8::1"));
        assert_eq!(c.after.map(|a| a.id()), Some(42));
        let mac = Sent {
            host: Some("00:1A:2B:3C:4D:5E"),
            ..Sent::default()
        };
        assert_eq!(
            parse(mac).unwrap().host.as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
    }

    #[test]
    fn anything_else_is_refused_by_name() {
        let cases = [
            (
                Sent {
                    severity: Some("critical"),
                    ..Sent::default()
                },
                FilterError::Severity,
            ),
            (
                Sent {
                    function: Some("<script>"),
                    ..Sent::default()
                },
                FilterError::Function,
            ),
            (
                Sent {
                    action: Some("allowed"),
                    ..Sent::default()
                },
                FilterError::Action,
            ),
            (
                Sent {
                    device: Some("../x"),
                    ..Sent::default()
                },
                FilterError::Device,
            ),
            (
                Sent {
                    host: Some("pc-01"),
                    ..Sent::default()
                },
                FilterError::Host,
            ),
            (
                Sent {
                    after: Some("tomorrow"),
                    ..Sent::default()
                },
                FilterError::After,
            ),
        ];
        for (sent, e) in cases {
            assert_eq!(parse(sent), Err(e), "{sent:?}");
        }
        let long = "1".repeat(10_000);
        let sent = Sent {
            host: Some(&long),
            ..Sent::default()
        };
        assert_eq!(parse(sent), Err(FilterError::Host));
    }
}
