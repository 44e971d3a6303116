//! Caliopen's privacy-index qualifier (world `qualifier` of `caliopen:platform@0.1.0`,
//! slot `qualifier:pi`, order 30: after tags and spam, whose conclusions it reads).
//! It answers the privacy index `{technic, comportment, context}`, 0..100 each
//! (higher is more private), with every contribution as a rule named
//! `<axis>:<rule>`, following the original Caliopen's intent without its defects
//! (its TLS scoring crashed, and a misspelled feature key meant encryption never
//! counted: here encryption is the largest technical contribution).
//!
//! **technic**: how the message was protected.
//!
//! | rule | points | when |
//! |---|---|---|
//! | `technic:tls-1.3` | 30 | the last external hop used TLS 1.3 |
//! | `technic:tls-1.2` | 25 | ... TLS 1.2 |
//! | `technic:tls-1.1`, `technic:tls-1.0` | 10 | ... TLS 1.1 or 1.0 |
//! | `technic:tls-legacy` | 5 | ... old OpenSSL's `TLSv1/SSLv3` |
//! | `technic:ssl-obsolete` | 2 | ... SSL 2 or 3 |
//! | `technic:tls-unknown` | 10 | TLS of an unstated or unknown version (never a failure) |
//! | `technic:tls-path-unverified` | −0.5 × the TLS points | more than one external hop: only the last is known |
//! | `technic:dkim` | 15 | a DKIM signature |
//! | `technic:pgp-mime-encrypted` | 40 | encrypted with PGP/MIME |
//! | `technic:pgp-inline-encrypted`, `technic:smime-encrypted` | 35 | inline PGP, S/MIME |
//! | `technic:pgp-mime-signed`, `technic:smime-signed` | 15 | signed with PGP/MIME, S/MIME |
//! | `technic:pgp-inline-signed` | 10 | signed with inline PGP |
//!
//! **comportment**: how the sender behaves with the user.
//!
//! | rule | points | when |
//! |---|---|---|
//! | `comportment:baseline` | 30 | always: an unknown sender, nothing known either way |
//! | `comportment:known-sender` | 25 | the From address is one of the user's contacts |
//! | `comportment:sender-public-key` | 20 | ... who has a public key on file |
//! | `comportment:sender-trust` | 0.1 × the contact's own comportment | ... whose contact record has a PI |
//! | `comportment:known-discussion` | 15 | a reply (`external-references.parent-id`) |
//! | `comportment:spam` | −30 | an earlier qualifier found spam (`view.is-spam`) |
//!
//! **context**: where the message comes from and how the user was reached.
//!
//! | rule | points | when |
//! |---|---|---|
//! | `context:baseline` | 20 | always |
//! | `context:internal` | 30 | `privacy-features.is-internal`, or the tag `internal` from the tags qualifier |
//! | `context:no-external-hop` / `one-` / `two-external-hops` | 20 / 15 / 5 | the external hops counted by the broker |
//! | `context:many-external-hops` | −10 | three or more |
//! | `context:addressed-to` | 20 | one of the user's identities is in To |
//! | `context:addressed-cc`, `context:addressed-bcc` | 10 | ... only in Cc, only in Bcc |
//! | `context:via-list` | −15 | the message came through a mailing list (List-ID) |
//! | `context:all-participants-known` | 10 | every other participant is a contact (all looked up) |
//!
//! The best case of each axis adds up to exactly 100; each axis is rounded and
//! clamped to 0..100, and a `<axis>:clamp` rule records any difference. The spam
//! score is not in the message view (only `is-spam` is), so spam lowers comportment
//! by a fixed amount.
//!
//! Config keys (see [`settings`]): `weight.<rule>` (a rule's points; 0 disables
//! it), `max_lookups` (20).
//!
//! Module map:
//! - [`bindings`]: the WIT bindings, generated once, and the export of [`Component`].
//! - [`index`]: the pure part: [`index::to_look_up`] and [`index::privacy_index`].
//! - [`rules`]: the scoring table (names, default points).
//! - [`tls`]: the classification of a TLS version text.
//! - [`settings`]: the manifest's `[config]`, read through a lookup function.
//!
//! Everything except [`Component`] is plain Rust and never calls a host import, so
//! `cargo test -p caliopen-qualifier-pi` runs natively (the generated imports are
//! unreachable stubs off wasm). The export asks the host first, then calls the pure
//! functions.

// Memory for the component's allocations: bump allocation for a one-call instance (see the crate).
use caliopen_guest_alloc as _;

pub mod index;
pub mod rules;
pub mod settings;
pub mod tls;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod testkit;

/// The WIT bindings of the `qualifier` world and the export of [`Component`].
///
/// The generated glue (canonical ABI lifting and lowering, `export_name` symbols) is
/// `unsafe` by nature; the lint is allowed for this module only. The crate's own code
/// outside this module contains no `unsafe`.
#[allow(unsafe_code)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/0.1.0",
        world: "qualifier",
        additional_derives: [PartialEq],
    });

    // The export symbols exist only in the wasm build: natively, several guest
    // crates are linked into one test binary (the chain corpus test), and their
    // `qualify` symbols would collide.
    #[cfg(target_arch = "wasm32")]
    use super::Component;
    #[cfg(target_arch = "wasm32")]
    export!(Component with_types_in self);
}

pub use bindings::caliopen::platform::contacts::Contact;
pub use bindings::caliopen::platform::types::{
    Attachment, ComponentError, CryptoScheme, ExternalReferences, HtmlSafety, Message, MessageView,
    Participant, ParticipantRole, Pi, PrivacyFeatures, RuleHit, Verdict,
};
pub use index::HostAnswers;
pub use settings::Settings;

/// The component: implements the `qualify` export of the `qualifier` world.
#[derive(Debug)]
pub struct Component;

impl bindings::Guest for Component {
    fn qualify(view: MessageView) -> Result<Verdict, ComponentError> {
        use bindings::caliopen::platform::{config, contacts, log, user};
        let warn = |line: &str| log::log(log::Level::Warn, line);
        let settings = Settings::from_config(config::get);
        settings.warnings.iter().for_each(|w| warn(w));
        let identities = user::identities().unwrap_or_else(|e| {
            warn(&format!(
                "user.identities failed ({e:?}): addressing not scored"
            ));
            Vec::new()
        });
        let (addresses, left_out) =
            index::to_look_up(&view.message, &identities, settings.max_lookups);
        let mut complete = left_out == 0;
        let contacts = addresses
            .into_iter()
            .map(|address| {
                let contact = contacts::lookup(&address).unwrap_or_else(|e| {
                    warn(&format!("contacts.lookup failed for a participant ({e:?})"));
                    complete = false;
                    None
                });
                (address, contact)
            })
            .collect();
        let host = HostAnswers {
            identities,
            contacts,
            complete,
        };
        Ok(index::privacy_index(&view, &host, &settings))
    }
}
