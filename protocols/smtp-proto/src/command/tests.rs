//! Unit tests of the command parser.

use super::*;
use crate::address::Mailbox;

fn parse(line: &str) -> Result<Command, SyntaxError> {
    parse_command(line.as_bytes())
}

fn param(keyword: &str, value: Option<&str>) -> Param {
    Param {
        keyword: keyword.into(),
        value: value.map(Into::into),
    }
}

#[test]
fn verbs_are_case_insensitive() {
    assert_eq!(
        parse("ehlo mx.example.org\r\n"),
        Ok(Command::Ehlo("mx.example.org".into()))
    );
    assert_eq!(parse("LhLo client"), Ok(Command::Lhlo("client".into())));
    assert_eq!(parse("data\n"), Ok(Command::Data));
    assert_eq!(parse("StartTLS"), Ok(Command::StartTls));
    assert_eq!(parse("xyzzy plugh"), Ok(Command::Unknown("XYZZY".into())));
}

#[test]
fn mail_with_spaces_around_colon_and_params() {
    let expected = Command::Mail {
        from: ReversePath::Mailbox(Mailbox::new("a", "b.org")),
        params: vec![
            param("SIZE", Some("100")),
            param("BODY", Some("8BITMIME")),
            param("SMTPUTF8", None),
        ],
    };
    for line in [
        "MAIL FROM:<a@b.org> SIZE=100 BODY=8BITMIME SMTPUTF8",
        "mail from: <a@b.org>  size=100 body=8BITMIME smtputf8 ",
        "MAIL  FROM : <a@b.org> SIZE=100 BODY=8BITMIME SMTPUTF8",
        "MAIL FROM:a@b.org SIZE=100 BODY=8BITMIME SMTPUTF8",
    ] {
        assert_eq!(parse(line), Ok(expected.clone()), "{line}");
    }
}

#[test]
fn null_sender_and_postmaster_recipient() {
    assert_eq!(
        parse("MAIL FROM:<>"),
        Ok(Command::Mail {
            from: ReversePath::Null,
            params: vec![]
        })
    );
    assert_eq!(
        parse("RCPT TO:<Postmaster>"),
        Ok(Command::Rcpt {
            to: ForwardPath::Postmaster,
            params: vec![]
        })
    );
    assert_eq!(
        parse("RCPT TO:<>").unwrap_err(),
        SyntaxError::Recipient(AddressError::NullRecipient)
    );
    assert_eq!(
        parse("MAIL FROM:<postmaster>").unwrap_err(),
        SyntaxError::Sender(AddressError::MissingDomain)
    );
}

#[test]
fn utf8_only_inside_paths() {
    assert!(parse("RCPT TO:<josé@exämple.org>").is_ok());
    assert_eq!(
        parse("EHLO exämple.org").unwrap_err(),
        SyntaxError::NonAsciiArgument { verb: "EHLO" }
    );
    assert_eq!(
        parse("MAIL FROM:<a@b> X=é").unwrap_err(),
        SyntaxError::NonAsciiArgument { verb: "MAIL" }
    );
    assert_eq!(parse("DÄTA").unwrap_err(), SyntaxError::InvalidBytes);
}

#[test]
fn control_bytes_and_bad_utf8_are_refused() {
    assert_eq!(parse_command(b"NOOP\0"), Err(SyntaxError::InvalidBytes));
    assert_eq!(parse_command(b"NOOP\tx"), Err(SyntaxError::InvalidBytes));
    assert_eq!(
        parse_command(b"RCPT TO:<\xff@x>"),
        Err(SyntaxError::InvalidBytes)
    );
    assert_eq!(parse_command(b"NOOP\r\r\n"), Err(SyntaxError::InvalidBytes));
    assert_eq!(parse_command(b"  \r\n"), Err(SyntaxError::Empty));
}

#[test]
fn argument_errors() {
    assert_eq!(
        parse("EHLO"),
        Err(SyntaxError::MissingArgument { verb: "EHLO" })
    );
    assert_eq!(
        parse("HELO a b"),
        Err(SyntaxError::InvalidArgument { verb: "HELO" })
    );
    assert_eq!(
        parse("DATA now"),
        Err(SyntaxError::UnexpectedArgument { verb: "DATA" })
    );
    assert_eq!(
        parse("MAIL TO:<a@b>"),
        Err(SyntaxError::Expected("FROM:<address>"))
    );
    assert_eq!(
        parse("RCPT <a@b>"),
        Err(SyntaxError::Expected("TO:<address>"))
    );
    assert_eq!(
        parse("MAIL FROM:<a@b> =x"),
        Err(SyntaxError::Parameter("=x".into()))
    );
    assert_eq!(
        parse("MAIL FROM:<a@b> SIZE="),
        Err(SyntaxError::Parameter("SIZE=".into()))
    );
    assert_eq!(
        parse("VRFY"),
        Err(SyntaxError::MissingArgument { verb: "VRFY" })
    );
}

#[test]
fn error_replies() {
    assert_eq!(SyntaxError::Empty.reply().code, 500);
    assert_eq!(
        SyntaxError::Sender(AddressError::Empty).reply().enhanced,
        Some(EnhancedCode(5, 1, 7))
    );
    assert_eq!(
        SyntaxError::Recipient(AddressError::Empty).reply().enhanced,
        Some(EnhancedCode(5, 1, 3))
    );
    assert_eq!(
        SyntaxError::Expected("x").reply().enhanced,
        Some(EnhancedCode(5, 5, 4))
    );
}

#[test]
fn display_round_trips() {
    for line in [
        "MAIL FROM:<> BODY=7BIT",
        "RCPT TO:<\"a b\"@x.org>",
        "RCPT TO:<postmaster>",
        "HELP",
        "HELP DATA",
        "VRFY some user",
    ] {
        let command = parse(line).unwrap();
        assert_eq!(command.to_string(), line);
    }
}
