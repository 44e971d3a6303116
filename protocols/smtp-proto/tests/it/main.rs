//! The session state machine driven through whole LMTP and SMTP dialogues, its limits,
//! and properties over generated input. One binary for the crate.

mod common;
mod properties;
mod session_limits;
mod session_lmtp;
mod session_smtp;
