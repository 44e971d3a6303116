//! Core's operations, one module per resource; each adds methods to [`crate::Core`].

pub mod auth;
pub mod contacts;
pub mod discussions;
pub mod identities;
pub mod messages;
pub mod tags;
pub mod users;
pub mod validate;
