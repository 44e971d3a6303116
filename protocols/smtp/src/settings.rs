//! [`InboundSettings`]: what an operator can tune on the inbound server, read from the
//! `[lmtp]`-style section of the TOML configuration. Defaults suit an MTA on the same machine
//! handing mail over LMTP on a loopback port (the address itself is the runtime's `[listen]`).

use std::path::PathBuf;
use std::time::Duration;

use caliopen_smtp_proto::{Mode, SessionConfig};
use serde::Deserialize;

use crate::error::InboundError;

/// The protocol the inbound server speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InboundMode {
    /// LMTP (RFC 2033): the MTA in front hands mail over, one reply per recipient.
    #[default]
    Lmtp,
    /// SMTP (RFC 5321) inbound, for a setup without an MTA in front.
    Smtp,
}

impl From<InboundMode> for Mode {
    fn from(mode: InboundMode) -> Self {
        match mode {
            InboundMode::Lmtp => Mode::Lmtp,
            InboundMode::Smtp => Mode::Smtp,
        }
    }
}

/// Settings of the inbound LMTP/SMTP server. Durations are whole seconds in TOML.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InboundSettings {
    /// LMTP or SMTP.
    pub mode: InboundMode,
    /// The server's name in the greeting and in EHLO/LHLO replies.
    pub hostname: String,
    /// Largest accepted message in bytes (advertised with SIZE).
    pub max_message_size: usize,
    /// Most recipients in one transaction.
    pub max_recipients: usize,
    /// Longest command line in bytes, CRLF included.
    pub max_line_length: usize,
    /// Longest text line of a message in bytes, CRLF included.
    pub max_data_line_length: usize,
    /// How long the server waits for the next command (and for each write to the client)
    /// before answering 421 and closing.
    #[serde(with = "secs")]
    pub command_timeout: Duration,
    /// How long the server waits for more message bytes during DATA before answering 421
    /// and closing; nothing of that message is stored.
    #[serde(with = "secs")]
    pub data_timeout: Duration,
    /// On shutdown, how long sessions in the middle of a message may take to finish it
    /// before they are dropped.
    #[serde(with = "secs")]
    pub shutdown_timeout: Duration,
    /// Most connections served at once; more are answered 421 and closed.
    pub max_connections: usize,
    /// PEM certificate chain for STARTTLS. STARTTLS is offered when both this and
    /// `tls_key` are set.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for STARTTLS.
    pub tls_key: Option<PathBuf>,
}

impl Default for InboundSettings {
    fn default() -> Self {
        Self {
            mode: InboundMode::Lmtp,
            hostname: "localhost".into(),
            max_message_size: SessionConfig::DEFAULT_MAX_MESSAGE_SIZE,
            max_recipients: SessionConfig::DEFAULT_MAX_RECIPIENTS,
            max_line_length: SessionConfig::DEFAULT_MAX_LINE_LENGTH,
            max_data_line_length: SessionConfig::DEFAULT_MAX_DATA_LINE_LENGTH,
            // RFC 5321 §4.5.3.2.7: at least 5 minutes between commands.
            command_timeout: Duration::from_secs(300),
            // RFC 5321 §4.5.3.2.5 gives the client 3 minutes per data block.
            data_timeout: Duration::from_secs(180),
            shutdown_timeout: Duration::from_secs(30),
            max_connections: 100,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl InboundSettings {
    /// Checks what serde cannot: non-zero limits and timeouts, a hostname that fits in a
    /// reply line, and TLS paths given both or neither.
    pub fn validate(&self) -> Result<(), InboundError> {
        let invalid = |reason: &str| Err(InboundError::Settings(reason.to_owned()));
        if self.hostname.is_empty()
            || !self
                .hostname
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '<' && c != '>')
        {
            return invalid("hostname must be a non-empty name without spaces");
        }
        if self.max_message_size == 0 || self.max_recipients == 0 || self.max_connections == 0 {
            return invalid("max_message_size, max_recipients and max_connections must be > 0");
        }
        if self.max_line_length < 512 || self.max_data_line_length < 1000 {
            return invalid(
                "max_line_length must be >= 512 and max_data_line_length >= 1000 (RFC 5321)",
            );
        }
        if self.command_timeout.is_zero() || self.data_timeout.is_zero() {
            return invalid("command_timeout and data_timeout must be > 0");
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return invalid("tls_cert and tls_key must be set together");
        }
        Ok(())
    }

    /// The session configuration these settings give; `tls_available` says whether the
    /// server can upgrade connections.
    pub fn session_config(&self, tls_available: bool) -> SessionConfig {
        let mut config = SessionConfig::new(self.mode.into(), self.hostname.clone());
        config.max_message_size = self.max_message_size;
        config.max_recipients = self.max_recipients;
        config.max_line_length = self.max_line_length;
        config.max_data_line_length = self.max_data_line_length;
        config.tls_available = tls_available;
        config
    }
}

/// Durations as whole seconds.
mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_loopback_friendly() {
        let settings = InboundSettings::default();
        settings.validate().expect("defaults validate");
        assert_eq!(settings.mode, InboundMode::Lmtp);
        assert!(settings.tls_cert.is_none());
        assert_eq!(settings.session_config(false).mode, Mode::Lmtp);
    }

    #[test]
    fn parses_from_toml_with_seconds_and_refuses_unknown_keys() {
        let settings: InboundSettings = toml::from_str(
            "mode = \"smtp\"\nhostname = \"mx.example.org\"\ncommand_timeout = 60\n\
             tls_cert = \"/etc/caliopen/cert.pem\"\ntls_key = \"/etc/caliopen/key.pem\"\n",
        )
        .expect("valid settings");
        assert_eq!(settings.mode, InboundMode::Smtp);
        assert_eq!(settings.command_timeout, Duration::from_secs(60));
        assert_eq!(
            settings.data_timeout,
            InboundSettings::default().data_timeout
        );
        settings.validate().expect("valid");
        let error =
            toml::from_str::<InboundSettings>("max_conections = 3").expect_err("a typo is refused");
        assert!(error.to_string().contains("max_conections"), "{error}");
    }

    #[test]
    fn bad_values_are_refused() {
        let cases: [fn(&mut InboundSettings); 5] = [
            |s| s.hostname = "two words".into(),
            |s| s.max_connections = 0,
            |s| s.max_line_length = 100,
            |s| s.command_timeout = Duration::ZERO,
            |s| s.tls_cert = Some("cert.pem".into()),
        ];
        for change in cases {
            let mut settings = InboundSettings::default();
            change(&mut settings);
            assert!(settings.validate().is_err(), "{settings:?}");
        }
    }
}
