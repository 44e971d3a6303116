//! Caliopen's spam qualifier (world `qualifier` of `caliopen:platform@0.1.0`, slot
//! `qualifier:spam`, order 20): named rules with weights, summed and compared with a
//! threshold. The verdict carries `spam-score` (the sum), `is-spam` (sum ≥
//! threshold), the tag `spam` when spam, and every rule that fired with its
//! contribution and a readable detail.
//!
//! | rule | default weight | fires when |
//! |---|---|---|
//! | `GTUBE` | 1000 | the 68-character GTUBE test string is in the plain or HTML body |
//! | `UPSTREAM_SPAM` | 5.0 | the upstream filter said spam (`X-Spam-Flag: YES`, rspamd's verdict...) |
//! | `UPSTREAM_HAM` | −0.5 | the upstream filter said not spam |
//! | `UPSTREAM_SCORE` | 0.5 × score | an upstream score, bounded to −5..10; a positive score counts |
//! | `SUBJECT_ALL_CAPS` | 1.0 | the subject has ≥ 8 letters, ≥ 80 % of them capitals |
//! | `EXCLAMATIONS` | 1.0 | ≥ 2 `!` in the subject, `!!!` in the body, or ≥ 10 `!` in the body |
//! | `HTML_ONLY_REMOTE` | 1.5 | an HTML body with no text alternative loads remote content |
//! | `HTML_SCRIPT` | 1.0 | the HTML body has scripts |
//! | `HTML_FORM` | 1.0 | the HTML body has forms |
//! | `LINK_TEXT_MISMATCH` | 2.5 | a link's text is a URL or domain of another site than its target |
//! | `FROM_NAME_ADDRESS` | 2.0 | the From display name holds an address other than the sender's |
//! | `REPLYTO_DIFFERS` | 0.8 | Reply-To is on another site than From, and no List-ID |
//! | `MISSING_DATE` | 0.5 | the message's problems say the Date is missing or unparsable |
//! | `MISSING_MESSAGE_ID` | 0.5 | no Message-ID |
//! | `MANY_RECIPIENTS` | 1.0 | To + Cc + Bcc ≥ `many_recipients` (20) |
//! | `SPAM_PHRASES` | 0.5 per phrase | common spam phrases (see [`text::SPAM_PHRASES`]), at most `max_phrases` (6) |
//! | `MONEY_OFFER` | 2.5 | a sum ≥ 100,000 in a currency (or `million` next to one) and money-transfer words |
//! | `KNOWN_CONTACT` | −3.0 | the From address is one of the user's contacts |
//!
//! Config keys (see [`settings`]): `threshold` (5.0), `weight.<RULE>` (a weight of 0
//! disables a rule), `many_recipients`, `max_phrases`.
//!
//! Module map:
//! - [`bindings`]: the WIT bindings, generated once, and the export of [`Component`].
//! - [`score`]: [`score::score`], the pure scoring function over the view and what
//!   the host answered.
//! - [`rules`]: the rule table (names, default weights).
//! - [`settings`]: the manifest's `[config]`, read through a lookup function.
//! - [`text`]: capitals, exclamation marks, spam phrases, offers of money.
//! - [`html`]: the visible text and the links of an HTML body (a linear scan).
//! - [`links`]: host names of URLs and link texts, and their comparison.
//!
//! Everything except [`Component`] is plain Rust and never calls a host import, so
//! `cargo test -p caliopen-qualifier-spam` runs natively (the generated imports are
//! unreachable stubs off wasm). The export reads the config and asks the host about
//! the sender, then calls [`score::score`].

// Memory for the component's allocations: bump allocation for a one-call instance (see the crate).
use caliopen_guest_alloc as _;

pub mod html;
pub mod links;
pub mod rules;
pub mod score;
pub mod settings;
pub mod text;

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
pub use rules::Rule;
pub use settings::Settings;

/// The component: implements the `qualify` export of the `qualifier` world.
#[derive(Debug)]
pub struct Component;

impl bindings::Guest for Component {
    fn qualify(view: MessageView) -> Result<Verdict, ComponentError> {
        use bindings::caliopen::platform::{config, contacts, log};
        let settings = Settings::from_config(config::get);
        for warning in &settings.warnings {
            log::log(log::Level::Warn, warning);
        }
        let sender = score::sender_address(&view.message).and_then(|address| {
            contacts::lookup(address).unwrap_or_else(|e| {
                let line = format!("contact lookup failed ({e:?}): KNOWN_CONTACT not applied");
                log::log(log::Level::Warn, &line);
                None
            })
        });
        Ok(score::score(&view, sender.as_ref(), &settings))
    }
}
