//! Core's services against the real embedded store in a temporary directory:
//! happy paths, validation errors (with the field they name), merge-patch
//! conflicts, counters, cross-tenant isolation and account deletion. Received
//! mail goes through the real delivery pipeline with a header-reading test
//! double of the component chain (`harness::HeaderProcessor`).

mod account;
mod blob_deletion;
mod cluster;
mod contacts;
mod credentials_key;
mod delivery;
mod devices;
mod discussions;
mod drafts;
mod gpg;
mod harness;
mod health;
mod hostile_mail;
mod identities;
mod indexes;
mod isolation;
mod messages;
mod notifications;
mod openpgp;
mod participants;
mod remote_credentials;
mod search;
mod tags;
