//! Which IP addresses a callback may reach: the rule against server-side request forgery.
//!
//! Two kinds of address are refused. Some are never a receiver at all — unspecified,
//! multicast, broadcast, reserved, and the cloud metadata endpoints, which hand out
//! credentials to whoever asks from inside. The others are private networks — loopback,
//! RFC 1918, link-local, shared address space (CGNAT), unique local IPv6, documentation and
//! benchmarking ranges — refused unless the operator allows private networks (an on-premise
//! receiver, a test on 127.0.0.1).
//!
//! An IPv6 address that carries an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, the
//! deprecated IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is judged
//! by the IPv4 address inside it, since that is where the packets end up.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Never a receiver, whatever the configuration.
    Never(&'static str),
    /// On a private network: allowed only when private networks are.
    Private(&'static str),
}

/// The address rule in force.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressRule {
    /// Lifts the [`Refusal::Private`] refusals.
    pub allow_private_networks: bool,
}

impl AddressRule {
    /// # Errors
    /// What kind of address `ip` is, when the rule refuses it.
    pub fn check(self, ip: IpAddr) -> Result<(), &'static str> {
        match refusal(ip) {
            None => Ok(()),
            Some(Refusal::Private(_)) if self.allow_private_networks => Ok(()),
            Some(Refusal::Never(kind) | Refusal::Private(kind)) => Err(kind),
        }
    }
}

/// Why `ip` is refused, or `None` for a public unicast address.
pub fn refusal(ip: IpAddr) -> Option<Refusal> {
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4),
        IpAddr::V6(v6) => refusal_v6(v6),
    }
}

fn refusal_v4(ip: Ipv4Addr) -> Option<Refusal> {
    use Refusal::{Never, Private};
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => Never("a cloud metadata endpoint"),
        _ if ip.is_broadcast() => Never("broadcast"),
        (0, _, _) => Never("unspecified (this network)"),
        (224..=239, _, _) => Never("multicast"),
        (240..=255, _, _) => Never("reserved"),
        (127, _, _) => Private("loopback"),
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => Private("private"),
        (100, 64..=127, _) => Private("shared address space (CGNAT)"),
        (169, 254, _) => Private("link-local"),
        (192, 0, 0) => Private("IETF protocol assignments"),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Private("documentation"),
        (198, 18..=19, _) => Private("benchmarking"),
        _ => return None,
    })
}

fn refusal_v6(ip: Ipv6Addr) -> Option<Refusal> {
    use Refusal::{Never, Private};
    if let Some(v4) = embedded_v4(ip) {
        return refusal_v4(v4);
    }
    let segments = ip.segments();
    Some(match segments {
        _ if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254) => {
            Never("a cloud metadata endpoint")
        }
        _ if ip.is_unspecified() => Never("unspecified"),
        _ if ip.is_loopback() => Private("loopback"),
        [first, ..] if first & 0xff00 == 0xff00 => Never("multicast"),
        [first, ..] if first & 0xfe00 == 0xfc00 => Private("unique local"),
        [first, ..] if first & 0xffc0 == 0xfe80 => Private("link-local"),
        [first, ..] if first & 0xffc0 == 0xfec0 => Private("site-local"),
        [0x2001, 0x0db8, ..] => Private("documentation"),
        [0x0100, 0, 0, 0, ..] => Never("discard-only"),
        [0x0064, 0xff9b, 0x0001, ..] => Private("local-use NAT64"),
        // Teredo hides its IPv4 address (obfuscated); nothing to judge it by.
        [0x2001, 0x0000, ..] => Never("a Teredo tunnel"),
        _ => return None,
    })
}

/// The IPv4 address an IPv6 address carries, for the forms that route to it.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        // IPv4-mapped ::ffff:a.b.c.d
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(low(hi, lo)),
        // IPv4-compatible ::a.b.c.d (deprecated), but not :: and ::1.
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 => Some(low(hi, lo)),
        // NAT64, the well-known prefix 64:ff9b::/96.
        [0x0064, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        // 6to4 2002:aabb:ccdd::/48.
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> Option<Refusal> {
        refusal(ip.parse().unwrap())
    }

    fn private(ip: &str) -> bool {
        matches!(refused(ip), Some(Refusal::Private(_)))
    }

    fn never(ip: &str) -> bool {
        matches!(refused(ip), Some(Refusal::Never(_)))
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "169.253.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ] {
            assert_eq!(refused(ip), None, "{ip}");
        }
    }

    #[test]
    fn ipv4_private_networks_are_private() {
        for ip in [
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "169.254.1.1",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "198.19.255.255",
        ] {
            assert!(private(ip), "{ip}: {:?}", refused(ip));
        }
    }

    #[test]
    fn ipv4_addresses_that_are_never_receivers_are_never_allowed() {
        for ip in [
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "239.255.255.255",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(never(ip), "{ip}: {:?}", refused(ip));
        }
    }

    #[test]
    fn ipv6_private_and_never_addresses_are_refused() {
        for ip in [
            "::1",
            "fc00::1",
            "fdff:ffff::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "2001:db8::1",
            "64:ff9b:1::1",
        ] {
            assert!(private(ip), "{ip}: {:?}", refused(ip));
        }
        for ip in [
            "::",
            "ff02::1",
            "ff0e::1",
            "fd00:ec2::254",
            "100::1",
            "2001::1",
        ] {
            assert!(never(ip), "{ip}: {:?}", refused(ip));
        }
    }

    #[test]
    fn ipv6_forms_that_embed_ipv4_are_judged_by_the_ipv4_inside() {
        for ip in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:192.168.0.1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "2002:7f00:0001::1",
            "2002:c0a8:0101::1",
        ] {
            assert!(private(ip), "{ip}: {:?}", refused(ip));
        }
        for ip in [
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
        ] {
            assert_eq!(
                refused(ip),
                Some(Refusal::Never("a cloud metadata endpoint")),
                "{ip}"
            );
        }
    }

    #[test]
    fn allowing_private_networks_lifts_only_the_private_refusals() {
        let open = AddressRule {
            allow_private_networks: true,
        };
        let strict = AddressRule::default();
        for ip in ["127.0.0.1", "10.1.2.3", "::1", "fd12::1"] {
            let ip = ip.parse().unwrap();
            assert_eq!(open.check(ip), Ok(()));
            assert!(strict.check(ip).is_err());
        }
        for ip in ["169.254.169.254", "fd00:ec2::254", "0.0.0.0", "ff02::1"] {
            assert!(open.check(ip.parse().unwrap()).is_err(), "{ip}");
        }
    }
}
