//! Whether a host name or an address belongs to the recipient's local domain (the
//! `user` interface's `local-domain`), and loopback hosts.

/// The local domain, normalised once: lower case, without surrounding dots or
/// whitespace. Empty when the host gave none: then nothing is local.
#[derive(Debug, Clone)]
pub(crate) struct LocalDomain(String);

impl LocalDomain {
    /// Normalises `domain` as given by the host.
    pub(crate) fn new(domain: &str) -> Self {
        Self(domain.trim().trim_matches('.').to_lowercase())
    }

    /// True when `host` is the local domain or one of its subdomains
    /// (`mx.caliopen.local` for `caliopen.local`), ASCII case-insensitive.
    pub(crate) fn contains_host(&self, host: &str) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let host = host.trim().trim_end_matches('.').to_lowercase();
        host == self.0
            || host
                .strip_suffix(self.0.as_str())
                .is_some_and(|head| head.ends_with('.'))
    }

    /// True when the domain of `address` (after its last `@`) is local. An address
    /// without `@` is taken whole, as a domain (a list id such as
    /// `dev.lists.caliopen.local`).
    pub(crate) fn contains_address(&self, address: &str) -> bool {
        let domain = address.rsplit_once('@').map_or(address, |(_, d)| d);
        self.contains_host(domain)
    }
}

/// True for the loopback host names and addresses a content filter re-injecting
/// mail uses (`localhost`, `127.0.0.1`, `::1`, `[127.0.0.1]`).
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let host = host.strip_prefix("ipv6:").unwrap_or(&host);
    host == "localhost"
        || host.starts_with("localhost.")
        || host.starts_with("127.")
        || host == "::1"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_subdomains() {
        let local = LocalDomain::new(" Caliopen.Local. ");
        assert!(local.contains_host("caliopen.local"));
        assert!(local.contains_host("MX.caliopen.local."));
        assert!(!local.contains_host("evilcaliopen.local"));
        assert!(!local.contains_host("caliopen.local.evil.org"));
        assert!(local.contains_address("Bob@caliopen.local"));
        assert!(local.contains_address("dev.lists.caliopen.local"));
        assert!(!local.contains_address("bob@example.org"));
    }

    #[test]
    fn empty_domain_contains_nothing() {
        let local = LocalDomain::new("");
        assert!(!local.contains_host(""));
        assert!(!local.contains_host("caliopen.local"));
    }

    #[test]
    fn loopback() {
        for host in [
            "localhost",
            "LOCALHOST.localdomain",
            "127.0.0.1",
            "[127.0.0.1]",
            "[IPv6:::1]",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        assert!(!is_loopback("mail.example.org"));
    }
}
