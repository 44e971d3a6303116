//! DKIM, SPF and DMARC verification of inbound mail, done by the host at
//! delivery (never before the 250), with `mail-auth`.
//!
//! - [`settings`]: the `[mail_auth]` configuration (on/off, name servers, the
//!   time one mail may take, the size of the DNS cache).
//! - [`cache`]: the bounded DNS cache, shared by every verification; tests fill
//!   it with fixed records ([`Verifier::with_records`]).
//! - [`verify`]: [`Verifier::verify`], which never fails: a DNS failure or a
//!   timeout is a `temperror`, a disabled verifier answers `none`. Its answer is
//!   the value of an `Authentication-Results` header (RFC 8601) and a summary.
//! - [`received`]: the client (IP and HELO) that the MTA in front of an LMTP
//!   server wrote in its `Received` header.

pub mod cache;
pub mod received;
pub mod settings;
pub mod verify;

pub use settings::Settings;
pub use verify::{AuthResults, Envelope, Verifier};

/// Why a verifier could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("mail_auth.nameservers: `{0}` is neither an IP address nor IP:port")]
    NameServer(String),
    #[error("the system's DNS configuration cannot be read: {0}")]
    SystemConf(String),
    #[error("the DNS resolver cannot be built: {0}")]
    Resolver(String),
    #[error("fixed DNS record for `{name}` does not parse: {reason}")]
    Record { name: String, reason: String },
}
