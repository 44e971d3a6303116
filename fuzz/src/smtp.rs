//! The SMTP/LMTP targets, over `caliopen-smtp-proto`.
//!
//! `command`: any byte string as one command line. Beyond "no panic": a refused line gets a
//! permanent (5xx) reply with a well-formed wire form; an accepted line prints (`Display`) as
//! a single line of printable text that parses back to the same command.
//!
//! `session`: a whole client conversation driven through the state machine the way the
//! socket loop drives it. Input layout: byte 0 picks the configuration (bit 0 LMTP, bit 1
//! small limits, bit 2 never close on errors, bit 3 TLS available, bit 4 complete STARTTLS
//! handshakes); byte 1 seeds the read sizes (0: one read); the rest is what the client
//! sends. Recipients and messages are answered from their length, so every answer kind is
//! reached. Beyond "no panic": buffers stay within their caps; `push_input` always makes
//! progress after draining; no event after `Close`; every reply renders as CRLF-terminated
//! lines; message bytes come only inside DATA, none after the message was dropped, and none
//! stay held once the events are drained; a message respects the recipient, size and line
//! limits, adds up to its announced size and uses CRLF only; the caller's answers are
//! accepted exactly when the session asked for them.

use caliopen_smtp_proto::{
    Command, Envelope, Event, Mode, Reply, Session, SessionConfig, parse_command,
};

/// One command line.
pub fn command(line: &[u8]) {
    match parse_command(line) {
        Err(error) => {
            let reply = error.reply();
            assert!(reply.is_permanent(), "{error:?} answered {reply:?}");
            let wire = reply.to_bytes();
            assert!(wire.ends_with(b"\r\n"), "{wire:?}");
            let body = &wire[..wire.len() - 2];
            assert!(!body.contains(&b'\n') || reply.lines.len() > 1, "{wire:?}");
        }
        Ok(command) => {
            let printed = command.to_string();
            assert!(
                !printed.contains(['\r', '\n']),
                "{command:?} prints as more than one line: {printed:?}"
            );
            let reparsed = parse_command(printed.as_bytes());
            assert_eq!(
                reparsed.as_ref(),
                Ok(&command),
                "{line:?} parsed as {command:?}, printed as {printed:?}"
            );
            if let Command::Unknown(verb) = &command {
                assert!(verb.bytes().all(|b| b.is_ascii_graphic()), "{verb:?}");
            }
        }
    }
}

struct Driver {
    session: Session,
    config: SessionConfig,
    complete_tls: bool,
    closed: bool,
    /// STARTTLS was asked and the handshake "failed": the connection is dropped.
    dropped: bool,
    /// Between a 354 and the end of its message (its Message event or refusal).
    in_data: bool,
    /// The bytes of the message being received, as the caller would spool them.
    message: Vec<u8>,
    /// The message being received was dropped: no more data may come for it.
    message_dropped: bool,
}

/// One conversation (layout in the module documentation).
pub fn session(data: &[u8]) {
    let [flags, seed, input @ ..] = data else {
        return;
    };
    let mut driver = Driver::new(*flags);
    let mut rng = u32::from(*seed);
    let mut rest = input;
    while !rest.is_empty() {
        let size = if *seed == 0 {
            rest.len()
        } else {
            next_size(&mut rng)
        }
        .min(rest.len());
        let (mut piece, tail) = rest.split_at(size);
        rest = tail;
        while !piece.is_empty() {
            if driver.dropped {
                // After a failed handshake the loop drops the connection; the session would
                // discard anything more.
                assert_eq!(driver.session.push_input(piece), piece.len());
                assert!(driver.session.next_event().is_none());
                return;
            }
            let taken = driver.session.push_input(piece);
            assert!(taken > 0, "push_input made no progress after draining");
            driver.check_caps();
            piece = &piece[taken..];
            driver.drain();
        }
    }
}

/// Read sizes of 1 to 64 bytes from a small LCG.
fn next_size(state: &mut u32) -> usize {
    *state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
    (((*state >> 16) & 63) + 1) as usize
}

impl Driver {
    fn new(flags: u8) -> Self {
        let mode = if flags & 1 == 0 {
            Mode::Smtp
        } else {
            Mode::Lmtp
        };
        let mut config = SessionConfig::new(mode, "mx.fuzz.test");
        if flags & 2 != 0 {
            config.max_message_size = 200;
            config.max_recipients = 3;
            config.max_line_length = 64;
            config.max_data_line_length = Some(50);
            config.max_refused_recipients = 4;
            config.max_input_buffer = 96;
        }
        config.max_errors = if flags & 4 != 0 { 0 } else { 10 };
        config.tls_available = flags & 8 != 0;
        let session = Session::new(config.clone());
        assert!(session.greeting().to_bytes().starts_with(b"220 "));
        Self {
            session,
            config,
            complete_tls: flags & 16 != 0,
            closed: false,
            dropped: false,
            in_data: false,
            message: Vec::new(),
            message_dropped: false,
        }
    }

    fn check_caps(&self) {
        assert!(self.session.buffered_input() <= self.session.input_capacity());
        // A bare LF grows by its CR: one input buffer gives at most twice its size.
        assert!(self.session.buffered_data() <= 2 * self.session.input_capacity());
        assert!(self.message.len() <= self.config.max_message_size);
    }

