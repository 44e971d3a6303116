//! What the session asks of its caller.

use crate::address::ReversePath;
use crate::command::Param;
use crate::reply::Reply;

/// The next thing the caller must do, from [`crate::Session::next_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Write these bytes ([`Reply::to_bytes`]) to the client. Replies may be batched: the
    /// caller may wait until `next_event` returns `None` before flushing.
    Reply(Reply),
    /// Resolve this recipient and answer with [`crate::Session::answer_recipient`] (a 2xx
    /// accepts it; 4xx/5xx refuse it). No other event comes before the answer.
    Recipient {
        /// The recipient, `local@domain` (local part quoted only when needed), or `postmaster`
        /// for the bare `<postmaster>`.
        address: String,
        /// RCPT parameters. Always empty for now: no RCPT extension is advertised, so any
        /// parameter is refused with 555 before reaching the caller.
        params: Vec<Param>,
    },
    /// The next bytes of the message being received (dot-unstuffed, CRLF line endings), in
    /// order, at most about twice the input capacity each. Keep them (in memory, or spooled
    /// to disk) until the DATA phase ends: [`Event::Message`] then says they are a whole
    /// message, and [`Event::DataDropped`] that they are to be thrown away.
    Data(Vec<u8>),
    /// The message being received is refused (too big, or a line too long): throw away what
    /// [`Event::Data`] gave of it. No more data comes for it; the session reads it to its end
    /// and then sends the refusal itself.
    DataDropped,
    /// The message whose bytes came in the [`Event::Data`] since the 354 is complete: store
    /// it durably, then answer with [`crate::Session::answer_message`]: one reply per
    /// recipient, in order, in LMTP; exactly one in SMTP. (A caller that cannot keep it, its
    /// spool full say, answers a 4xx.)
    Message(Envelope),
    /// Flush the replies, upgrade the connection to TLS, then call
    /// [`crate::Session::tls_started`]. Input received before the upgrade is discarded.
    StartTls,
    /// Flush the replies and close the connection. The session is over.
    Close,
}

/// A received message and its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The EHLO/HELO/LHLO argument.
    pub helo: String,
    /// The sender.
    pub mail_from: ReversePath,
    /// The accepted recipients, in RCPT order (the order of LMTP replies).
    pub recipients: Vec<String>,
    /// `BODY=8BITMIME` was given (RFC 6152).
    pub body_8bit: bool,
    /// `SMTPUTF8` was given (RFC 6531).
    pub smtputf8: bool,
    /// The message came over TLS.
    pub tls: bool,
    /// The size of the message in bytes: the sum of its [`Event::Data`] parts (dot-unstuffed,
    /// CRLF line endings, without the final `.` line).
    pub size: usize,
}
