//! The per-client cap: how many connections each client address holds. IPv4 addresses (and
//! IPv4-mapped IPv6 ones) count one by one; IPv6 addresses count by /64, the block one
//! subscriber usually gets, so that a client cannot pass the cap by changing its interface
//! identifier. The table holds only addresses with a connection open, so it never has more
//! entries than the server has connections.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

/// What the cap counts: an IPv4 address or an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct ClientKey(IpAddr);

impl ClientKey {
    pub(super) fn of(ip: IpAddr) -> Self {
        let ip = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
            },
            v4 => v4,
        };
        Self(ip)
    }
}

/// Open connections per client.
#[derive(Debug)]
pub(super) struct Clients {
    limit: usize,
    open: Mutex<HashMap<ClientKey, usize>>,
}

impl Clients {
    /// A table admitting `limit` connections per client (0: any number).
    pub(super) fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// Counts one more connection from `ip`, or none when it already holds its share.
    pub(super) fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<ClientSlot> {
        let key = ClientKey::of(ip);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key).or_insert(0);
        if self.limit != 0 && *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            clients: Arc::clone(self),
            key,
        })
    }

    /// Connections open from `ip`'s client.
    #[cfg(test)]
    fn open(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&ClientKey::of(ip)).copied().unwrap_or(0)
    }
}

/// One connection counted against its client; dropping it gives the place back.
#[derive(Debug)]
pub(super) struct ClientSlot {
    clients: Arc<Clients>,
    key: ClientKey,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self
            .clients
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn each_client_gets_its_share_and_gives_it_back() {
        let clients = Clients::new(2);
        let a = [
            clients.admit(ip("192.0.2.1")),
            clients.admit(ip("192.0.2.1")),
        ];
        assert!(a.iter().all(Option::is_some));
        assert!(clients.admit(ip("192.0.2.1")).is_none(), "over its share");
        assert!(clients.admit(ip("192.0.2.2")).is_some(), "another client");
        drop(a);
        assert_eq!(clients.open(ip("192.0.2.1")), 0);
        assert!(clients.open.lock().unwrap().is_empty(), "nothing kept");
        assert!(clients.admit(ip("192.0.2.1")).is_some());
    }

    #[test]
    fn ipv6_counts_by_64_and_mapped_ipv4_as_ipv4() {
        let clients = Clients::new(1);
        let _first = clients.admit(ip("2001:db8:1:2::1")).unwrap();
        assert!(
            clients.admit(ip("2001:db8:1:2:ffff::9")).is_none(),
            "same /64"
        );
        assert!(
            clients.admit(ip("2001:db8:1:3::1")).is_some(),
            "another /64"
        );
        let _v4 = clients.admit(ip("198.51.100.7")).unwrap();
        assert!(clients.admit(ip("::ffff:198.51.100.7")).is_none());
    }

    #[test]
    fn zero_is_no_limit() {
        let clients = Clients::new(0);
        let slots: Vec<_> = (0..1000).map(|_| clients.admit(ip("127.0.0.1"))).collect();
        assert!(slots.iter().all(Option::is_some));
    }
}
