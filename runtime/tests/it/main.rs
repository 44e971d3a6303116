//! The `caliopen` runtime end to end, one module per concern: components in the test
//! process (`common::inproc`), the real binary with its listeners (`common::node`), the fault
//! drills (`common::drills`), hot swap, interpreted guests, outbound mail and the corpus. One
//! binary for the crate, so the suite links Wasmtime once.

mod attachments;
mod client_session;
mod cluster;
mod common;
mod corpus;
mod crash_recovery;
mod drills_crash;
mod drills_disk;
mod drills_hostile;
mod drills_soak;
mod health;
mod hostile_edges;
mod hostile_headers;
mod hot_swap;
mod http_listener;
mod import;
mod import_corpus;
mod interpreted;
mod large_mail;
mod mail_auth;
mod outbound;
mod parser_component;
mod pipeline_threads;
mod private_data;
mod rest_memory;
mod sandbox;
mod walking_skeleton;
mod wasm_limits;
