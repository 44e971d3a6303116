//! The session: input buffering, the event queue and the caller's answers. Command handling
//! lives in `session/handlers.rs`.
//!
//! Flow: the caller pushes bytes with [`Session::push_input`], then calls
//! [`Session::next_event`] until it returns `None`. Each call takes the next queued event or
//! processes one more command line (or all buffered DATA bytes). Processing stops while the
//! session waits for an answer (recipient, message, TLS upgrade) and once it is closed.
//!
//! Memory is bounded: unprocessed input never exceeds the input capacity (`push_input` accepts
//! less when full), a partial command line longer than the limit is dropped as it arrives, and
//! DATA keeps nothing: each batch of message bytes goes to the caller as an [`Event::Data`]
//! (at most about twice the input capacity), so where a message waits (memory, disk) and how
//! much of it is the caller's choice.

mod handlers;

use std::collections::VecDeque;
use std::mem;

use crate::address::ReversePath;
use crate::command::parse_command;
use crate::config::{Mode, SessionConfig};
use crate::data::DataReader;
use crate::event::Event;
use crate::reply::{EnhancedCode, Reply};

/// A caller's call that does not fit the session's state. The session is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// `answer_recipient` without a pending [`Event::Recipient`].
    #[error("the session is not waiting for a recipient answer")]
    NotAwaitingRecipient,
    /// `answer_message` without a pending [`Event::Message`].
    #[error("the session is not waiting for a message answer")]
    NotAwaitingMessage,
    /// `tls_started` without a pending [`Event::StartTls`].
    #[error("the session is not waiting for a TLS upgrade")]
    NotAwaitingTls,
    /// The wrong number of replies after DATA.
    #[error("expected {expected} replies after DATA, got {got}")]
    ReplyCount {
        /// One per accepted recipient in LMTP, one in SMTP.
        expected: usize,
        /// What the caller gave.
        got: usize,
    },
    /// An answer that is not 2xx, 4xx or 5xx.
    #[error("reply code {0} is not a final answer (2xx, 4xx or 5xx)")]
    InvalidCode(u16),
}

/// One SMTP or LMTP server session, without I/O.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    /// Received bytes; those before `pos` are processed.
    input: Vec<u8>,
    pos: usize,
    input_capacity: usize,
    /// Inside a command line that is already too long: skip to its LF.
    discarding_line: bool,
    state: State,
    helo: Option<String>,
    tls_active: bool,
    transaction: Option<Transaction>,
    errors: usize,
    /// Recipients refused with a 5xx in this session (SMTP mode's limit).
    refused_recipients: usize,
    events: VecDeque<Event>,
}

#[derive(Debug)]
enum State {
    Command,
    Data(DataReader),
    AwaitRecipient { address: String },
    AwaitMessage { replies: usize },
    AwaitTls,
    Closed,
}

/// A mail transaction, from MAIL to the end of DATA (or RSET).
#[derive(Debug)]
struct Transaction {
    mail_from: ReversePath,
    body_8bit: bool,
    smtputf8: bool,
    recipients: Vec<String>,
}

/// Input buffer capacity kept between pushes; larger allocations are released when drained.
const RETAINED_INPUT_CAPACITY: usize = 4096;

impl Session {
    /// A new session; write [`Session::greeting`] to the client first.
    pub fn new(config: SessionConfig) -> Self {
        let input_capacity = config.max_input_buffer.max(config.max_line_length).max(1);
        Self {
            config,
            input: Vec::new(),
            pos: 0,
            input_capacity,
            discarding_line: false,
            state: State::Command,
            helo: None,
            tls_active: false,
            transaction: None,
            errors: 0,
            refused_recipients: 0,
            events: VecDeque::new(),
        }
    }

    /// The session's configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The 220 greeting to send when the connection opens.
    pub fn greeting(&self) -> Reply {
        let protocol = match self.config.mode {
            Mode::Smtp => "ESMTP",
            Mode::Lmtp => "LMTP",
        };
        Reply::new(
            220,
            None,
            format!("{} {protocol} ready", self.config.hostname),
        )
    }

