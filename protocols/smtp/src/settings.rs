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
    /// In SMTP mode only, the longest text line of a message in bytes, CRLF included: a
    /// message with a longer line is refused (554 5.6.0) before anything is stored. Unset
    /// (the default), lines of any length are taken, bounded by `max_message_size`, as
    /// Postfix takes them. LMTP always takes them: setting it in LMTP mode is an error.
    pub max_data_line_length: Option<usize>,
    /// In SMTP mode, after this many recipients refused with a 5xx in one connection the
    /// server answers 421 and closes (0: never).
    pub max_refused_recipients: usize,
    /// How long the server waits for a whole command line, however it is trickled (and for
    /// each write to the client), before answering 421 and closing.
    #[serde(with = "secs")]
    pub command_timeout: Duration,
    /// How long the server waits for more message bytes during DATA before answering 421
    /// and closing; nothing of that message is stored.
    #[serde(with = "secs")]
    pub data_timeout: Duration,
    /// Longest time from MAIL to the end of the message's data: a slower transaction is
    /// answered 421 and closed, and nothing of it is stored.
    #[serde(with = "secs")]
    pub transaction_timeout: Duration,
    /// Longest time a connection may go without finishing a message, outside DATA: counted
    /// from the greeting and from the end of each message. NOOP, RSET and the like do not
    /// count as activity.
    #[serde(with = "secs")]
    pub idle_timeout: Duration,
    /// On shutdown, how long sessions in the middle of a message may take to finish it
    /// before they are dropped.
    #[serde(with = "secs")]
    pub shutdown_timeout: Duration,
    /// Most connections served at once; more are answered 421 and closed.
    pub max_connections: usize,
    /// Most connections served at once from one client address (an IPv6 client's /64);
    /// more are answered 421 and closed (0: no limit but `max_connections`).
    pub max_connections_per_ip: usize,
    /// Message bytes a connection keeps in memory while they arrive; the rest of a larger
    /// message waits in a spool file (see `spool_dir`) until it is stored.
    pub data_buffer: usize,
    /// Message bytes received and not yet stored, all connections together (in memory and
    /// in spool files). A message that would pass it is answered 452 4.3.1 (try again
    /// later) and nothing of it is kept. At least `max_message_size`.
    pub max_bytes_in_flight: usize,
    /// Where spool files are made (unnamed, gone when closed, even after a crash). Not read
    /// from the configuration: the runtime sets it to `<data_dir>/spool`; unset, the
    /// system's temporary directory.
    #[serde(skip)]
    pub spool_dir: Option<PathBuf>,
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
            max_data_line_length: None,
            max_refused_recipients: SessionConfig::DEFAULT_MAX_REFUSED_RECIPIENTS,
            // RFC 5321 §4.5.3.2.7: at least 5 minutes between commands.
            command_timeout: Duration::from_secs(300),
            // RFC 5321 §4.5.3.2.5 gives the client 3 minutes per data block.
            data_timeout: Duration::from_secs(180),
            // A 50 MiB message at 60 KB/s.
            transaction_timeout: Duration::from_secs(900),
            idle_timeout: Duration::from_secs(300),
            shutdown_timeout: Duration::from_secs(30),
            max_connections: 100,
            // Postfix's smtpd_client_connection_count_limit: half the process limit.
            max_connections_per_ip: 50,
            data_buffer: 256 << 10,
            max_bytes_in_flight: 512 << 20,
            spool_dir: None,
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
        if self.max_line_length < 512 {
            return invalid("max_line_length must be >= 512 (RFC 5321)");
        }
        match (self.mode, self.max_data_line_length) {
            (InboundMode::Lmtp, Some(_)) => {
                return invalid(
                    "max_data_line_length applies to SMTP mode only: LMTP takes lines of any \
                     length (the MTA in front has accepted the mail), bounded by max_message_size",
                );
            }
            (InboundMode::Smtp, Some(length)) if length < 1000 => {
                return invalid("max_data_line_length must be >= 1000 (RFC 5321)");
            }
            _ => {}
        }
        if [
            self.command_timeout,
            self.data_timeout,
            self.transaction_timeout,
            self.idle_timeout,
        ]
        .iter()
        .any(Duration::is_zero)
        {
            return invalid(
                "command_timeout, data_timeout, transaction_timeout and idle_timeout must be > 0",
            );
        }
        if self.data_buffer < 4096 {
            return invalid("data_buffer must be >= 4096");
        }
        if self.max_bytes_in_flight < self.max_message_size {
            return invalid(
                "max_bytes_in_flight must be >= max_message_size, or the largest mail could \
                 never be received",
            );
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
        config.max_refused_recipients = self.max_refused_recipients;
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
        let cases: [fn(&mut InboundSettings); 10] = [
            |s| s.hostname = "two words".into(),
            |s| s.max_connections = 0,
            |s| s.max_line_length = 100,
            |s| s.command_timeout = Duration::ZERO,
            |s| s.idle_timeout = Duration::ZERO,
            |s| s.tls_cert = Some("cert.pem".into()),
            |s| s.max_data_line_length = Some(2048),
            |s| {
                s.mode = InboundMode::Smtp;
                s.max_data_line_length = Some(998);
            },
            |s| s.data_buffer = 100,
            |s| s.max_bytes_in_flight = s.max_message_size - 1,
        ];
        for change in cases {
            let mut settings = InboundSettings::default();
            change(&mut settings);
            assert!(settings.validate().is_err(), "{settings:?}");
        }
    }
}
