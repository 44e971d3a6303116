//! The LMTP/SMTP server against real peers (swaks, Python's smtplib, a real Postfix in
//! front) and against clients that misbehave, one module per peer or concern. One binary for the
//! crate, so the suite links once.

mod common;
mod hostile_connections;
mod hostile_data;
mod postfix;
mod resilience;
mod smtplib;
mod startup;
mod swaks;
