//! The Scylla backend: configuration and statements (no server), and the conformance
//! suite against a real server named by CALIOPEN_TEST_SCYLLA. One binary.

mod config;
mod conformance;
mod limits;
mod statements;
