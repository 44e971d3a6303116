//! The `[mail_auth]` section of the configuration.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Verify DKIM, SPF and DMARC at delivery. Off, every mail gets `none` and no
    /// signature counts as verified. Off unless configured: a server must not
    /// send DNS questions where its operator did not ask it to (offline
    /// installs, test machines).
    pub enabled: bool,
    /// Name servers, as `IP` or `IP:port`; empty: the system's (`/etc/resolv.conf`).
    pub nameservers: Vec<String>,
    /// Milliseconds one mail's verification may take, DNS included; later
    /// answers make its results `temperror`.
    pub timeout_ms: u64,
    /// DNS answers kept (each for its time to live).
    pub cache_entries: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            enabled: false,
            nameservers: Vec::new(),
            timeout_ms: 5000,
            cache_entries: 4096,
        }
    }
}
