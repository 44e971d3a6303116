//! Test driver: pushes input the way the socket loop does and answers the session with a
//! scripted resolver and store.
//!
//! Resolver: local parts starting with `unknown` get 550 5.1.1, `busy` gets 450 (no enhanced
//! code, to check the default one), everything else 250. Store: in LMTP, recipients starting
//! with `full` get 552 5.2.2, others 250; in SMTP one 250.
//!
//! STARTTLS is never completed here; tests that need TLS call `tls_started` themselves.

#![allow(dead_code)]

use caliopen_smtp_proto::{Envelope, Event, Mode, Reply, Session, SessionConfig};

/// A config with small limits so tests can reach them.
pub fn config(mode: Mode) -> SessionConfig {
    let mut config = SessionConfig::new(mode, "mx.test");
    config.max_message_size = 1000;
    config.max_recipients = 3;
    config.max_data_line_length = Some(100);
    config.tls_available = true;
    config
}

pub fn answer_for(address: &str) -> Reply {
    if address.starts_with("unknown") {
        Reply::no_such_user()
    } else if address.starts_with("busy") {
        Reply::new(450, None, "Try again later")
    } else {
        Reply::recipient_ok()
    }
}

pub fn message_answers(mode: Mode, envelope: &Envelope) -> Vec<Reply> {
    match mode {
        Mode::Smtp => vec![Reply::message_accepted("Queued")],
        Mode::Lmtp => envelope
            .recipients
            .iter()
            .map(|r| {
                if r.starts_with("full") {
                    Reply::mailbox_full()
                } else {
                    Reply::message_accepted(format!("<{r}> Saved"))
                }
            })
            .collect(),
    }
}

/// Checks the memory bounds the session promises: message bytes are handed over as they come
/// (a bare LF grows by its CR, so one input buffer gives at most twice its size).
pub fn check_caps(session: &Session) {
    assert!(
        session.buffered_input() <= session.input_capacity(),
        "input over capacity"
    );
    assert!(
        session.buffered_data() <= 2 * session.input_capacity(),
        "{} bytes of data held",
        session.buffered_data()
    );
}

/// Calls `next_event` until `None`, answering recipients and messages. Message bytes are
/// recorded as one [`Event::Data`] per message whatever the reads were, and dropped with
/// the message when it is refused, so that the recorded events do not depend on chunking.
pub fn drain(session: &mut Session, events: &mut Vec<Event>) {
    while let Some(event) = session.next_event() {
        check_caps(session);
        match &event {
            Event::Data(bytes) => {
                assert!(!bytes.is_empty(), "an empty Data event");
                if let Some(Event::Data(held)) = events.last_mut() {
                    held.extend_from_slice(bytes);
                    continue;
                }
            }
            Event::DataDropped => {
                while matches!(events.last(), Some(Event::Data(_))) {
                    events.pop();
                }
            }
            Event::Recipient { address, .. } => {
                session.answer_recipient(answer_for(address)).unwrap();
            }
            Event::Message(envelope) => {
                let mode = session.config().mode;
                session
                    .answer_message(message_answers(mode, envelope))
                    .unwrap();
            }
            _ => {}
        }
        events.push(event);
    }
    assert_eq!(session.buffered_data(), 0, "data held after the events");
}

/// Feeds `input` in chunks of the given sizes (the last size repeats; 0 counts as 1), draining
/// after every push like the socket loop does.
pub fn drive_chunks(session: &mut Session, input: &[u8], sizes: &[usize]) -> Vec<Event> {
    let mut events = Vec::new();
    let mut rest = input;
    let mut i = 0;
    while !rest.is_empty() {
        let size = sizes
            .get(i)
            .or(sizes.last())
            .copied()
            .unwrap_or(rest.len())
            .clamp(1, rest.len());
        i += 1;
        let (mut piece, tail) = rest.split_at(size);
        rest = tail;
        while !piece.is_empty() {
            let taken = session.push_input(piece);
            assert!(taken > 0, "push_input made no progress after draining");
            check_caps(session);
            piece = &piece[taken..];
            drain(session, &mut events);
        }
    }
    events
}

/// Feeds `input` as one read.
pub fn drive(session: &mut Session, input: &[u8]) -> Vec<Event> {
    drive_chunks(session, input, &[])
}

/// A session already greeted with EHLO (SMTP) or LHLO (LMTP), greeting events dropped.
pub fn greeted(config: SessionConfig) -> Session {
    let verb = match config.mode {
        Mode::Smtp => "EHLO",
        Mode::Lmtp => "LHLO",
    };
    let mut session = Session::new(config);
    drive(&mut session, format!("{verb} client.test\r\n").as_bytes());
    session
}

/// The transcript: replies as on the wire, other events as bracketed notes.
pub fn render(events: &[Event]) -> String {
    events
        .iter()
        .map(|event| match event {
            Event::Reply(reply) => reply.to_string(),
            Event::Recipient { address, .. } => format!("[rcpt {address}]\n"),
            // Message bytes show in the message's line; a refusal in its reply.
            Event::Data(_) | Event::DataDropped => String::new(),
            Event::Message(envelope) => format!(
                "[message from <{}> to {:?}, {} bytes]\n",
                envelope.mail_from, envelope.recipients, envelope.size
            ),
            Event::StartTls => "[starttls]\n".to_owned(),
            Event::Close => "[close]\n".to_owned(),
        })
        .collect()
}

/// The reply codes, in order, with enhanced codes: `"250 2.1.0"`, `"354"`.
pub fn codes(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Reply(reply) => Some(match reply.enhanced {
                Some(enhanced) => format!("{} {enhanced}", reply.code),
                None => reply.code.to_string(),
            }),
            _ => None,
        })
        .collect()
}

/// The messages handed over.
pub fn messages(events: &[Event]) -> Vec<&Envelope> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Message(envelope) => Some(envelope),
            _ => None,
        })
        .collect()
}

/// The bytes of each message handed over, from the [`Event::Data`] before its
/// [`Event::Message`]; checks that they add up to the envelope's size.
pub fn bodies(events: &[Event]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for event in events {
        match event {
            Event::Data(bytes) => current.extend_from_slice(bytes),
            Event::DataDropped => current.clear(),
            Event::Message(envelope) => {
                assert_eq!(envelope.size, current.len(), "size of {envelope:?}");
                out.push(std::mem::take(&mut current));
            }
            _ => {}
        }
    }
    out
}
