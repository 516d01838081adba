//! Usage: which web categories and applications each LAN client used, summed per hour.
//! One hit per `http` or `tls` transaction for the client on the home-network side, named
//! after a known application (zoom, line, …) or else a web category looked up from the
//! host name ("other" when unknown); `dns` queries count only when they name a known
//! application, since a visit is already counted by its http/tls record.
//!
//! Record ids are made from the hour as logged (the hour minus the `--replay` shift), so
//! replaying a file again stores nothing twice.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use domain::report::{Endpoint, Id, MAX_AGE, Mac, UsageEvent, UsageKind};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::home::HomeNet;
use super::mapping::{SAFETY, Skip, client};
use crate::simulate::hex;

/// An hour of usage is closed this long after it ended, for transactions logged late.
pub const GRACE: TimeDelta = TimeDelta::minutes(1);

/// One hit of usage, before it is summed into its hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub at: DateTime<Utc>,
    /// How far `at` was moved from the logged time (`--replay`; whole hours).
    pub shift: TimeDelta,
    pub client: IpAddr,
    pub mac: Option<Mac>,
    pub kind: UsageKind,
    pub name: String,
    pub bytes: u64,
}

/// The usage one `http`, `tls` or `dns` record counts for.
pub fn observe(
    v: &Value,
    event_type: &str,
    at: DateTime<Utc>,
    shift: TimeDelta,
    home: &HomeNet,
) -> Result<Observation, Skip> {
    let (host, bytes) = match event_type {
        "http" => {
            let http = v.get("http").ok_or(Skip::MissingField("http"))?;
            let host = http
                .get("hostname")
                .and_then(Value::as_str)
                .ok_or(Skip::MissingField("http.hostname"))?;
            (
                host,
                http.get("length").and_then(Value::as_u64).unwrap_or(0),
            )
        }
        "tls" => {
            let sni = v
                .pointer("/tls/sni")
                .and_then(Value::as_str)
                .ok_or(Skip::MissingField("tls.sni"))?;
            (sni, 0)
        }
        _ => {
            let dns = v.get("dns").ok_or(Skip::MissingField("dns"))?;
            if !matches!(
                dns.get("type").and_then(Value::as_str),
                Some("query" | "request")
            ) {
                return Err(Skip::DnsAnswer);
            }
            let name = dns
                .get("rrname")
                .or_else(|| dns.pointer("/queries/0/rrname"))
                .and_then(Value::as_str)
                .ok_or(Skip::MissingField("dns.rrname"))?;
            (name, 0)
        }
    };
    let (kind, name) = classify(host);
    if event_type == "dns" && kind != UsageKind::Application {
        return Err(Skip::DnsNotAnApplication);
    }
    let (client, mac) = client(v, home).ok_or(Skip::NoInternalClient)?;
    Ok(Observation {
        at,
        shift,
        client,
        mac,
        kind,
        name: name.to_owned(),
        bytes,
    })
}

/// Applications first (a Teams call is not "business" browsing), then web categories.
const APPLICATIONS: &[(&str, &str)] = &[
    ("zoom.us", "zoom"),
    ("zoom.com", "zoom"),
    ("line.me", "line"),
    ("line-apps.com", "line"),
    ("line-scdn.net", "line"),
    ("dropbox.com", "dropbox"),
    ("dropboxapi.com", "dropbox"),
    ("teams.microsoft.com", "teams"),
    ("slack.com", "slack"),
    ("chatwork.com", "chatwork"),
    ("whatsapp.net", "whatsapp"),
];

const WEB_CATEGORIES: &[(&str, &str)] = &[
    ("youtube.com", "video"),
    ("googlevideo.com", "video"),
    ("nicovideo.jp", "video"),
    ("netflix.com", "video"),
    ("abema.tv", "video"),
    ("tver.jp", "video"),
    ("twitter.com", "sns"),
    ("x.com", "sns"),
    ("twimg.com", "sns"),
    ("instagram.com", "sns"),
    ("facebook.com", "sns"),
    ("tiktok.com", "sns"),
    ("yahoo.co.jp", "news"),
    ("nhk.or.jp", "news"),
    ("nikkei.com", "news"),
    ("asahi.com", "news"),
    ("amazon.co.jp", "shopping"),
    ("rakuten.co.jp", "shopping"),
    ("mercari.com", "shopping"),
    ("google.com", "search"),
    ("bing.com", "search"),
    ("office.com", "business"),
    ("microsoft.com", "business"),
    ("github.com", "it"),
];

