//! Limits, error handling and the DATA phase, over whole sessions.

use crate::common;

use caliopen_smtp_proto::{Event, Mode, Session};
use common::{bodies, codes, config, drive, drive_chunks, greeted, messages, render};

fn transaction(data: &[u8]) -> Vec<u8> {
    let mut input = b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n".to_vec();
    input.extend_from_slice(data);
    input
}

#[test]
fn size_parameter_over_the_limit_is_refused_up_front() {
    let mut session = greeted(config(Mode::Smtp));
    let events = drive(
        &mut session,
        b"MAIL FROM:<a@x.test> SIZE=1001\r\nRCPT TO:<b@mx.test>\r\nMAIL FROM:<a@x.test> SIZE=99999999999999999999999\r\n\
          MAIL FROM:<a@x.test> SIZE=1000\r\n",
    );
    assert_eq!(
        render(&events),
        "552 5.3.4 Message size exceeds fixed maximum message size\r\n\
         503 5.5.1 Need MAIL command\r\n\
         552 5.3.4 Message size exceeds fixed maximum message size\r\n\
         250 2.1.0 Sender OK\r\n"
    );
}

#[test]
fn oversized_data_is_read_to_the_end_but_not_kept() {
    let mut session = greeted(config(Mode::Smtp));
    let line = "z".repeat(78) + "\r\n";
    let mut input = transaction(line.repeat(100).as_bytes());
    input.extend_from_slice(b".\r\nNOOP\r\n");
    // Small reads: `drive_chunks` checks after each push that at most 1000 bytes are kept.
    let events = drive_chunks(&mut session, &input, &[37]);
    assert!(messages(&events).is_empty());
    assert_eq!(
        codes(&events),
        ["250 2.1.0", "250 2.1.5", "354", "552 5.3.4", "250 2.0.0"]
    );
}

#[test]
fn message_exactly_at_the_limit_is_accepted() {
    let mut session = greeted(config(Mode::Smtp));
    let data = "q".repeat(98) + "\r\n";
    let mut input = transaction(data.repeat(10).as_bytes());
    input.extend_from_slice(b".\r\n");
    let events = drive(&mut session, &input);
    assert_eq!(messages(&events)[0].size, 1000);
    assert_eq!(bodies(&events)[0], data.repeat(10).as_bytes());
}

#[test]
fn dot_unstuffing() {
    let mut session = greeted(config(Mode::Smtp));
    let events = drive(
        &mut session,
        &transaction(b"..\r\n..leading\r\nmid.dle\r\n...\r\n.\r\n"),
    );
    assert_eq!(bodies(&events)[0], b".\r\n.leading\r\nmid.dle\r\n..\r\n");
}

#[test]
fn bare_lf_is_tolerated_in_commands_and_data() {
    let mut session = Session::new(config(Mode::Smtp));
    let mut input = b"EHLO c\nMAIL FROM:<a@x.test>\nRCPT TO:<b@mx.test>\nDATA\n".to_vec();
    // Bare LFs are stored as CRLF; `LF . LF` is text, only `CRLF . CRLF` ends the data.
    input.extend_from_slice(b"one\ntwo\n.\nthree\r\n.\r\nNOOP\n");
    let events = drive(&mut session, &input);
    assert_eq!(bodies(&events)[0], b"one\r\ntwo\r\n.\r\nthree\r\n");
    assert_eq!(codes(&events).last().unwrap(), "250 2.0.0");
}

#[test]
fn command_line_too_long_is_refused_and_stays_in_sync() {
    let mut session = greeted(config(Mode::Smtp));
    let long = format!("NOOP {}\r\n", "a".repeat(600));
    let exact = format!("NOOP {}\r\n", "b".repeat(505));
    assert_eq!(exact.len(), 512);
    let over = format!("NOOP {}\r\n", "b".repeat(506));
    let input = format!("{long}{exact}{over}RSET\r\n");
    let expected = ["500 5.5.2", "250 2.0.0", "500 5.5.2", "250 2.0.0"];
    assert_eq!(codes(&drive(&mut session, input.as_bytes())), expected);
    // Same answers when the long line arrives in small pieces.
    let mut session = greeted(config(Mode::Smtp));
    assert_eq!(
        codes(&drive_chunks(&mut session, input.as_bytes(), &[7])),
        expected
    );
    assert_eq!(
        render(&drive(&mut session, b"x".repeat(300).as_slice())),
        ""
    );
    assert!(session.buffered_input() < 512);
}

#[test]
fn too_many_errors_close_the_session() {
    let mut config = config(Mode::Smtp);
    config.max_errors = 3;
    let mut session = Session::new(config);
    let events = drive(
        &mut session,
        b"BOGUS\r\nMAIL FROM:<a@x.test>\r\nNOOP\r\n\0\r\nNOOP\r\n",
    );
    assert_eq!(
        render(&events),
        "500 5.5.1 Command unrecognized\r\n\
         503 5.5.1 Send EHLO/HELO first\r\n\
         250 2.0.0 OK\r\n\
         421 4.7.0 mx.test Too many errors, closing connection\r\n\
         [close]\n"
    );
    assert!(session.is_closed());
    assert_eq!(session.next_event(), None);
}

#[test]
fn too_many_recipients() {
    let mut session = greeted(config(Mode::Smtp));
    let events = drive(
        &mut session,
        b"MAIL FROM:<a@x.test>\r\nRCPT TO:<unknown@mx.test>\r\nRCPT TO:<r1@mx.test>\r\nRCPT TO:<r2@mx.test>\r\n\
          RCPT TO:<r3@mx.test>\r\nRCPT TO:<r4@mx.test>\r\nDATA\r\n.\r\n",
    );
    assert_eq!(
        codes(&events)[..6],
        [
            "250 2.1.0",
            "550 5.1.1",
            "250 2.1.5",
            "250 2.1.5",
            "250 2.1.5",
            "452 4.5.3"
        ]
    );
    assert_eq!(
        messages(&events)[0].recipients,
        ["r1@mx.test", "r2@mx.test", "r3@mx.test"]
    );
}

#[test]
fn data_without_recipients_in_smtp() {
    let mut session = greeted(config(Mode::Smtp));
    let events = drive(&mut session, b"MAIL FROM:<a@x.test>\r\nDATA\r\n");
    assert_eq!(codes(&events), ["250 2.1.0", "503 5.5.1"]);
}

#[test]
fn input_is_taken_only_up_to_capacity() {
    let mut config = config(Mode::Smtp);
    config.max_input_buffer = 600;
    let mut session = greeted(config);
    let input = b"NOOP\r\n".repeat(200);
    assert_eq!(
        session.push_input(&input),
        600,
        "the rest waits for the next push"
    );
    assert_eq!(session.buffered_input(), 600);
    let mut replies = 0;
    while let Some(Event::Reply(_)) = session.next_event() {
        replies += 1;
    }
    assert_eq!(replies, 100);
    assert_eq!(codes(&drive(&mut session, &input[600..])).len(), 100);
}
