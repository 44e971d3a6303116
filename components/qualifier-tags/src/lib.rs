//! Caliopen's tags qualifier (world `qualifier` of `caliopen:platform@0.1.0`, slot
//! `qualifier:tags`, order 10: first in the chain, so that the later qualifiers see
//! its tags). It never invents a tag: a tag is added only when the user has it
//! (`user.tags`).
//!
//! | rule | contribution | fires when |
//! |---|---|---|
//! | `internal` | 1 (tag added) or 0 (the user has no such tag) | every participant is one of the user's identities or in the local domain (or a subdomain); adds `internal_tag` (`internal`) |
//! | `known-contact` | 0 (information) | a participant is one of the user's contacts (one rule per contact) |
//! | `contact-lookup-failed` | 0 | the host could not answer a lookup |
//! | `lookups-capped` | 0 | more distinct participants than `max_lookups` (20) |
//! | `known-contact-tag` | 1 (tag added) or 0 (the user has no such tag) | `known_contact_tag` is set and the From address is a known contact |
//!
//! Contacts are looked up once per distinct participant address, From first, leaving
//! out the user's own addresses and the List-ID, at most `max_lookups` per message.
//!
//! Config keys (see [`settings`]): `internal_tag`, `known_contact_tag`, `max_lookups`.
//!
//! Module map:
//! - [`bindings`]: the WIT bindings, generated once, and the export of [`Component`].
//! - [`classify`]: the pure part: [`classify::to_look_up`] (which addresses to ask
//!   about) and [`classify::qualify`] (the verdict from the view and the answers).
//! - [`settings`]: the manifest's `[config]`, read through a lookup function.
//!
//! Everything except [`Component`] is plain Rust and never calls a host import, so
//! `cargo test -p caliopen-qualifier-tags` runs natively (the generated imports are
//! unreachable stubs off wasm). The export asks the host first, then calls the pure
//! functions.

// Memory for the component's allocations: bump allocation for a one-call instance (see the crate).
use caliopen_guest_alloc as _;

pub mod classify;
pub mod settings;

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
pub use bindings::caliopen::platform::user::Tag;
pub use classify::{HostAnswers, Lookup};
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
                "user.identities failed ({e:?}): only the local domain is ours"
            ));
            Vec::new()
        });
        let tags = user::tags().unwrap_or_else(|e| {
            warn(&format!("user.tags failed ({e:?}): no tag is added"));
            Vec::new()
        });
        let (addresses, not_looked_up) =
            classify::to_look_up(&view.message, &identities, settings.max_lookups);
        let contacts = addresses
            .into_iter()
            .map(|address| {
                let answer = match contacts::lookup(&address) {
                    Ok(Some(contact)) => Lookup::Known(contact),
                    Ok(None) => Lookup::Unknown,
                    Err(e) => Lookup::Failed(format!("{e:?}")),
                };
                (address, answer)
            })
            .collect();
        let host = HostAnswers {
            local_domain: user::local_domain(),
            identities,
            tags,
            contacts,
            not_looked_up,
        };
        Ok(classify::qualify(&view, &host, &settings))
    }
}