/// The usage a host name counts towards.
pub fn classify(host: &str) -> (UsageKind, &'static str) {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host = host.split(':').next().unwrap_or("");
    let matches = |suffix: &str| {
        host == suffix
            || host
                .strip_suffix(suffix)
                .is_some_and(|rest| rest.ends_with('.'))
    };
    if let Some((_, app)) = APPLICATIONS.iter().find(|(s, _)| matches(s)) {
        return (UsageKind::Application, app);
    }
    let category = WEB_CATEGORIES
        .iter()
        .find(|(s, _)| matches(s))
        .map_or("other", |(_, c)| c);
    (UsageKind::WebCategory, category)
}

/// Usage summed per hour, client and name until the hour is closed.
#[derive(Debug, Default)]
pub struct Usage {
    open: BTreeMap<(DateTime<Utc>, IpAddr, &'static str, String), Tally>,
    /// How often each key was already emitted in this run, so a late transaction for a
    /// closed hour becomes a new record instead of a "duplicate" the cloud would drop.
    parts: HashMap<(DateTime<Utc>, IpAddr, &'static str, String), u32>,
}

#[derive(Debug)]
struct Tally {
    kind: UsageKind,
    hits: u64,
    bytes: u64,
    mac: Option<Mac>,
    /// The `--replay` shift of the hour: ids are made from the hour as logged.
    shift: TimeDelta,
}

impl Usage {
    pub fn add(&mut self, o: Observation) {
        let hour = DateTime::from_timestamp(o.at.timestamp().div_euclid(3600) * 3600, 0)
            .expect("an hour within chrono's range");
        let tally = self
            .open
            .entry((hour, o.client, o.kind.as_str(), o.name))
            .or_insert(Tally {
                kind: o.kind,
                hits: 0,
                bytes: 0,
                mac: None,
                shift: o.shift,
            });
        tally.hits += 1;
        tally.bytes = tally.bytes.saturating_add(o.bytes);
        if o.mac.is_some() {
            tally.mac = o.mac;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Records for the hours that ended at least [`GRACE`] before `latest`, the newest
    /// time seen in the log.
    pub fn close_before(&mut self, latest: DateTime<Utc>, now: DateTime<Utc>) -> Vec<UsageEvent> {
        let closed: Vec<_> = self
            .open
            .keys()
            .filter(|(hour, ..)| *hour + TimeDelta::hours(1) + GRACE <= latest)
            .cloned()
            .collect();
        closed
            .into_iter()
            .filter_map(|key| self.emit(key, now))
            .collect()
    }

    /// Records for every hour, the current one ending now: at the end of the file.
    pub fn close_all(&mut self, now: DateTime<Utc>) -> Vec<UsageEvent> {
        let keys: Vec<_> = self.open.keys().cloned().collect();
        keys.into_iter()
            .filter_map(|key| self.emit(key, now))
            .collect()
    }

    fn emit(
        &mut self,
        key: (DateTime<Utc>, IpAddr, &'static str, String),
        now: DateTime<Utc>,
    ) -> Option<UsageEvent> {
        let tally = self.open.remove(&key)?;
        let part = self.parts.entry(key.clone()).or_insert(0);
        *part += 1;
        let (hour, client, kind, name) = key;
        let hash = hex(&Sha256::digest(
            format!(
                "{}|{client}|{kind}|{name}|{part}",
                (hour - tally.shift).timestamp()
            )
            .as_bytes(),
        ));
        // api-v1 accepts periods inside the last 7 days and not in the future.
        let period_start = hour.max(now - MAX_AGE + SAFETY);
        let period_end = (hour + TimeDelta::hours(1)).min(now);
        (period_start < period_end).then(|| UsageEvent {
            event_id: Id::parse(&format!("u-{}", &hash[..32])).expect("hex fits"),
            period_start,
            period_end,
            kind: tally.kind,
            name,
            hits: tally.hits,
            bytes: tally.bytes,
            client: Some(Endpoint {
                ip: Some(client),
                port: None,
                mac: tally.mac,
            }),
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{DateTime, TimeDelta, Utc};
    use domain::report::{MAX_AGE, UsageKind};

    use super::*;
    use crate::eve::parse_timestamp;

    fn at(s: &str) -> DateTime<Utc> {
        parse_timestamp(s).unwrap()
    }

    #[track_caller]
    fn check_classify(host: &str, kind: UsageKind, name: &str) {
        assert_eq!(classify(host), (kind, name), "{host}");
    }

    #[test]
    fn hosts_are_classified_by_suffix_applications_first() {
        check_classify("zoom.us", UsageKind::Application, "zoom");
        check_classify("US04WEB.ZOOM.US.", UsageKind::Application, "zoom");
        check_classify("teams.microsoft.com", UsageKind::Application, "teams");
        check_classify("www.microsoft.com", UsageKind::WebCategory, "business");
        check_classify(
            "rr3---sn-ogueln7k.googlevideo.com",
            UsageKind::WebCategory,
            "video",
        );
        check_classify("news.yahoo.co.jp:80", UsageKind::WebCategory, "news");
        check_classify("notyoutube.com", UsageKind::WebCategory, "other");
        check_classify("x.com", UsageKind::WebCategory, "sns");
        check_classify("box.com", UsageKind::WebCategory, "other");
    }

    pub(crate) fn obs(at_: &str, client: &str, name: &str, bytes: u64) -> Observation {
        Observation {
            at: at(at_),
            shift: TimeDelta::zero(),
            client: client.parse().unwrap(),
            mac: None,
            kind: UsageKind::WebCategory,
            name: name.into(),
            bytes,
        }
    }

    #[test]
    fn usage_is_summed_per_hour_client_and_name() {
        let mut usage = Usage::default();
        usage.add(obs("2026-11-25T09:10:00+09:00", "192.168.1.2", "sns", 100));
        usage.add(obs("2026-11-25T09:59:59+09:00", "192.168.1.2", "sns", 50));
        usage.add(obs("2026-11-25T09:20:00+09:00", "192.168.1.3", "sns", 1));
        usage.add(obs("2026-11-25T09:30:00+09:00", "192.168.1.2", "news", 1));
        usage.add(obs("2026-11-25T10:00:00+09:00", "192.168.1.2", "sns", 7));
        let now = at("2026-11-25T10:30:00+09:00");
        let closed = usage.close_before(at("2026-11-25T10:01:00+09:00"), now);
        assert_eq!(closed.len(), 3);
        let sns = closed
            .iter()
            .find(|u| {
                u.name == "sns"
                    && u.client.as_ref().unwrap().ip == Some("192.168.1.2".parse().unwrap())
            })
            .unwrap();
        assert_eq!((sns.hits, sns.bytes), (2, 150));
        assert_eq!(sns.period_start, at("2026-11-25T09:00:00+09:00"));
        assert_eq!(sns.period_end, at("2026-11-25T10:00:00+09:00"));
        let rest = usage.close_all(now);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].period_end, now, "the open hour ends now");
        assert!(usage.is_empty());
    }

    #[test]
    fn an_hour_stays_open_for_a_minute_of_grace() {
        let mut usage = Usage::default();
        usage.add(obs("2026-11-25T09:10:00+09:00", "192.168.1.2", "sns", 1));
        let now = at("2026-11-25T10:30:00+09:00");
        assert!(
            usage
                .close_before(at("2026-11-25T10:00:59+09:00"), now)
                .is_empty()
        );
        assert_eq!(
            usage
                .close_before(at("2026-11-25T10:01:00+09:00"), now)
                .len(),
            1
        );
    }

    #[test]
    fn a_late_transaction_for_a_closed_hour_gets_a_record_of_its_own() {
        let mut usage = Usage::default();
        let now = at("2026-11-25T10:30:00+09:00");
        usage.add(obs("2026-11-25T09:10:00+09:00", "192.168.1.2", "sns", 1));
        let first = usage.close_all(now);
        usage.add(obs("2026-11-25T09:50:00+09:00", "192.168.1.2", "sns", 1));
        let late = usage.close_all(now);
        assert_ne!(first[0].event_id, late[0].event_id);
        let mut again = Usage::default();
        again.add(obs("2026-11-25T09:10:00+09:00", "192.168.1.2", "sns", 1));
        assert_eq!(
            again.close_all(now)[0].event_id,
            first[0].event_id,
            "stable across runs"
        );
    }

    #[test]
    fn replays_shifted_by_different_whole_hours_give_the_same_usage_ids() {
        let now = at("2026-11-25T10:30:00+09:00");
        let logged = obs("2026-11-20T09:10:00+09:00", "192.168.1.2", "sns", 1);
        let ids: Vec<_> = [120, 121, 125]
            .into_iter()
            .map(|hours| {
                let shift = TimeDelta::hours(hours);
                let mut usage = Usage::default();
                usage.add(Observation {
                    at: logged.at + shift,
                    shift,
                    ..logged.clone()
                });
                usage.close_all(now + TimeDelta::hours(10))[0]
                    .event_id
                    .clone()
            })
            .collect();
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    }

    #[test]
    fn a_usage_hour_that_began_before_the_window_starts_at_the_window() {
        let mut usage = Usage::default();
        let now = at("2026-11-25T10:30:00+09:00");
        usage.add(obs("2026-11-18T10:50:00+09:00", "192.168.1.2", "sns", 1));
        let u = &usage.close_all(now)[0];
        assert_eq!(u.period_start, now - MAX_AGE + SAFETY);
        assert_eq!(u.period_end, at("2026-11-18T11:00:00+09:00"));
    }
}
