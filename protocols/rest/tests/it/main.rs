//! The REST API's integration tests, one module per resource: each test builds a fresh
//! application over core and the embedded store in a temporary directory (`common::TestApp`) and
//! checks answers against the spec (`common::schema`). One binary for the crate, so the suite
//! links once.

mod auth_attacks;
mod client_session;
mod client_session_account;
mod common;
mod compat_account;
mod compat_contacts;
mod compat_devices;
mod compat_views;
mod contacts;
mod devices;
mod discussions;
mod hostile_keys;
mod hostile_lengths;
mod identities;
mod imports;
mod messages_compat;
mod messages_drafts;
mod messages_received;
mod notifications;
mod openapi;
mod passwords;
mod providers;
mod remote_identities;
mod search;
mod sender_identities;
mod session_attacks;
mod tags;
mod users;