    /// Offers received bytes and returns how many were taken: all of them unless the input
    /// buffer is full. Bytes not taken must be pushed again after draining
    /// [`Session::next_event`] (and answering what it asks); after that there is always room
    /// for at least one byte.
    /// While a TLS upgrade is pending and once closed, everything is taken and discarded.
    #[must_use = "bytes not taken must be pushed again after draining next_event"]
    pub fn push_input(&mut self, bytes: &[u8]) -> usize {
        if matches!(self.state, State::AwaitTls | State::Closed) {
            return bytes.len();
        }
        self.input.drain(..self.pos);
        self.pos = 0;
        if self.input.capacity() > RETAINED_INPUT_CAPACITY
            && self.input.len() <= RETAINED_INPUT_CAPACITY
        {
            self.input.shrink_to(RETAINED_INPUT_CAPACITY);
        }
        let taken = bytes.len().min(self.input_capacity - self.input.len());
        self.input.extend_from_slice(&bytes[..taken]);
        taken
    }

    /// The next event, or `None` when the session needs more input, waits for an answer
    /// (recipient, message or TLS) or is closed.
    pub fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(event);
            }
            let progressed = match self.state {
                State::Command => self.step_command(),
                State::Data(_) => self.step_data(),
                _ => false,
            };
            if !progressed {
                return None;
            }
        }
    }

    /// Answers an [`Event::Recipient`]: a 2xx accepts the recipient, a 4xx/5xx refuses it. The
    /// reply is sent as is, with a default enhanced code (`2.0.0`...) if it has none. In SMTP
    /// mode, the 5xx that reaches `max_refused_recipients` is followed by 421 and the close.
    pub fn answer_recipient(&mut self, reply: Reply) -> Result<(), UsageError> {
        if !matches!(self.state, State::AwaitRecipient { .. }) {
            return Err(UsageError::NotAwaitingRecipient);
        }
        check_final(&reply)?;
        let refused = reply.is_permanent();
        if let State::AwaitRecipient { address } = mem::replace(&mut self.state, State::Command)
            && reply.is_positive()
            && let Some(transaction) = &mut self.transaction
        {
            transaction.recipients.push(address);
        }
        self.reply(reply);
        let limit = self.config.max_refused_recipients;
        if refused && self.config.mode == Mode::Smtp && limit != 0 {
            self.refused_recipients += 1;
            if self.refused_recipients >= limit {
                let text = format!(
                    "{} Too many refused recipients, closing connection",
                    self.config.hostname
                );
                self.close(Reply::new(421, EnhancedCode(4, 7, 0), text));
            }
        }
        Ok(())
    }

    /// Answers an [`Event::Message`] with one reply per recipient in envelope order (LMTP) or
    /// exactly one reply (SMTP). The transaction is then over.
    pub fn answer_message(&mut self, replies: Vec<Reply>) -> Result<(), UsageError> {
        let State::AwaitMessage { replies: expected } = self.state else {
            return Err(UsageError::NotAwaitingMessage);
        };
        if replies.len() != expected {
            return Err(UsageError::ReplyCount {
                expected,
                got: replies.len(),
            });
        }
        replies.iter().try_for_each(check_final)?;
        self.state = State::Command;
        replies.into_iter().for_each(|reply| self.reply(reply));
        Ok(())
    }

    /// Tells the session the TLS handshake succeeded after [`Event::StartTls`]. The session
    /// forgets everything learnt before (RFC 3207 §4.2): the client must greet again.
    pub fn tls_started(&mut self) -> Result<(), UsageError> {
        if !matches!(self.state, State::AwaitTls) {
            return Err(UsageError::NotAwaitingTls);
        }
        self.state = State::Command;
        self.tls_active = true;
        self.helo = None;
        self.transaction = None;
        self.input.clear();
        self.pos = 0;
        self.discarding_line = false;
        Ok(())
    }

    /// Whether the session is over (after QUIT or a 421).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Whether a mail transaction is open: from an accepted MAIL to the end of its DATA (or
    /// RSET, or a new greeting). The caller's whole-transaction deadline runs meanwhile.
    pub fn in_transaction(&self) -> bool {
        self.transaction.is_some()
    }

    /// Whether the session is reading message bytes (after the 354, until the end of data).
    pub fn in_data(&self) -> bool {
        matches!(self.state, State::Data(_))
    }

    /// Whether TLS is active.
    pub fn tls_active(&self) -> bool {
        self.tls_active
    }

    /// The client's EHLO/HELO/LHLO argument, once greeted.
    pub fn helo(&self) -> Option<&str> {
        self.helo.as_deref()
    }

    /// Unprocessed input bytes held, at most [`Session::input_capacity`].
    pub fn buffered_input(&self) -> usize {
        self.input.len() - self.pos
    }

    /// The most unprocessed input the session holds.
    pub fn input_capacity(&self) -> usize {
        self.input_capacity
    }

    /// Message bytes held during DATA and not yet handed over in an [`Event::Data`]: none
    /// once [`Session::next_event`] returned `None`, and never more than about twice the input
    /// capacity.
    pub fn buffered_data(&self) -> usize {
        match &self.state {
            State::Data(reader) => reader.pending(),
            _ => 0,
        }
    }

    /// Processes one command line if a whole one is buffered.
    fn step_command(&mut self) -> bool {
        let pending = &self.input[self.pos..];
        let Some(lf) = pending.iter().position(|&b| b == b'\n') else {
            if pending.len() >= self.config.max_line_length {
                self.discarding_line = true;
                self.pos = self.input.len();
            }
            return false;
        };
        let start = self.pos;
        self.pos += lf + 1;
        if mem::take(&mut self.discarding_line) || lf + 1 > self.config.max_line_length {
            self.reject(Reply::new(500, EnhancedCode(5, 5, 2), "Line too long"));
        } else {
            match parse_command(&self.input[start..start + lf]) {
                Ok(command) => self.handle_command(command),
                Err(error) => self.reject(error.reply()),
            }
        }
        true
    }

    /// Feeds buffered bytes to the DATA reader and hands over what it produced; true when
    /// that queued an event or ended the data.
    fn step_data(&mut self) -> bool {
        let State::Data(reader) = &mut self.state else {
            return false;
        };
        let was_refused = reader.refused();
        let (used, done) = reader.feed(&self.input[self.pos..]);
        self.pos += used;
        let queued = self.events.len();
        if reader.pending() > 0 {
            self.events.push_back(Event::Data(reader.take()));
        }
        if reader.refused() && !was_refused {
            self.events.push_back(Event::DataDropped);
        }
        if done && let State::Data(reader) = mem::replace(&mut self.state, State::Command) {
            self.finish_data(reader);
        }
        done || self.events.len() > queued
    }

    /// Queues a reply, adding the default enhanced code to a 2xx/4xx/5xx that lacks one.
    fn reply(&mut self, mut reply: Reply) {
        if reply.enhanced.is_none() && matches!(reply.code, 200..=299 | 400..=599) {
            reply.enhanced = Some(EnhancedCode((reply.code / 100) as u8, 0, 0));
        }
        self.events.push_back(Event::Reply(reply));
    }

    /// Queues a reply without enhanced code (greeting-type replies, 354).
    fn reply_plain(&mut self, reply: Reply) {
        self.events.push_back(Event::Reply(reply));
    }

    /// Answers a bad command, or closes with 421 when there were too many.
    fn reject(&mut self, reply: Reply) {
        self.errors += 1;
        if self.config.max_errors != 0 && self.errors >= self.config.max_errors {
            let text = format!(
                "{} Too many errors, closing connection",
                self.config.hostname
            );
            self.close(Reply::new(421, EnhancedCode(4, 7, 0), text));
        } else {
            self.reply(reply);
        }
    }

    /// Sends a last reply and ends the session.
    fn close(&mut self, reply: Reply) {
        self.reply(reply);
        self.events.push_back(Event::Close);
        self.state = State::Closed;
        self.transaction = None;
        self.input = Vec::new();
        self.pos = 0;
    }
}

/// Answers from the caller must be final: 2xx, 4xx or 5xx.
fn check_final(reply: &Reply) -> Result<(), UsageError> {
    match reply.code {
        200..=299 | 400..=599 => Ok(()),
        code => Err(UsageError::InvalidCode(code)),
    }
}
