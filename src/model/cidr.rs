//! One address-block type for every place that matches client addresses: `--ip` pivots of
//! `blast` and the Sigma `cidr` modifier.
//!
//! Addresses are compared as IPv6: an IPv4 address or block is its IPv4-mapped form
//! (`::ffff:203.0.113.0/120` for `203.0.113.0/24`), so `203.0.113.0/24` matches a listener that
//! logs `::ffff:203.0.113.66` (dual-stack sockets do), and the other way round.
//! `remote_address` may carry a port (`10.0.0.1:8200`, `[::1]:8200`).

use std::net::{IpAddr, Ipv6Addr};

/// Why a text is not an address block.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// The part before any `/` is not an IP address.
    #[error("{0:?} is not an IP address or range such as 10.0.0.0/8 or fd00::/8")]
    Address(String),
    /// The prefix length is not a number up to the address width.
    #[error("bad prefix length in {text:?} (at most /{max})")]
    Prefix {
        /// The text as given.
        text: String,
        /// 32 for IPv4, 128 for IPv6.
        max: u8,
    },
}

/// An IPv4 or IPv6 address block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    /// The network as an IPv6 number (IPv4 mapped).
    net: u128,
    /// Prefix length over the 128 bits.
    bits: u8,
}

impl Cidr {
    /// Parses `203.0.113.66`, `203.0.113.0/24`, `2001:db8::/32` or `[2001:db8::1]`.
    pub fn parse(s: &str) -> Result<Cidr, CidrError> {
        let t = s.trim();
        let (addr, bits) = match t.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (t, None),
        };
        let ip: IpAddr = addr
            .trim_matches(['[', ']'])
            .parse()
            .map_err(|_| CidrError::Address(s.to_string()))?;
        let (net, max, offset) = match ip {
            IpAddr::V4(v4) => (u128::from(v4.to_ipv6_mapped()), 32u8, 96u8),
            IpAddr::V6(v6) => (u128::from(v6), 128, 0),
        };
        let bits = match bits {
            Some(b) => {
                b.parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| CidrError::Prefix {
                        text: s.to_string(),
                        max,
                    })?
            }
            None => max,
        };
        Ok(Cidr {
            net,
            bits: bits + offset,
        })
    }

    /// True when `remote_address` (with or without a port) is inside the block.
    pub fn contains(&self, remote_address: &str) -> bool {
        let Some(ip) = parse_host(remote_address) else {
            return false;
        };
        let addr = match ip {
            IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
            IpAddr::V6(v6) => u128::from(v6),
        };
        prefix_eq(self.net, addr, self.bits)
    }
}

fn prefix_eq(a: u128, b: u128, bits: u8) -> bool {
    if bits == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - u32::from(bits));
    a & mask == b & mask
}

/// An address, with or without a port (`10.0.0.1:8200`, `[::1]:8200`).
fn parse_host(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest
            .split_once(']')?
            .0
            .parse::<Ipv6Addr>()
            .ok()
            .map(IpAddr::V6);
    }
    let (host, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_blocks_match_ipv4_mapped_ipv6_and_back() {
        let v4 = Cidr::parse("203.0.113.0/24").unwrap();
        for hit in [
            "203.0.113.66",
            "203.0.113.66:4242",
            "::ffff:203.0.113.66",
            "[::ffff:203.0.113.66]:8200",
        ] {
            assert!(v4.contains(hit), "{hit}");
        }
        for miss in [
            "203.0.114.1",
            "::ffff:203.0.114.1",
            "2001:db8::1",
            "nope",
            "",
        ] {
            assert!(!v4.contains(miss), "{miss}");
        }
        let mapped = Cidr::parse("::ffff:203.0.113.0/120").unwrap();
        assert!(mapped.contains("203.0.113.7") && !mapped.contains("203.0.112.7"));
    }

    #[test]
    fn ipv6_blocks_single_addresses_and_errors() {
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("[2001:db8::10]:36778") && v6.contains("2001:db8::1"));
        assert!(!v6.contains("2001:db9::1") && !v6.contains("10.0.0.1"));
        let one = Cidr::parse("203.0.113.66").unwrap();
        assert!(one.contains("203.0.113.66") && !one.contains("203.0.113.67"));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("::ffff:1.2.3.4"));
        assert!(!Cidr::parse("0.0.0.0/0").unwrap().contains("2001:db8::1"));
        assert_eq!(Cidr::parse("nope"), Err(CidrError::Address("nope".into())));
        assert_eq!(
            Cidr::parse("10.0.0.0/33"),
            Err(CidrError::Prefix {
                text: "10.0.0.0/33".into(),
                max: 32
            })
        );
        assert!(matches!(
            Cidr::parse("::/129"),
            Err(CidrError::Prefix { max: 128, .. })
        ));
        assert_eq!(
            CidrError::Address("nope".into()).to_string(),
            "\"nope\" is not an IP address or range such as 10.0.0.0/8 or fd00::/8"
        );
    }
}
