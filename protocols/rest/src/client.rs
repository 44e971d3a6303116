//! Who is on the other end: the [`ClientAddr`] extractor and the settings it
//! reads ([`RestSettings`]).
//!
//! The client's address is the TCP peer's (the server must be run with
//! `into_make_service_with_connect_info::<SocketAddr>()`). When the peer is one of
//! `trusted_proxies`, `X-Forwarded-For` is read from the right: each address a
//! trusted proxy appended is skipped, and the first one that is not trusted is the
//! client (so a client cannot choose its address by sending the header itself).
//! Core counts login failures, signups and lookups by this address.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

use crate::state::AppState;

/// Most entries of `X-Forwarded-For` read (the header can be long; proxies append
/// one entry each).
const MAX_FORWARDED: usize = 16;

/// The REST API's own settings (`[rest]` in the configuration).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RestSettings {
    /// Addresses or networks (`10.0.0.0/8`, `::1`) of the proxies in front of the
    /// API whose `X-Forwarded-For` is believed (the original web client's server,
    /// a load balancer). Empty: the TCP peer is the client.
    #[serde(deserialize_with = "networks")]
    pub trusted_proxies: Vec<IpNet>,
}

fn networks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|s| parse_network(s).map_err(serde::de::Error::custom))
        .collect()
}

/// `10.0.0.0/8`, or a single address.
pub fn parse_network(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{s}` is not an address or a network (`10.0.0.0/8`)"))
}

impl RestSettings {
    fn trusted(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted_proxies.iter().any(|n| n.contains(&ip))
    }

    /// The client's address, given the TCP peer and the `X-Forwarded-For` values.
    pub fn client_address<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded: impl Iterator<Item = &'a str>,
    ) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.trusted(peer) {
            return Some(peer);
        }
        // Header lines are few (the server bounds them); their entries are read from
        // the right, at most MAX_FORWARDED of them.
        let lines: Vec<&str> = forwarded.collect();
        let hops = lines
            .iter()
            .rev()
            .flat_map(|line| line.rsplit(','))
            .map(str::trim)
            .filter(|hop| !hop.is_empty())
            .take(MAX_FORWARDED);
        let mut client = peer;
        for hop in hops {
            // A malformed entry ends the walk: what is left of it is not believed.
            let Ok(ip) = hop.parse::<IpAddr>() else {
                break;
            };
            client = canonical(ip);
            if !self.trusted(client) {
                break;
            }
        }
        Some(client)
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address (`None` when the server did not record the peer).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        Ok(Self(state.settings.client_address(peer, forwarded)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(trusted: &[&str]) -> RestSettings {
        RestSettings {
            trusted_proxies: trusted.iter().map(|s| parse_network(s).unwrap()).collect(),
        }
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn forwarded_for_is_believed_from_trusted_proxies_only() {
        let none = settings(&[]);
        let header = ["203.0.113.9"];
        assert_eq!(
            none.client_address(ip("198.51.100.1"), header.into_iter()),
            ip("198.51.100.1"),
            "an untrusted peer names itself, whatever it sends"
        );
        let proxy = settings(&["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(
            proxy.client_address(ip("127.0.0.1"), header.into_iter()),
            ip("203.0.113.9")
        );
        // A client's own header is on the left; the proxies appended on the right.
        let chain = ["6.6.6.6, 203.0.113.9", "10.1.2.3"];
        assert_eq!(
            proxy.client_address(ip("::ffff:127.0.0.1"), chain.into_iter()),
            ip("203.0.113.9")
        );
        assert_eq!(
            proxy.client_address(ip("127.0.0.1"), ["garbage, 10.0.0.1"].into_iter()),
            ip("10.0.0.1"),
            "a malformed entry is not believed"
        );
        assert_eq!(
            proxy.client_address(ip("127.0.0.1"), std::iter::empty()),
            ip("127.0.0.1")
        );
        assert_eq!(proxy.client_address(None, header.into_iter()), None);
        assert!(parse_network("not an address").is_err());
    }
}
