//! The customer's own network, Suricata's `HOME_NET`: an address inside it is the
//! customer's, one outside it the internet's, and the direction of a threat follows from
//! which side started the connection. The default is Suricata's own default (RFC 1918)
//! plus what is on a LAN by construction: IPv6 unique-local and link-local addresses and
//! loopback. `--home-net` replaces it with the networks an appliance really protects.

use std::net::IpAddr;
use std::str::FromStr;

use domain::report::Direction;

/// One network, `address/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    base: IpAddr,
    prefix: u8,
}

impl Net {
    fn contains(self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> (u128, u8) {
            match ip {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
                IpAddr::V6(v6) => (u128::from(v6), 128),
            }
        };
        let ((base, width), (addr, addr_width)) = (bits(self.base), bits(ip));
        if width != addr_width {
            return false;
        }
        let host_bits = u32::from(width - self.prefix);
        let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
        (base & mask) == (addr & mask)
    }
}

impl FromStr for Net {
    type Err = String;

    fn from_str(s: &str) -> Result<Net, String> {
        let (ip, prefix) = s.split_once('/').unwrap_or((s, ""));
        let base: IpAddr = ip
            .trim()
            .parse()
            .map_err(|_| format!("{s}: not an IP address"))?;
        let width = if base.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            width
        } else {
            prefix
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| format!("{s}: the prefix must be 0 to {width}"))?
        };
        Ok(Net { base, prefix })
    }
}

/// The networks that are the customer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeNet(Vec<Net>);

impl Default for HomeNet {
    fn default() -> HomeNet {
        HomeNet::parse(
            "192.168.0.0/16,10.0.0.0/8,172.16.0.0/12,169.254.0.0/16,127.0.0.0/8,fc00::/7,fe80::/10,::1/128",
        )
        .expect("the default networks parse")
    }
}

impl HomeNet {
    /// `10.0.0.0/8,192.168.1.0/24,fd00::/8`; Suricata's `[…]` brackets are allowed.
    pub fn parse(s: &str) -> Result<HomeNet, String> {
        let nets = s
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .filter(|n| !n.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Net>, String>>()?;
        if nets.is_empty() {
            return Err("name at least one network".to_owned());
        }
        Ok(HomeNet(nets))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// From the customer's side: home to elsewhere is outbound, elsewhere to home inbound,
    /// home to home internal. Elsewhere to elsewhere (or unknown) is taken as inbound:
    /// traffic to the appliance's own WAN address.
    pub fn direction(&self, from: Option<IpAddr>, to: Option<IpAddr>) -> Direction {
        match (
            from.map(|ip| self.contains(ip)),
            to.map(|ip| self.contains(ip)),
        ) {
            (Some(true), Some(true)) => Direction::Internal,
            (Some(true), _) => Direction::Outbound,
            _ => Direction::Inbound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[track_caller]
    fn check(home: &HomeNet, from: &str, to: &str, expected: Direction) {
        assert_eq!(
            home.direction(Some(ip(from)), Some(ip(to))),
            expected,
            "{from} -> {to}"
        );
    }

    #[test]
    fn by_default_private_addresses_are_home() {
        let home = HomeNet::default();
        check(&home, "192.168.1.23", "203.0.113.9", Direction::Outbound);
        check(&home, "10.0.0.5", "2001:db8::1", Direction::Outbound);
        check(&home, "198.51.100.7", "172.16.3.4", Direction::Inbound);
        check(&home, "198.51.100.7", "172.32.0.1", Direction::Inbound);
        check(&home, "fd12:3456::1", "192.168.1.1", Direction::Internal);
        check(&home, "fe80::1", "fd00::2", Direction::Internal);
        check(&home, "2001:db8::7", "fd00::2", Direction::Inbound);
        check(&home, "198.51.100.7", "203.0.113.10", Direction::Inbound);
        check(
            &home,
            "fe80:0000:0000:0000:0200:86ff:fe05:80da",
            "ff02:0000:0000:0000:0000:0000:0001:0002",
            Direction::Outbound,
        );
        assert_eq!(home.direction(None, None), Direction::Inbound);
    }

    #[test]
    fn a_given_home_net_decides_what_is_inside() {
        let home = HomeNet::parse("[192.168.10.0/24, 2001:db8:1::/48]").unwrap();
        check(&home, "192.168.50.30", "192.168.10.50", Direction::Inbound);
        check(&home, "192.168.10.50", "192.168.50.30", Direction::Outbound);
        check(&home, "2001:db8:1::5", "192.168.10.9", Direction::Internal);
        check(&home, "10.0.0.1", "10.0.0.2", Direction::Inbound);
        let all = HomeNet::parse("0.0.0.0/0").unwrap();
        check(&all, "1.1.1.1", "2.2.2.2", Direction::Internal);
    }

    #[test]
    fn a_bad_network_is_refused_with_what_is_wrong() {
        assert!(HomeNet::parse("").is_err());
        assert!(
            HomeNet::parse("10.0.0.0/33")
                .unwrap_err()
                .contains("0 to 32")
        );
        assert!(
            HomeNet::parse("intranet")
                .unwrap_err()
                .contains("not an IP")
        );
        assert_eq!(
            HomeNet::parse("10.1.2.3").unwrap(),
            HomeNet(vec![Net {
                base: ip("10.1.2.3"),
                prefix: 32
            }])
        );
    }
}
