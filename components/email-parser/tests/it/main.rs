//! The email parser on the host: golden files, robustness over generated input and the
//! shared corpus. One binary.

mod common;
mod corpus;
mod golden;
mod robustness;
