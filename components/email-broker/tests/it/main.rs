//! The email broker on the host: golden files, round trips, robustness over generated
//! input and the shared corpus. One binary.

mod common;
mod corpus;
mod golden;
mod robustness;
mod roundtrip;