    /// Takes every event and answers what is asked, then checks that nothing else is.
    fn drain(&mut self) {
        while let Some(event) = self.session.next_event() {
            assert!(!self.closed, "event after Close: {event:?}");
            self.check_caps();
            match event {
                Event::Reply(reply) => {
                    check_reply(&reply);
                    if reply.code == 354 {
                        assert!(self.message.is_empty(), "data before the 354");
                        (self.in_data, self.message_dropped) = (true, false);
                    } else if self.in_data {
                        // The refusal of a dropped message ends it.
                        assert!(self.message_dropped, "{reply:?} inside DATA");
                        self.in_data = false;
                    }
                }
                Event::Data(bytes) => {
                    assert!(self.in_data, "data outside DATA");
                    assert!(!bytes.is_empty(), "an empty Data event");
                    assert!(!self.message_dropped, "data after DataDropped");
                    self.message.extend_from_slice(&bytes);
                }
                Event::DataDropped => {
                    assert!(self.in_data && !self.message_dropped, "a stray DataDropped");
                    self.message.clear();
                    self.message_dropped = true;
                }
                Event::Recipient { address, params } => {
                    assert!(
                        params.is_empty(),
                        "RCPT parameters reached the caller: {params:?}"
                    );
                    let answer = match address.len() % 4 {
                        0 => Reply::no_such_user(),
                        1 => Reply::new(450, None, "Try again later"),
                        _ => Reply::recipient_ok(),
                    };
                    self.session
                        .answer_recipient(answer)
                        .expect("the session asked for a recipient answer");
                }
                Event::Message(envelope) => {
                    assert!(self.in_data, "a message outside DATA");
                    assert!(!self.message_dropped, "a dropped message handed over");
                    self.check_message(&envelope);
                    self.message.clear();
                    self.in_data = false;
                    let replies = match self.config.mode {
                        Mode::Smtp => vec![Reply::message_accepted("Queued")],
                        Mode::Lmtp => envelope
                            .recipients
                            .iter()
                            .map(|r| {
                                if r.len() % 3 == 0 {
                                    Reply::mailbox_full()
                                } else {
                                    Reply::message_accepted("Saved")
                                }
                            })
                            .collect(),
                    };
                    self.session
                        .answer_message(replies)
                        .expect("the session asked for a message answer");
                }
                Event::StartTls => {
                    assert!(
                        self.config.tls_available && !self.session.tls_active(),
                        "STARTTLS not offered"
                    );
                    if self.complete_tls {
                        self.session
                            .tls_started()
                            .expect("the session asked for TLS");
                        assert!(self.session.tls_active() && self.session.helo().is_none());
                    } else {
                        // A failed handshake: the socket loop drops the connection.
                        self.dropped = true;
                    }
                }
                Event::Close => {
                    assert!(self.session.is_closed());
                    self.closed = true;
                }
            }
        }
        assert_eq!(
            self.session.buffered_data(),
            0,
            "data held after the events"
        );
        assert_eq!(self.session.in_data(), self.in_data, "DATA phase");
        // Waiting for input: no answer is expected, so every answer is a usage error.
        assert!(
            self.session
                .answer_recipient(Reply::recipient_ok())
                .is_err()
        );
        assert!(self.session.answer_message(vec![Reply::ok()]).is_err());
        if !self.dropped {
            assert!(self.session.tls_started().is_err());
        }
    }

    fn check_message(&self, envelope: &Envelope) {
        assert!(
            !envelope.recipients.is_empty(),
            "a message without recipients"
        );
        assert!(envelope.recipients.len() <= self.config.max_recipients);
        let data = &self.message;
        assert_eq!(data.len(), envelope.size, "data and size disagree");
        assert!(
            data.len() <= self.config.max_message_size,
            "{} bytes kept",
            data.len()
        );
        assert!(
            data.is_empty() || data.ends_with(b"\r\n"),
            "data does not end with CRLF"
        );
        for (i, &b) in data.iter().enumerate() {
            assert!(
                b != b'\n' || (i > 0 && data[i - 1] == b'\r'),
                "bare LF stored at {i}"
            );
        }
        // Lines are measured on the wire; a bare LF grows by its CR when stored. LMTP takes
        // lines of any length.
        if let (Mode::Smtp, Some(max)) = (self.config.mode, self.config.max_data_line_length) {
            for line in data.split_inclusive(|&b| b == b'\n') {
                assert!(line.len() <= max + 1, "a {}-byte line", line.len());
            }
        }
    }
}

fn check_reply(reply: &Reply) {
    assert!((200..=599).contains(&reply.code), "{reply:?}");
    let wire = reply.to_bytes();
    assert!(wire.ends_with(b"\r\n"));
    let lines: Vec<&[u8]> = wire[..wire.len() - 2].split(|&b| b == b'\n').collect();
    assert_eq!(lines.len(), reply.lines.len().max(1), "{wire:?}");
    for (i, line) in lines.iter().enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        assert!(!line.contains(&b'\r'), "{wire:?}");
        let last = i + 1 == lines.len();
        assert_eq!(
            line.get(3),
            Some(if last { &b' ' } else { &b'-' }),
            "{wire:?}"
        );
    }
}
