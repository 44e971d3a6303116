//! Core's operations, one module per resource; each adds methods to [`crate::Core`].
//!
//! Every operation validates its input with a [`crate::CoreError`] that names the
//! field, writes one atomic batch (with the search outbox entry of what it
//! changes), and answers `NotFound` for another user's ids. Operations that read
//! and write derived state (counters, discussion summaries) run under the user's
//! lock ([`crate::Core`]'s `lock_user`).
//!
//! - [`users`], [`account`], [`account_deletion`]: signup, lookup, `/me`,
//!   settings, password change and reset, deleting an account and all its data.
//! - [`auth`], [`devices`]: login, tokens, refresh, devices (patch, revoke,
//!   validation); [`passwords`]: hashing, the throttled check, password change;
//!   [`throttle`]: the counters that limit password guesses, signups and lookups
//!   per account and per client address.
//! - [`identities`], [`remote_identities`]: local identities, remote accounts;
//!   [`remote_infos`]: their server settings checked; [`identity_validation`]: the mailed code that proves a remote address is the
//!   user's before it may send.
//! - [`contacts`], [`contact_keys`]: contacts and their public keys;
//!   [`contact_uris`]: one address, one contact; [`import_vcard`]: contacts from
//!   a vCard file; [`contact_cards`]: participants' contacts resolved when
//!   answering.
//! - [`messages`], [`message_state`], [`drafts`] (with `drafts_compose`),
//!   [`attachments`]: reading, flags, deletion, drafts, attachments, raw mail.
//! - [`discussions`] (with `discussion_upkeep`, `discussion_ranges`): listing
//!   (narrowed to an importance range), lookup by participants.
//! - [`tags`], [`tagging`]: tags, and tags on messages, contacts, discussions.
//! - [`search`], [`participants`]: full-text search with records, suggestions.
//! - [`notifications`]: what clients poll for.
//! - [`components`]: component deployments (for the runtime).
//! - [`patch`]: RFC 7396 merge patches with the `current_state` check (a field
//!   left out of it must be empty, a patch without changes is a no-op).
//! - [`validate`]: input rules shared by the services.

pub mod account;
pub mod account_deletion;
pub mod attachments;
pub mod auth;
pub mod components;
pub mod contact_cards;
pub mod contact_keys;
pub mod contact_uris;
pub mod contacts;
pub mod devices;
mod discussion_ranges;
mod discussion_upkeep;
pub mod discussions;
pub mod drafts;
mod drafts_compose;
pub mod identities;
pub mod identity_validation;
pub mod import_vcard;
pub mod message_state;
pub mod messages;
pub mod notifications;
pub mod participants;
pub mod passwords;
pub mod patch;
pub mod remote_identities;
pub mod remote_infos;
mod sealed_credentials;
pub mod search;
pub mod tagging;
pub mod tags;
pub(crate) mod throttle;
pub mod users;
pub mod validate;
