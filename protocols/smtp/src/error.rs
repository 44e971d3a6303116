//! Errors that stop the inbound server from starting. Once it serves, per-connection
//! failures are logged and end only that connection.

use std::path::PathBuf;

/// Why the inbound server could not start.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    /// A setting is out of range (see [`crate::InboundSettings::validate`]).
    #[error("invalid inbound settings: {0}")]
    Settings(String),
    /// A TLS file could not be read or holds no usable PEM item.
    #[error("cannot load TLS {what} from {}: {reason}", path.display())]
    TlsFile {
        /// `certificate` or `private key`.
        what: &'static str,
        /// The configured path.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The spool folder could not be made.
    #[error("cannot make the spool folder {}: {source}", path.display())]
    Spool {
        /// The folder.
        path: PathBuf,
        source: std::io::Error,
    },
    /// rustls refused the certificate and key (mismatch, unsupported key type...).
    #[error("invalid TLS certificate or key: {0}")]
    Tls(#[from] rustls::Error),
}
