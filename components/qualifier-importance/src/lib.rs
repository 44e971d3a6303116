//! Caliopen's importance qualifier (world `qualifier` of `caliopen:platform@0.1.0`,
//! slot `qualifier:importance`, order 40: last in the chain). It answers an
//! importance level −10..10 from what the earlier qualifiers concluded: the tags
//! (already applied: the original Caliopen computed importance before tags, a defect
//! not reproduced), spam, the privacy index, and how the message reached the user.
//!
//! | rule | steps | when |
//! |---|---|---|
//! | `spam` | −10 | `view.is-spam`: a spam verdict outweighs what else the message has for it |
//! | `low-pi` | −1 | the mean of the three PI scores is under `low_pi` (25) |
//! | `trusted-sender` | +1 | the PI comportment is at least `trusted_comportment` (60) |
//! | `reply` | +2 | a reply (`external-references.parent-id`) |
//! | `addressed-to` | +1 | one of the user's identities is in To |
//! | `via-list` | −1 | not in To, and the message came through a mailing list |
//! | `tag:<name>` | the tag's level | each tag of the view with a non-zero `importance-level` in `user.tags` (the system tag `important` has 5); the `spam` tag is not counted again when `spam` fired |
//! | `clamp` | the difference | the rounded sum was outside −10..10 |
//!
//! The level is the sum, rounded, clamped to −10..10. Without a PI (the PI
//! qualifier skipped) the PI rules do not fire; without `user.tags` tags do not
//! count.
//!
//! Config keys (see [`settings`]): `weight.<rule>` (a fixed rule's steps; 0 disables
//! it), `low_pi`, `trusted_comportment`.
//!
//! Module map:
//! - [`bindings`]: the WIT bindings, generated once, and the export of [`Component`].
//! - [`level`]: the pure part: [`level::importance`].
//! - [`settings`]: the rule table and the manifest's `[config]`, read through a
//!   lookup function.
//!
//! Everything except [`Component`] is plain Rust and never calls a host import, so
//! `cargo test -p caliopen-qualifier-importance` runs natively (the generated
//! imports are unreachable stubs off wasm). The export asks the host first, then
//! calls [`level::importance`].

// Memory for the component's allocations: bump allocation for a one-call instance (see the crate).
use caliopen_guest_alloc as _;

pub mod level;
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
pub use level::HostAnswers;
pub use settings::Settings;

/// The component: implements the `qualify` export of the `qualifier` world.
#[derive(Debug)]
pub struct Component;

impl bindings::Guest for Component {
    fn qualify(view: MessageView) -> Result<Verdict, ComponentError> {
        use bindings::caliopen::platform::{config, log, user};
        let warn = |line: &str| log::log(log::Level::Warn, line);
        let settings = Settings::from_config(config::get);
        settings.warnings.iter().for_each(|w| warn(w));
        let identities = user::identities().unwrap_or_else(|e| {
            warn(&format!(
                "user.identities failed ({e:?}): addressing not scored"
            ));
            Vec::new()
        });
        let tags = user::tags().unwrap_or_else(|e| {
            warn(&format!("user.tags failed ({e:?}): tags not scored"));
            Vec::new()
        });
        let host = HostAnswers { identities, tags };
        Ok(level::importance(&view, &host, &settings))
    }
}
