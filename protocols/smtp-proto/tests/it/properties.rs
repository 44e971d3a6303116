//! Property tests: untrusted input never panics nor grows buffers past their caps, the
//! chunking of the input never changes what the session does, and the command parser
//! round-trips what it prints.

use crate::common;

use caliopen_smtp_proto::{
    Command, ForwardPath, Mailbox, Mode, Param, ReversePath, Session, SessionConfig, parse_command,
};
use common::{drive, drive_chunks};
use proptest::prelude::*;

/// Limits small enough for short random inputs to hit them all.
fn small_config(mode: Mode, max_errors: usize) -> SessionConfig {
    let mut config = SessionConfig::new(mode, "mx.test");
    config.max_message_size = 120;
    config.max_recipients = 2;
    config.max_line_length = 48;
    config.max_data_line_length = Some(40);
    config.max_errors = max_errors;
    config.max_input_buffer = 64;
    config.tls_available = true;
    config
}

fn any_config() -> impl Strategy<Value = SessionConfig> {
    (
        prop_oneof![Just(Mode::Smtp), Just(Mode::Lmtp)],
        prop_oneof![Just(0usize), Just(8)],
    )
        .prop_map(|(mode, max_errors)| small_config(mode, max_errors))
}

const MAILS: &[&[u8]] = &[
    b"MAIL FROM:<a@x.test>\r\n",
    b"MAIL FROM:<> SIZE=100 BODY=8BITMIME\r\n",
    b"MAIL FROM:<a@x.test> SIZE=500\r\n",
    b"MAIL FROM:<j\xc3\xa9@x.test> SMTPUTF8\r\n",
    b"MAIL FROM:<j\xc3\xa9@x.test>\r\n",
    b"MAIL FROM:a@x.test\n",
];

const RCPTS: &[&[u8]] = &[
    b"RCPT TO:<b@mx.test>\r\n",
    b"RCPT TO:<c@mx.test>\r\n",
    b"RCPT TO:<unknown@mx.test>\r\n",
    b"RCPT TO:<full@mx.test>\r\n",
    b"RCPT TO:<busy@mx.test>\r\n",
    b"RCPT TO:<postmaster>\r\n",
    b"RCPT TO:<z\xc3\xab@mx.test>\r\n",
    b"RCPT TO:<b@mx.test> NOTIFY=NEVER\r\n",
];

const BODY: &[&[u8]] = &[
    b"Subject: hello\r\n",
    b"\r\n",
    b"text\r\n",
    b"bare\n",
    b"cr\r",
    b"..\r\n",
    b"..x\r\n",
    b".x\r\n",
    b"\n.\n",
    b"\r\n.\n",
    b"a line of text that is longer than forty bytes\r\n",
];

const COMMANDS: &[&[u8]] = &[
    b"EHLO c\r\n",
    b"LHLO c\r\n",
    b"HELO c\r\n",
    b"DATA\r\n",
    b"RSET\r\n",
    b"NOOP\r\n",
    b"VRFY x\r\n",
    b"HELP\r\n",
    b"STARTTLS\r\n",
    b"QUIT\r\n",
    b"BDAT 10\r\n",
    b"\r\n",
    b"\0\r\n",
    b"NOOP aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
];

fn pick(list: &'static [&'static [u8]]) -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(list).prop_map(<[u8]>::to_vec)
}

/// MAIL, some RCPTs, and usually DATA with a body and its end.
fn transaction() -> impl Strategy<Value = Vec<u8>> {
    let body = prop::collection::vec(
        prop_oneof![8 => pick(BODY), 1 => prop::collection::vec(any::<u8>(), 0..12)],
        0..12,
    );
    (
        pick(MAILS),
        prop::collection::vec(pick(RCPTS), 0..4),
        prop::option::weighted(0.8, body),
    )
        .prop_map(|(mail, rcpts, body)| {
            let mut out = [mail, rcpts.concat()].concat();
            if let Some(body) = body {
                out.extend_from_slice(b"DATA\r\n");
                out.extend(body.concat());
                out.extend_from_slice(b".\r\n");
            }
            out
        })
}

/// A session-shaped input: greetings for both modes, then transactions, single commands and
/// some noise.
fn smtp_input() -> impl Strategy<Value = Vec<u8>> {
    let segment = prop_oneof![
        6 => transaction(),
        3 => pick(COMMANDS),
        1 => prop::collection::vec(any::<u8>(), 0..16),
        1 => prop::collection::vec(prop::sample::select(b"\r\n.x".to_vec()), 0..8),
    ];
    prop::collection::vec(segment, 0..8)
        .prop_map(|segments| [b"EHLO c\r\nLHLO c\r\n".to_vec(), segments.concat()].concat())
}

fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..80, 1..16)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The driver checks the caps after every push and every event, and that pushing always
    /// makes progress once the events are drained.
    #[test]
    fn arbitrary_bytes_never_panic_nor_overflow(
        config in any_config(),
        input in prop::collection::vec(any::<u8>(), 0..1500),
        sizes in chunk_sizes(),
    ) {
        drive_chunks(&mut Session::new(config), &input, &sizes);
    }

    #[test]
    fn protocol_input_never_panics_nor_overflows(config in any_config(), input in smtp_input(), sizes in chunk_sizes()) {
        drive_chunks(&mut Session::new(config), &input, &sizes);
    }

    /// TLS is never completed here, so everything after an accepted STARTTLS is discarded
    /// whatever the chunking.
    #[test]
    fn chunking_does_not_change_events(config in any_config(), input in smtp_input(), sizes in chunk_sizes()) {
        let whole = drive(&mut Session::new(config.clone()), &input);
        let chunked = drive_chunks(&mut Session::new(config.clone()), &input, &sizes);
        prop_assert_eq!(&chunked, &whole);
        let bytewise = drive_chunks(&mut Session::new(config), &input, &[1]);
        prop_assert_eq!(&bytewise, &whole);
    }

    #[test]
    fn parse_command_never_panics(line in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_command(&line);
    }

    #[test]
    fn parse_command_never_panics_on_paths(
        verb in prop_oneof![Just("MAIL FROM:"), Just("RCPT TO:"), Just("mail from : ")],
        rest in "[<>@\\[\\]\"\\\\.,: a-zé=-]{0,40}",
    ) {
        let _ = parse_command(format!("{verb}{rest}").as_bytes());
    }

    #[test]
    fn parse_command_round_trips(command in command()) {
        let line = command.to_string();
        prop_assert_eq!(parse_command(line.as_bytes()), Ok(command.clone()), "{}", line);
        prop_assert_eq!(parse_command(format!("{line}\r\n").as_bytes()), Ok(command));
    }
}

fn domain() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9_-]{1,10}(\\.[a-zA-Z0-9-]{1,10}){0,3}",
        "[a-zé]{1,5}\\.[a-z]{2,4}",
        "\\[[0-9]{1,3}(\\.[0-9]{1,3}){3}\\]",
        "\\[IPv6:[0-9a-f:]{2,20}\\]",
    ]
}

fn local_part() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]{1,8}(\\.[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]{1,8}){0,2}",
        "[ -~]{0,12}",
        "[a-zäöüß日本 .\"\\\\]{0,8}",
    ]
}

fn mailbox() -> impl Strategy<Value = Mailbox> {
    (local_part(), domain()).prop_map(|(local, domain)| Mailbox::new(local, domain))
}

fn params() -> impl Strategy<Value = Vec<Param>> {
    let param = ("[A-Z0-9][A-Z0-9-]{0,8}", prop::option::of("[!-<>-~]{1,10}"))
        .prop_map(|(keyword, value)| Param { keyword, value });
    prop::collection::vec(param, 0..4)
}

fn command() -> impl Strategy<Value = Command> {
    let token = "[!-~]{1,20}";
    let text = "[!-~]{1,10}( [!-~]{1,10}){0,2}";
    prop_oneof![
        token.prop_map(Command::Ehlo),
        token.prop_map(Command::Helo),
        token.prop_map(Command::Lhlo),
        (
            prop_oneof![
                Just(ReversePath::Null),
                mailbox().prop_map(ReversePath::Mailbox)
            ],
            params()
        )
            .prop_map(|(from, params)| Command::Mail { from, params }),
        (
            prop_oneof![
                Just(ForwardPath::Postmaster),
                mailbox().prop_map(ForwardPath::Mailbox)
            ],
            params()
        )
            .prop_map(|(to, params)| Command::Rcpt { to, params }),
        Just(Command::Data),
        Just(Command::Rset),
        Just(Command::Noop),
        Just(Command::Quit),
        Just(Command::StartTls),
        text.prop_map(Command::Vrfy),
        text.prop_map(Command::Expn),
        prop::option::of(text).prop_map(Command::Help),
        "[A-Z]{1,10}"
            .prop_filter("a known verb", |v| parse_command(v.as_bytes())
                == Ok(Command::Unknown(v.clone())))
            .prop_map(Command::Unknown),
    ]
}
