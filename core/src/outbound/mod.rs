//! Outbound mail.
//!
//! 1. [`send`]: `Core::send_draft` renders a draft into a MIME message through the
//!    [`port::OutboundRenderer`] (the runtime's broker component), stores the bytes
//!    as a blob, and in one batch turns the draft into a sent message (kept in its
//!    discussion, state `queued`) and puts a job in the durable outbound queue.
//! 2. [`queue`]: the SMTP client (`caliopen-smtp`) takes due jobs and reports what
//!    the relay said: sent; a temporary failure retried with backoff; a permanent
//!    one (or the last attempt) bounces: the message's state says why and the user
//!    gets a notification. Without a relay configured, jobs wait and say so.
//! 3. [`sender`]: what may be sent: the sending identity's check (a local address
//!    only by its user, a remote one only once verified) and the per-user limit.
//! 4. [`notice`]: mail the server sends for a user (identity confirmation codes),
//!    through the same queue and limit.

pub(crate) mod notice;
pub mod port;
pub mod queue;
pub mod send;
pub(crate) mod sender;

pub use port::{OutboundAttachment, OutboundDraft, OutboundRenderer};
pub use queue::OutboundJob;
