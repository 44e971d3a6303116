//! Where outgoing mail goes.

use std::path::PathBuf;

use serde::Deserialize;

/// How to talk TLS to the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RelayTls {
    /// Plain text (a relay on loopback only).
    None,
    /// STARTTLS, required.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// The `[outbound]` section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundSettings {
    /// `host:port` of the relay; empty: mail waits in the queue.
    pub relay: String,
    pub tls: RelayTls,
    /// AUTH credentials, when the relay wants them.
    pub username: String,
    pub password: String,
    /// An extra trust anchor (PEM) for the relay's certificate.
    pub ca_file: Option<PathBuf>,
    /// The name given in EHLO.
    pub hello_name: String,
    /// Seconds before a relay conversation is abandoned (and retried later).
    pub timeout: u64,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        Self {
            relay: String::new(),
            tls: RelayTls::Starttls,
            username: String::new(),
            password: String::new(),
            ca_file: None,
            hello_name: "localhost".into(),
            timeout: 60,
        }
    }
}
