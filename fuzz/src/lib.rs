//! Caliopen's fuzz targets, one function per target so that libFuzzer (`fuzz_targets/`,
//! nightly) and the stable runner (`src/bin/fuzz-ci.rs`, CI) check the same properties.
//!
//! - `smtp`: `command` (one command line) and `session` (a whole conversation) over
//!   `caliopen-smtp-proto`;
//! - `rest`: `rest_json`, the REST API's main request bodies through its JSON extractor;
//! - `parser`: `parser_component`, raw mail through the email-parser component in the host;
//! - `runner`: seed replay and seeded mutation for a time budget, on stable.
//!
//! Each target panics on a finding. See docs/fuzzing.md.

pub mod parser;
pub mod rest;
pub mod runner;
pub mod smtp;

pub use parser::parser_component;
pub use rest::rest_json;
pub use smtp::{command, session};

/// A target: its name (the `fuzz_targets/` file and the seed folder) and its function.
pub type Target = (&'static str, fn(&[u8]));

/// Every target.
pub const TARGETS: &[Target] = &[
    ("command", command),
    ("session", session),
    ("rest_json", rest_json),
    ("parser_component", parser_component),
];
