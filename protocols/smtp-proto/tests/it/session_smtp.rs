//! Scripted SMTP sessions: whole transcripts, no I/O.

use crate::common;

use caliopen_smtp_proto::{EnhancedCode, Event, Mode, Reply, ReversePath, Session, UsageError};
use common::{bodies, codes, config, drive, greeted, messages, render};

#[test]
fn full_transaction_transcript() {
    let mut session = Session::new(config(Mode::Smtp));
    assert_eq!(
        session.greeting().to_string(),
        "220 mx.test ESMTP ready\r\n"
    );
    let events = drive(
        &mut session,
        b"EHLO client.test\r\n\
          MAIL FROM:<alice@example.org>\r\n\
          RCPT TO:<bob@mx.test>\r\n\
          DATA\r\n\
          Subject: hi\r\n\r\nHello\r\n.\r\n\
          QUIT\r\n",
    );
    assert_eq!(
        render(&events),
        "250-mx.test\r\n\
         250-PIPELINING\r\n\
         250-SIZE 1000\r\n\
         250-8BITMIME\r\n\
         250-ENHANCEDSTATUSCODES\r\n\
         250-SMTPUTF8\r\n\
         250 STARTTLS\r\n\
         250 2.1.0 Sender OK\r\n\
         [rcpt bob@mx.test]\n\
         250 2.1.5 Recipient OK\r\n\
         354 End data with <CR><LF>.<CR><LF>\r\n\
         [message from <alice@example.org> to [\"bob@mx.test\"], 22 bytes]\n\
         250 2.0.0 Queued\r\n\
         221 2.0.0 mx.test Bye\r\n\
         [close]\n"
    );
    let envelope = messages(&events)[0];
    assert_eq!(envelope.helo, "client.test");
    assert_eq!(bodies(&events)[0], b"Subject: hi\r\n\r\nHello\r\n");
    assert!(!envelope.body_8bit && !envelope.smtputf8 && !envelope.tls);
    assert!(session.is_closed());
    assert_eq!(
        session.push_input(b"NOOP\r\n"),
        6,
        "input after QUIT is swallowed"
    );
    assert_eq!(session.next_event(), None);
}

#[test]
fn helo_gets_a_single_line_and_no_extensions() {
    let mut session = Session::new(config(Mode::Smtp));
    assert_eq!(
        render(&drive(&mut session, b"helo client\r\n")),
        "250 mx.test\r\n"
    );
    assert_eq!(session.helo(), Some("client"));
}

#[test]
fn pipelined_commands_in_one_push_are_answered_in_order() {
    let mut session = greeted(config(Mode::Smtp));
    let input =
        b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@mx.test>\r\nRCPT TO:<unknown@mx.test>\r\nDATA\r\n";
    assert_eq!(session.push_input(input), input.len());
    // Replies come one by one and stop at each recipient until it is answered.
    assert_eq!(session.next_event(), Some(Event::Reply(Reply::sender_ok())));
    let Some(Event::Recipient { address, params }) = session.next_event() else {
        panic!("expected a recipient");
    };
    assert_eq!((address.as_str(), params.len()), ("b@mx.test", 0));
    assert_eq!(
        session.next_event(),
        None,
        "nothing until the recipient is answered"
    );
    session.answer_recipient(Reply::recipient_ok()).unwrap();
    assert_eq!(
        session.next_event(),
        Some(Event::Reply(Reply::recipient_ok()))
    );
    assert!(matches!(
        session.next_event(),
        Some(Event::Recipient { .. })
    ));
    session.answer_recipient(Reply::no_such_user()).unwrap();
    assert_eq!(
        session.next_event(),
        Some(Event::Reply(Reply::no_such_user()))
    );
    assert_eq!(codes(&[session.next_event().unwrap()]), ["354"]);
    assert_eq!(session.next_event(), None);
}

