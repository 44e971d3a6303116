//! SMTP (RFC 5321) and LMTP (RFC 2033) server sessions without I/O: the socket loop in
//! `caliopen-smtp` owns the stream, timeouts and TLS; this crate takes every protocol
//! decision and is tested byte for byte.
//!
//! Module map:
//! - [`session`]: [`Session`], the state machine: buffering, event queue, caller's answers;
//!   `session/handlers.rs` holds one handler per command.
//! - [`command`]: [`parse_command`] and [`Command`], one command line at a time.
//! - [`address`]: mailboxes and paths ([`ReversePath`], [`ForwardPath`]).
//! - [`reply`]: [`Reply`] and its wire form.
//! - [`event`]: [`Event`]s for the caller and the received [`Envelope`].
//! - [`config`]: [`SessionConfig`] and [`Mode`].
//! - `data` (private): the DATA phase, dot-unstuffing and limits; its module doc says how
//!   bare LF and CR and long lines are handled. Message bytes are handed to the caller as
//!   they arrive ([`Event::Data`]): the session never holds a whole message.
//!
//! Extensions advertised: PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME (RFC 6152),
//! ENHANCEDSTATUSCODES (RFC 2034, RFC 3463), SMTPUTF8 (RFC 6531), STARTTLS (RFC 3207).
//!
//! The caller's loop:
//!
//! ```
//! use caliopen_smtp_proto::{Event, Mode, Reply, Session, SessionConfig};
//!
//! let mut session = Session::new(SessionConfig::new(Mode::Lmtp, "mx.example.org"));
//! let mut out = session.greeting().to_bytes();
//! // The message being received (a real server spools it to disk past a bound).
//! let mut message = Vec::new();
//! // What one read from the socket returned:
//! let read: &[u8] = b"LHLO client\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\n\
//!     DATA\r\nSubject: hi\r\n\r\nHello\r\n.\r\nQUIT\r\n";
//! let mut input = read;
//! 'connection: while !input.is_empty() {
//!     let taken = session.push_input(input);
//!     input = &input[taken..];
//!     while let Some(event) = session.next_event() {
//!         match event {
//!             Event::Reply(reply) => reply.write_to(&mut out),
//!             // Ask core whether `address` exists (async in real life).
//!             Event::Recipient { .. } => session.answer_recipient(Reply::recipient_ok())?,
//!             // Keep the message's bytes as they come; drop them if it is refused.
//!             Event::Data(bytes) => message.extend_from_slice(&bytes),
//!             Event::DataDropped => message.clear(),
//!             // Store the message durably, then answer for each recipient.
//!             Event::Message(envelope) => {
//!                 assert_eq!(std::mem::take(&mut message), b"Subject: hi\r\n\r\nHello\r\n");
//!                 let replies = envelope.recipients.iter().map(|_| Reply::message_accepted("Saved")).collect();
//!                 session.answer_message(replies)?;
//!             }
//!             // Flush `out`, do the TLS handshake, then:
//!             Event::StartTls => session.tls_started()?,
//!             // Flush `out` and close the socket.
//!             Event::Close => break 'connection,
//!         }
//!     }
//!     // Flush `out` here: pipelined replies go out together.
//! }
//! assert!(String::from_utf8(out)?.ends_with("250 2.0.0 Saved\r\n221 2.0.0 mx.example.org Bye\r\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod address;
pub mod command;
pub mod config;
mod data;
pub mod event;
pub mod reply;
pub mod session;

pub use address::{AddressError, ForwardPath, Mailbox, ReversePath};
pub use command::{Command, Param, SyntaxError, parse_command};
pub use config::{Mode, SessionConfig};
pub use event::{Envelope, Event};
pub use reply::{EnhancedCode, Reply};
pub use session::{Session, UsageError};
