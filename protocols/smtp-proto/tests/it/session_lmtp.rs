//! Scripted LMTP sessions (RFC 2033): LHLO, one reply per accepted recipient after DATA.

use crate::common;

use caliopen_smtp_proto::{Mode, Session};
use common::{bodies, codes, config, drive, greeted, messages, render};

#[test]
fn lhlo_advertises_like_ehlo() {
    let mut session = Session::new(config(Mode::Lmtp));
    assert_eq!(session.greeting().to_string(), "220 mx.test LMTP ready\r\n");
    let text = render(&drive(&mut session, b"LHLO client.test\r\n"));
    assert!(
        text.starts_with("250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"),
        "{text}"
    );
    assert!(text.ends_with("250 STARTTLS\r\n"), "{text}");
}

#[test]
fn ehlo_and_helo_are_refused_in_lmtp() {
    let mut session = Session::new(config(Mode::Lmtp));
    let events = drive(
        &mut session,
        b"EHLO client\r\nHELO client\r\nMAIL FROM:<a@x.test>\r\n",
    );
    assert_eq!(
        render(&events),
        "500 5.5.1 Command unrecognized, use LHLO\r\n\
         500 5.5.1 Command unrecognized, use LHLO\r\n\
         503 5.5.1 Send LHLO first\r\n"
    );
}

#[test]
fn lhlo_is_refused_in_smtp() {
    let mut session = Session::new(config(Mode::Smtp));
    assert_eq!(
        codes(&drive(&mut session, b"LHLO client\r\n")),
        ["500 5.5.1"]
    );
}

#[test]
fn multi_recipient_with_one_refused_answers_only_accepted_ones() {
    let mut session = greeted(config(Mode::Lmtp));
    let events = drive(
        &mut session,
        b"MAIL FROM:<a@x.test>\r\n\
          RCPT TO:<first@mx.test>\r\n\
          RCPT TO:<unknown@mx.test>\r\n\
          RCPT TO:<full@mx.test>\r\n\
          DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n",
    );
    assert_eq!(
        render(&events),
        "250 2.1.0 Sender OK\r\n\
         [rcpt first@mx.test]\n\
         250 2.1.5 Recipient OK\r\n\
         [rcpt unknown@mx.test]\n\
         550 5.1.1 No such user\r\n\
         [rcpt full@mx.test]\n\
         250 2.1.5 Recipient OK\r\n\
         354 End data with <CR><LF>.<CR><LF>\r\n\
         [message from <a@x.test> to [\"first@mx.test\", \"full@mx.test\"], 20 bytes]\n\
         250 2.0.0 <first@mx.test> Saved\r\n\
         552 5.2.2 Mailbox full\r\n"
    );
}

#[test]
fn data_without_valid_recipients_is_refused() {
    let mut session = greeted(config(Mode::Lmtp));
    let events = drive(
        &mut session,
        b"DATA\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<unknown@mx.test>\r\nDATA\r\n",
    );
    assert_eq!(
        render(&events),
        "503 5.5.1 Need MAIL command\r\n\
         250 2.1.0 Sender OK\r\n\
         [rcpt unknown@mx.test]\n\
         550 5.1.1 No such user\r\n\
         503 5.5.1 No valid recipients\r\n"
    );
}

#[test]
fn oversized_data_is_refused_once_per_recipient() {
    let mut session = greeted(config(Mode::Lmtp));
    let body = "x".repeat(98) + "\r\n";
    let input = format!(
        "MAIL FROM:<a@x.test>\r\nRCPT TO:<one@mx.test>\r\nRCPT TO:<two@mx.test>\r\nDATA\r\n{}.\r\nNOOP\r\n",
        body.repeat(11)
    );
    let events = drive(&mut session, input.as_bytes());
    assert!(messages(&events).is_empty());
    assert_eq!(
        codes(&events)[3..],
        ["354", "552 5.3.4", "552 5.3.4", "250 2.0.0"]
    );
}

#[test]
fn long_data_lines_are_taken_whatever_the_line_limit() {
    // A DKIM-signed header list can be one 15,000-octet line; the MTA in front took it.
    let mut config = config(Mode::Lmtp);
    config.max_message_size = 20_000;
    let mut session = greeted(config);
    let line = format!("X-Long: {}\r\n", "y".repeat(15_000));
    let input = format!(
        "MAIL FROM:<a@x.test>\r\nRCPT TO:<one@mx.test>\r\nRCPT TO:<two@mx.test>\r\nDATA\r\n{line}\r\nbody\r\n.\r\n"
    );
    let events = drive(&mut session, input.as_bytes());
    assert_eq!(
        codes(&events)[3..],
        ["354", "250 2.0.0", "250 2.0.0"],
        "{}",
        render(&events)
    );
    assert_eq!(bodies(&events)[0], format!("{line}\r\nbody\r\n").as_bytes());
}
