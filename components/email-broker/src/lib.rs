//! Caliopen's email broker component (world `broker` of `caliopen:platform@0.1.0`):
//! `inbound` turns the `parsed-mail` of the email parser into a Caliopen `message`
//! (participants, discussion key, HTML safety flags, privacy features), and
//! `outbound` renders a `draft` into MIME bytes ready for SMTP with `mail-builder`.
//!
//! Module map:
//! - [`bindings`]: the WIT bindings, generated once, and the export of [`Component`].
//! - [`inbound`]: [`inbound::inbound`], the pure inbound entry point: assembles the
//!   message from the modules below. Takes the local domain as a parameter; the
//!   export uses [`inbound::inbound_owned`], which moves the bodies instead of copying.
//! - `participants`: participants by role (lower-cased, de-duplicated), the List-ID
//!   participant, the discussion key (the same format as core's), `is-internal`.
//! - `domain`: whether a host name or an address belongs to the local domain.
//! - `headers`: looking header fields up by name in `parsed-mail.headers`.
//! - `received`: the Received chain: hops, the ingress hop, its TLS version and
//!   cipher, the count of external hops.
//! - `spam`: the upstream spam verdict and score (SpamAssassin and rspamd headers).
//! - `crypto`: PGP/MIME, inline PGP and S/MIME encryption and signature.
//! - `authentication`: the DKIM, SPF and DMARC results the host verified, from
//!   the `Authentication-Results` field it puts first among the headers.
//! - `privacy`: the `privacy-features` record, from the modules above plus the
//!   mail agent and the `extra` pairs.
//! - `html`: the HTML safety flags (scripts, remote content, forms), with `css` for
//!   `url()` and `@import` in style sheets and style attributes.
//! - [`outbound`]: [`outbound::outbound`], the pure outbound entry point: checks the
//!   draft (`validate`) and renders it (`render`).
//!
//! Everything except [`Component`] is plain Rust and never calls a host import, so
//! `cargo test -p caliopen-email-broker` exercises the broker natively (the
//! generated imports are unreachable stubs off wasm). The export fetches the local
//! domain from the `user` interface, then calls the pure functions.
//!
//! Neither export traps on bad input: `inbound` always answers a best-effort message
//! whose `problems` list what the parser and the broker worked around; `outbound`
//! answers `component-error` of kind `invalid-draft` for a draft it cannot send.

// Memory for the component's allocations: bump allocation for a one-call instance (see the crate).
use caliopen_guest_alloc as _;

mod authentication;
mod crypto;
mod css;
mod domain;
mod headers;
mod html;
pub mod inbound;
pub mod outbound;
mod participants;
mod privacy;
mod received;
mod render;
mod spam;
mod validate;

/// The WIT bindings of the `broker` world and the export of [`Component`].
///
/// The generated glue (canonical ABI lifting and lowering, `export_name` symbols) is
/// `unsafe` by nature; the lint is allowed for this module only. The crate's own code
/// outside this module contains no `unsafe`.
#[allow(unsafe_code)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/0.1.0",
        world: "broker",
    });

    use super::Component;
    export!(Component with_types_in self);
}

pub use bindings::caliopen::platform::types::{
    Attachment, ComponentError, CryptoScheme, Draft, ExternalReferences, Header, HtmlSafety,
    Mailbox, Message, MimePart, OutboundAttachment, ParsedMail, Participant, ParticipantRole,
    PrivacyFeatures,
};

/// The component: implements the `inbound` and `outbound` exports of the `broker`
/// world.
#[derive(Debug)]
pub struct Component;

impl bindings::Guest for Component {
    fn inbound(mail: ParsedMail, received_at: i64) -> Result<Message, ComponentError> {
        use bindings::caliopen::platform::{log, user};
        let local_domain = user::local_domain();
        if local_domain.trim().is_empty() {
            log::log(
                log::Level::Warn,
                "the host gave no local domain: is-internal is false and every hop is external",
            );
        }
        Ok(inbound::inbound_owned(mail, received_at, &local_domain))
    }

    fn outbound(draft: Draft) -> Result<Vec<u8>, ComponentError> {
        outbound::outbound(&draft)
    }
}
