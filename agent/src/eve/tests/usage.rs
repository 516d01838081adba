//! Web, TLS and DNS records as usage of the LAN client (`eve::usage`), line by line.

use super::*;

fn usage_line(event_type: &str, extra: Value) -> Value {
    let mut v = json!({"timestamp": "2026-11-25T09:40:11.5+0900", "event_type": event_type,
        "src_ip": "192.168.1.31", "src_port": 50001, "dest_ip": "192.0.2.10", "dest_port": 443,
        "proto": "TCP", "ether": {"src_mac": "f0:18:98:5a:11:0c"}});
    merge(&mut v, extra);
    v
}

#[track_caller]
fn observation(v: &Value) -> Observation {
    match map(&v.to_string()) {
        Mapped::Usage(o) => o,
        other => panic!("expected usage, got {other:?}"),
    }
}

#[test]
fn http_tls_and_dns_become_usage_of_the_lan_client() {
    let http = observation(&usage_line(
        "http",
        json!({"http": {"hostname": "www3.nhk.or.jp", "length": 48213}}),
    ));
    assert_eq!(
        (http.kind, http.name.as_str(), http.bytes),
        (UsageKind::WebCategory, "news", 48213)
    );
    assert_eq!(http.client, "192.168.1.31".parse::<IpAddr>().unwrap());
    assert_eq!(http.mac.unwrap().as_str(), "f0:18:98:5a:11:0c");
    let tls = observation(&usage_line(
        "tls",
        json!({"tls": {"sni": "d.line-apps.com"}}),
    ));
    assert_eq!(
        (tls.kind, tls.name.as_str()),
        (UsageKind::Application, "line")
    );
    let dns = observation(&usage_line(
        "dns",
        json!({"dns": {"type": "query", "rrname": "zoom.us"}}),
    ));
    assert_eq!(
        (dns.kind, dns.name.as_str()),
        (UsageKind::Application, "zoom")
    );
    let v3 = observation(&usage_line(
        "dns",
        json!({"dns": {"type": "request", "queries": [{"rrname": "slack.com"}]}}),
    ));
    assert_eq!(v3.name, "slack");
}

#[test]
fn the_client_is_the_private_side_whichever_way_the_record_points() {
    let v = usage_line(
        "tls",
        json!({"src_ip": "192.0.2.10", "dest_ip": "192.168.1.57",
        "ether": {"src_mac": null, "dest_mac": "a4:5e:60:c2:9d:17"}, "tls": {"sni": "x.com"}}),
    );
    let o = observation(&v);
    assert_eq!(o.client, "192.168.1.57".parse::<IpAddr>().unwrap());
    assert_eq!(o.mac.unwrap().as_str(), "a4:5e:60:c2:9d:17");
    let public = usage_line(
        "tls",
        json!({"src_ip": "198.51.100.1", "tls": {"sni": "x.com"}}),
    );
    assert_eq!(skipped(&public), Skip::NoInternalClient);
}

#[test]
fn dns_answers_and_lookups_of_websites_are_not_usage() {
    let answer = usage_line(
        "dns",
        json!({"dns": {"type": "answer", "rrname": "zoom.us"}}),
    );
    assert_eq!(skipped(&answer), Skip::DnsAnswer);
    let site = usage_line(
        "dns",
        json!({"dns": {"type": "query", "rrname": "www.google.com"}}),
    );
    assert_eq!(skipped(&site), Skip::DnsNotAnApplication);
    let no_sni = usage_line("tls", json!({"tls": {"version": "TLS 1.3"}}));
    assert_eq!(skipped(&no_sni), Skip::MissingField("tls.sni"));
}