#[test]
fn rset_mid_transaction_forgets_sender_and_recipients() {
    let mut session = greeted(config(Mode::Smtp));
    let events = drive(
        &mut session,
        b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@mx.test>\r\nRSET\r\nDATA\r\nRCPT TO:<b@mx.test>\r\nMAIL FROM:<c@x.test>\r\n",
    );
    assert_eq!(
        codes(&events),
        [
            "250 2.1.0",
            "250 2.1.5",
            "250 2.0.0",
            "503 5.5.1",
            "503 5.5.1",
            "250 2.1.0"
        ]
    );
}

#[test]
fn starttls_discards_pipelined_input_and_resets_the_session() {
    let mut session = greeted(config(Mode::Smtp));
    let events = drive(
        &mut session,
        b"STARTTLS\r\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<b@mx.test>\r\n",
    );
    assert_eq!(
        render(&events),
        "220 2.0.0 Ready to start TLS\r\n[starttls]\n"
    );
    // Plaintext arriving before the handshake completes is dropped too.
    assert_eq!(session.push_input(b"RSET\r\n"), 6);
    assert_eq!(session.next_event(), None);
    session.tls_started().unwrap();
    assert!(session.tls_active());
    assert_eq!(session.helo(), None, "EHLO must be sent again");
    let events = drive(
        &mut session,
        b"MAIL FROM:<a@x.test>\r\nEHLO again\r\nSTARTTLS\r\n",
    );
    let text = render(&events);
    assert!(
        text.starts_with("503 5.5.1 Send EHLO/HELO first\r\n250-mx.test\r\n"),
        "{text}"
    );
    assert!(
        !text.contains("STARTTLS\r\n"),
        "not advertised once active: {text}"
    );
    assert!(text.ends_with("503 5.5.1 TLS already active\r\n"), "{text}");
    let events = drive(
        &mut session,
        b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\nx\r\n.\r\n",
    );
    assert!(messages(&events)[0].tls);
}

#[test]
fn starttls_when_unavailable() {
    let mut config = config(Mode::Smtp);
    config.tls_available = false;
    let mut session = greeted(config);
    assert_eq!(
        codes(&drive(&mut session, b"STARTTLS\r\nSTARTTLS now\r\n")),
        ["502 5.5.1", "501 5.5.4"]
    );
    assert_eq!(session.tls_started(), Err(UsageError::NotAwaitingTls));
    assert!(!render(&drive(&mut session, b"EHLO a\r\n")).contains("STARTTLS"));
}

#[test]
fn informational_commands() {
    let mut session = Session::new(config(Mode::Smtp));
    let events = drive(
        &mut session,
        b"NOOP\r\nnoop anything\r\nVRFY bob\r\nEXPN list\r\nHELP\r\nHELP MAIL\r\n",
    );
    assert_eq!(
        codes(&events),
        [
            "250 2.0.0",
            "250 2.0.0",
            "252 2.0.0",
            "502 5.5.1",
            "214 2.0.0",
            "214 2.0.0"
        ]
    );
}

#[test]
fn sequence_errors() {
    let mut session = Session::new(config(Mode::Smtp));
    let events = drive(
        &mut session,
        b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\nEHLO c\r\nMAIL FROM:<a@x.test>\r\nMAIL FROM:<a@x.test>\r\n",
    );
    assert_eq!(
        render(&events)
            .lines()
            .filter(|l| l.starts_with("503") || l.starts_with("250 2"))
            .collect::<Vec<_>>(),
        [
            "503 5.5.1 Send EHLO/HELO first",
            "503 5.5.1 Need MAIL command",
            "503 5.5.1 Need MAIL command",
            "250 2.1.0 Sender OK",
            "503 5.5.1 Nested MAIL command",
        ]
    );
}

#[test]
fn ehlo_mid_transaction_resets_it() {
    let mut session = greeted(config(Mode::Smtp));
    let events = drive(
        &mut session,
        b"MAIL FROM:<a@x.test>\r\nEHLO again\r\nRCPT TO:<b@mx.test>\r\n",
    );
    assert_eq!(codes(&events).last().unwrap(), "503 5.5.1");
}

