//! The Caliopen data model, as the original Caliopen defined it and as clients of
//! its API expect it (see `../shared/caliopen-api/NOTES.md`).
//!
//! - [`user`]: users, their settings and their password hash.
//! - [`identity`]: the addresses a user sends and receives as (local and remote).
//! - [`message`]: messages with participants, bodies, attachments, references,
//!   privacy features, privacy index, importance, tags and flags.
//! - [`discussion`]: messages grouped by their set of participants.
//! - [`tag`]: system and user tags.
//! - [`contact`], [`device`], [`notification`]: the rest of a user's world.
//! - [`participant`]: addresses seen in a user's mail, and participant suggestions.
//! - [`pi`]: the privacy index.

pub mod contact;
pub mod device;
pub mod discussion;
pub mod identity;
pub mod message;
pub mod notification;
pub mod participant;
pub mod pi;
pub mod tag;
pub mod user;

pub use contact::Contact;
pub use device::Device;
pub use discussion::Discussion;
pub use identity::{Identity, IdentityKind};
pub use message::{Message, Participant, ParticipantRole};
pub use notification::Notification;
pub use pi::Pi;
pub use tag::{Tag, TagKind};
pub use user::{Settings, User};
