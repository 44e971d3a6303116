//! The host's part of mail authentication: DKIM, SPF and DMARC are verified at
//! delivery (`caliopen-mail-auth`), and the results are put where components
//! read them without a new WIT version: an `Authentication-Results` field
//! (RFC 8601) first among the parsed mail's headers, as an MTA prepends one.
//!
//! The host always puts one there (`none` when nothing was verified), so the
//! broker trusts the first header only: a sender's own `Authentication-Results`
//! fields come after it and are never taken for ours.

use caliopen_core::delivery::Arrival;
use caliopen_mail_auth::{Envelope, Verifier, received};

use crate::wasm::bindings::types as wit;

/// The field's name.
pub const FIELD: &str = "Authentication-Results";

/// The value of our field for `raw`: verified when a verifier is configured.
pub async fn results(verifier: Option<&Verifier>, raw: &[u8], arrival: &Arrival) -> String {
    let Some(verifier) = verifier else {
        return unchecked(None);
    };
    // Imported mail is old: today's keys and records would judge it wrongly.
    if arrival.imported {
        return unchecked(Some(verifier));
    }
    // Behind an MTA (LMTP) the client is the one the MTA's own Received field names.
    let client = arrival
        .client
        .clone()
        .or_else(|| received::topmost_client(raw));
    let envelope = Envelope {
        client_ip: client.as_ref().map(|(ip, _)| *ip),
        helo: client.as_ref().map_or("", |(_, helo)| helo.as_str()),
        mail_from: &arrival.mail_from,
    };
    let results = verifier.verify(raw, &envelope).await;
    tracing::debug!(
        dkim = results.dkim,
        spf = results.spf,
        dmarc = results.dmarc,
        "mail authenticated"
    );
    results.header_value
}

/// The value when nothing was verified.
pub fn unchecked(verifier: Option<&Verifier>) -> String {
    let id = verifier.map_or("caliopen", Verifier::authserv_id);
    format!("{id}; none")
}

/// Puts our field first among `mail`'s headers.
pub fn insert(mail: &mut wit::ParsedMail, value: String) {
    mail.headers.insert(
        0,
        wit::Header {
            name: FIELD.into(),
            value,
        },
    );
}