#[test]
fn null_sender_postmaster_quoted_and_routed_recipients() {
    let mut session = greeted(config(Mode::Smtp));
    let events = drive(
        &mut session,
        b"MAIL FROM:<>\r\n\
          RCPT TO:<PostMaster>\r\n\
          RCPT TO:<\"john doe\"@mx.test>\r\n\
          RCPT TO:<@relay.test,@other.test:carol@mx.test>\r\n\
          DATA\r\n.\r\n",
    );
    let envelope = messages(&events)[0];
    assert_eq!(envelope.mail_from, ReversePath::Null);
    assert_eq!(
        envelope.recipients,
        ["postmaster", "\"john doe\"@mx.test", "carol@mx.test"]
    );
    assert_eq!(envelope.size, 0);
    assert!(bodies(&events)[0].is_empty());
}

#[test]
fn address_syntax_errors_use_address_codes() {
    let mut session = greeted(config(Mode::Smtp));
    let events = drive(
        &mut session,
        b"MAIL FROM:<a@>\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<>\r\nRCPT TO:<b@mx.test\r\n",
    );
    assert_eq!(
        codes(&events),
        ["501 5.1.7", "250 2.1.0", "501 5.1.3", "501 5.1.3"]
    );
}

#[test]
fn mail_parameters() {
    let mut session = greeted(config(Mode::Smtp));
    let events = drive(
        &mut session,
        b"MAIL FROM:<a@x.test> SIZE=abc\r\n\
          MAIL FROM:<a@x.test> BODY=BINARYMIME\r\n\
          MAIL FROM:<a@x.test> AUTH=<>\r\n\
          MAIL FROM:<a@x.test> SIZE=1 SIZE=2\r\n\
          MAIL FROM:<a@x.test> SIZE=999 BODY=8bitmime\r\n\
          RCPT TO:<b@mx.test> NOTIFY=NEVER\r\n\
          RCPT TO:<b@mx.test>\r\n\
          DATA\r\n\xc3\xa9\r\n.\r\n",
    );
    assert_eq!(
        codes(&events),
        [
            "501 5.5.4",
            "501 5.5.4",
            "555 5.5.4",
            "501 5.5.4",
            "250 2.1.0",
            "555 5.5.4",
            "250 2.1.5",
            "354",
            "250 2.0.0"
        ]
    );
    assert!(messages(&events)[0].body_8bit);
}

#[test]
fn smtputf8_addresses_need_the_parameter() {
    let mut session = greeted(config(Mode::Smtp));
    let events = drive(
        &mut session,
        "MAIL FROM:<josé@x.test>\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<zoë@mx.test>\r\nRSET\r\n\
         MAIL FROM:<josé@x.test> SMTPUTF8\r\nRCPT TO:<zoë@mx.test>\r\nDATA\r\n.\r\n"
            .as_bytes(),
    );
    assert_eq!(
        codes(&events),
        [
            "553 5.6.7",
            "250 2.1.0",
            "553 5.6.7",
            "250 2.0.0",
            "250 2.1.0",
            "250 2.1.5",
            "354",
            "250 2.0.0"
        ]
    );
    let envelope = messages(&events)[0];
    assert!(envelope.smtputf8);
    assert_eq!(envelope.recipients, ["zoë@mx.test"]);
}

#[test]
fn caller_answers_are_validated() {
    let mut session = greeted(config(Mode::Smtp));
    assert_eq!(
        session.answer_recipient(Reply::ok()),
        Err(UsageError::NotAwaitingRecipient)
    );
    assert_eq!(
        session.answer_message(vec![]),
        Err(UsageError::NotAwaitingMessage)
    );
    drive(&mut session, b"MAIL FROM:<a@x.test>\r\n");
    assert_eq!(
        session.push_input(b"RCPT TO:<b@mx.test>\r\nDATA\r\nx\r\n.\r\n"),
        33
    );
    assert_eq!(
        session
            .next_event()
            .map(|e| matches!(e, Event::Recipient { .. })),
        Some(true)
    );
    assert_eq!(
        session.answer_recipient(Reply::new(354, None, "no")),
        Err(UsageError::InvalidCode(354))
    );
    // A reply without enhanced code gets the class default.
    session
        .answer_recipient(Reply::new(251, None, "Will forward"))
        .unwrap();
    assert_eq!(
        session.next_event(),
        Some(Event::Reply(Reply::new(
            251,
            EnhancedCode(2, 0, 0),
            "Will forward"
        )))
    );
    assert_eq!(codes(&[session.next_event().unwrap()]), ["354"]);
    assert_eq!(session.next_event(), Some(Event::Data(b"x\r\n".to_vec())));
    assert!(matches!(session.next_event(), Some(Event::Message(_))));
    assert_eq!(
        session.next_event(),
        None,
        "nothing until the message is answered"
    );
    assert_eq!(
        session.answer_message(vec![Reply::ok(), Reply::ok()]),
        Err(UsageError::ReplyCount {
            expected: 1,
            got: 2
        })
    );
    assert_eq!(
        session.answer_message(vec![Reply::temporary_failure("Store down")]),
        Ok(())
    );
    assert_eq!(codes(&[session.next_event().unwrap()]), ["451 4.3.0"]);
}

#[test]
fn transient_recipient_refusal_is_not_kept() {
    let mut session = greeted(config(Mode::Smtp));
    let events = drive(
        &mut session,
        b"MAIL FROM:<a@x.test>\r\nRCPT TO:<busy@mx.test>\r\nDATA\r\n",
    );
    assert_eq!(codes(&events), ["250 2.1.0", "450 4.0.0", "503 5.5.1"]);
}

#[test]
fn long_data_lines_are_refused_before_the_250_under_a_configured_limit() {
    let mut session = greeted(config(Mode::Smtp));
    let input = format!(
        "MAIL FROM:<a@x.test>\r\nRCPT TO:<one@mx.test>\r\nDATA\r\nshort\r\n{}\r\nmore\r\n.\r\nNOOP\r\n",
        "y".repeat(99)
    );
    let events = drive(&mut session, input.as_bytes());
    assert!(messages(&events).is_empty());
    assert!(events.contains(&Event::DataDropped), "{events:?}");
    assert!(
        render(&events)
            .ends_with("554 5.6.0 Message has lines longer than 100 octets\r\n250 2.0.0 OK\r\n"),
        "{}",
        render(&events)
    );
    // Without a configured limit, SMTP takes the line as Postfix does.
    let mut config = config(Mode::Smtp);
    config.max_data_line_length = None;
    let mut session = greeted(config);
    let events = drive(&mut session, input.as_bytes());
    assert_eq!(messages(&events).len(), 1, "{}", render(&events));
}

#[test]
fn too_many_refused_recipients_end_the_session_in_smtp_only() {
    let mut input = b"MAIL FROM:<a@x.test>\r\n".to_vec();
    for i in 0..30 {
        input.extend_from_slice(format!("RCPT TO:<unknown{i}@mx.test>\r\n").as_bytes());
    }
    let mut config = config(Mode::Smtp);
    config.max_refused_recipients = 5;
    let mut session = greeted(config.clone());
    let events = drive(&mut session, &input);
    let codes = codes(&events);
    assert_eq!(codes.len(), 7, "{codes:?}");
    assert_eq!(codes[1..6], ["550 5.1.1"; 5]);
    assert_eq!(codes[6], "421 4.7.0");
    assert_eq!(events.last(), Some(&Event::Close));
    assert!(session.is_closed());
    // Temporary refusals do not count.
    let mut session = greeted(config.clone());
    let busy = b"MAIL FROM:<a@x.test>\r\n"
        .iter()
        .copied()
        .chain((0..10).flat_map(|i| format!("RCPT TO:<busy{i}@mx.test>\r\n").into_bytes()));
    let events = drive(&mut session, &busy.collect::<Vec<u8>>());
    assert!(!session.is_closed(), "{}", render(&events));
    // LMTP answers every one.
    let mut lmtp = config;
    lmtp.mode = Mode::Lmtp;
    let mut session = greeted(lmtp);
    let events = drive(&mut session, &input);
    assert_eq!(common::codes(&events).len(), 31);
    assert!(!session.is_closed());
}
