//! Mailboxes and paths of MAIL FROM / RCPT TO (RFC 5321 §4.1.2), with the UTF-8 extensions of
//! RFC 6531 (SMTPUTF8).
//!
//! Accepted beyond the strict grammar, as deployed MTAs do: a path without angle brackets
//! (`MAIL FROM:a@b`), source routes (`<@relay,@relay2:a@b>`, parsed then ignored as RFC 5321
//! §4.1.1.3 asks), `<postmaster>` in any case, and `_` in domain labels. Quoted local parts are
//! decoded (`"a\"b"` becomes `a"b`); [`Mailbox`]'s `Display` quotes them again only when needed.

use std::fmt;

/// A mailbox `local-part@domain`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox {
    /// The local part, decoded: no surrounding quotes, quoted-pairs resolved. Case is kept.
    pub local_part: String,
    /// The domain as written, or an address literal with its brackets (`[192.0.2.1]`).
    pub domain: String,
}

impl Mailbox {
    /// A mailbox from its parts (no validation).
    pub fn new(local_part: impl Into<String>, domain: impl Into<String>) -> Self {
        Self {
            local_part: local_part.into(),
            domain: domain.into(),
        }
    }

    /// Whether the mailbox is pure ASCII (a non-ASCII one needs SMTPUTF8).
    pub fn is_ascii(&self) -> bool {
        self.local_part.is_ascii() && self.domain.is_ascii()
    }
}

impl fmt::Display for Mailbox {
    /// `local@domain`, the local part quoted (with `\` escapes) only when it is not a dot-string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_dot_string(&self.local_part) {
            f.write_str(&self.local_part)?;
        } else {
            f.write_str("\"")?;
            for ch in self.local_part.chars() {
                if ch == '"' || ch == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{ch}")?;
            }
            f.write_str("\"")?;
        }
        write!(f, "@{}", self.domain)
    }
}

/// The argument of MAIL FROM.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReversePath {
    /// `<>`: bounces and other notifications, which must not be answered.
    Null,
    /// A sender mailbox.
    Mailbox(Mailbox),
}

impl ReversePath {
    /// The sender mailbox, `None` for the null path.
    pub fn mailbox(&self) -> Option<&Mailbox> {
        match self {
            Self::Null => None,
            Self::Mailbox(mailbox) => Some(mailbox),
        }
    }
}

impl fmt::Display for ReversePath {
    /// The address without brackets; the empty string for the null path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => Ok(()),
            Self::Mailbox(mailbox) => mailbox.fmt(f),
        }
    }
}

/// The argument of RCPT TO.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ForwardPath {
    /// `<postmaster>` without a domain (RFC 5321 §4.5.1), in any case.
    Postmaster,
    /// A recipient mailbox.
    Mailbox(Mailbox),
}

impl ForwardPath {
    /// Whether the path is pure ASCII.
    pub fn is_ascii(&self) -> bool {
        match self {
            Self::Postmaster => true,
            Self::Mailbox(mailbox) => mailbox.is_ascii(),
        }
    }
}

impl fmt::Display for ForwardPath {
    /// The address without brackets; `postmaster` for [`ForwardPath::Postmaster`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postmaster => f.write_str("postmaster"),
            Self::Mailbox(mailbox) => mailbox.fmt(f),
        }
    }
}

/// Why a path did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Nothing where an address was expected.
    #[error("empty address")]
    Empty,
    /// `<` without its `>`.
    #[error("missing closing '>'")]
    Unclosed,
    /// A malformed `@relay,@relay:` prefix.
    #[error("invalid source route")]
    SourceRoute,
    /// A local part that is neither a dot-string nor a quoted string.
    #[error("invalid local part")]
    LocalPart,
    /// No `@domain` (only `<postmaster>` may omit it, and only as a recipient).
    #[error("missing domain")]
    MissingDomain,
    /// A malformed domain or address literal.
    #[error("invalid domain")]
    Domain,
    /// Characters after the address that are not separated by a space.
    #[error("unexpected characters after the address")]
    Trailing,
    /// `<>` as a recipient.
    #[error("the null path <> is not a valid recipient")]
    NullRecipient,
}

/// A parsed path, before the command decides which kinds it allows.
#[derive(Debug)]
pub(crate) enum Path {
    Null,
    Postmaster,
    Mailbox(Mailbox),
}

/// Parses the path at the start of `input` and returns it with the rest of the input, which is
/// empty or starts with a space.
pub(crate) fn parse_path(input: &str) -> Result<(Path, &str), AddressError> {
    let mut c = Cursor { s: input, pos: 0 };
    let bracketed = c.eat(b'<');
    if bracketed && c.eat(b'>') {
        return c.finish(Path::Null);
    }
    if bracketed && c.peek() == Some(b'@') {
        skip_source_route(&mut c)?;
    }
    if matches!(c.peek(), None | Some(b'>' | b' ')) {
        return Err(AddressError::Empty);
    }
    let (local_part, quoted) = parse_local_part(&mut c)?;
    let path = if c.eat(b'@') {
        let domain = parse_domain(&mut c)?;
        Path::Mailbox(Mailbox { local_part, domain })
    } else if !quoted && local_part.eq_ignore_ascii_case("postmaster") {
        Path::Postmaster
    } else {
        return Err(AddressError::MissingDomain);
    };
    if bracketed && !c.eat(b'>') {
        return Err(AddressError::Unclosed);
    }
    c.finish(path)
}

/// A byte cursor over a `&str`. It only stops on ASCII bytes, so its slices stay on character
/// boundaries.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    /// Advances over bytes matching `accept`, returning them.
    fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&accept) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// The next character, which must exist.
    fn next_char(&mut self) -> Option<char> {
        let ch = self.s[self.pos..].chars().next()?;
        self.pos += ch.len_utf8();
        Some(ch)
    }

    fn finish(self, path: Path) -> Result<(Path, &'a str), AddressError> {
        let rest = &self.s[self.pos..];
        if rest.is_empty() || rest.starts_with(' ') {
            Ok((path, rest))
        } else {
            Err(AddressError::Trailing)
        }
    }
}

/// `@domain *( "," @domain ) ":"`, ignored once parsed.
fn skip_source_route(c: &mut Cursor<'_>) -> Result<(), AddressError> {
    loop {
        if !c.eat(b'@') {
            return Err(AddressError::SourceRoute);
        }
        parse_domain(c).map_err(|_| AddressError::SourceRoute)?;
        if c.eat(b':') {
            return Ok(());
        }
        if !c.eat(b',') {
            return Err(AddressError::SourceRoute);
        }
    }
}

/// A dot-string or a quoted string; returns the decoded text and whether it was quoted.
fn parse_local_part(c: &mut Cursor<'_>) -> Result<(String, bool), AddressError> {
    if !c.eat(b'"') {
        let start = c.pos;
        loop {
            if c.take_while(is_atext).is_empty() {
                return Err(AddressError::LocalPart);
            }
            if !c.eat(b'.') {
                return Ok((c.s[start..c.pos].to_owned(), false));
            }
        }
    }
    let mut text = String::new();
    loop {
        match c.peek() {
            Some(b'"') => {
                c.pos += 1;
                return Ok((text, true));
            }
            Some(b'\\') => {
                c.pos += 1;
                match c.peek() {
                    Some(b @ 32..=126) => {
                        c.pos += 1;
                        text.push(char::from(b));
                    }
                    _ => return Err(AddressError::LocalPart),
                }
            }
            Some(32..=126) | Some(0x80..) => text.extend(c.next_char()),
            _ => return Err(AddressError::LocalPart),
        }
    }
}

/// A domain (labels of letters, digits, `-`, `_` or UTF-8) or an address literal.
fn parse_domain(c: &mut Cursor<'_>) -> Result<String, AddressError> {
    let start = c.pos;
    if c.eat(b'[') {
        let content = c.take_while(|b| matches!(b, 33..=90 | 94..=126));
        if content.is_empty() || !c.eat(b']') {
            return Err(AddressError::Domain);
        }
    } else {
        loop {
            let label =
                c.take_while(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b >= 0x80);
            if label.is_empty() {
                return Err(AddressError::Domain);
            }
            if !c.eat(b'.') {
                break;
            }
        }
    }
    Ok(c.s[start..c.pos].to_owned())
}

/// `atext` of RFC 5322, extended to UTF-8 by RFC 6531.
fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b) || b >= 0x80
}

/// Whether `local` can be written without quotes.
fn is_dot_string(local: &str) -> bool {
    !local.is_empty()
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(is_atext))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(input: &str) -> Mailbox {
        match parse_path(input) {
            Ok((Path::Mailbox(m), "")) => m,
            other => panic!("{input}: {other:?}"),
        }
    }

    #[test]
    fn plain_and_bracketed() {
        assert_eq!(
            mailbox("<a.b@example.org>"),
            Mailbox::new("a.b", "example.org")
        );
        assert_eq!(mailbox("a@example.org"), Mailbox::new("a", "example.org"));
    }

    #[test]
    fn quoted_local_part_is_decoded_and_requoted() {
        let m = mailbox(r#"<"john \"jd\" doe"@example.org>"#);
        assert_eq!(m.local_part, r#"john "jd" doe"#);
        assert_eq!(m.to_string(), r#""john \"jd\" doe"@example.org"#);
        // Needless quotes disappear.
        assert_eq!(mailbox(r#"<"john"@x.org>"#).to_string(), "john@x.org");
        assert_eq!(mailbox(r#"<"a>b"@x.org>"#).local_part, "a>b");
    }

    #[test]
    fn source_route_is_ignored() {
        assert_eq!(
            mailbox("<@relay.one,@relay.two:u@x.org>"),
            Mailbox::new("u", "x.org")
        );
        assert_eq!(
            parse_path("<@relay.one;u@x.org>").unwrap_err(),
            AddressError::SourceRoute
        );
    }

    #[test]
    fn literals_and_utf8() {
        assert_eq!(mailbox("<u@[192.0.2.1]>").domain, "[192.0.2.1]");
        assert_eq!(
            mailbox("<u@[IPv6:2001:db8::1]>").domain,
            "[IPv6:2001:db8::1]"
        );
        let m = mailbox("<josé@exämple.org>");
        assert!(!m.is_ascii());
    }

    #[test]
    fn null_and_postmaster() {
        assert!(matches!(parse_path("<>"), Ok((Path::Null, ""))));
        assert!(matches!(
            parse_path("<PostMaster>"),
            Ok((Path::Postmaster, ""))
        ));
        assert!(matches!(
            parse_path(r#"<"postmaster">"#),
            Err(AddressError::MissingDomain)
        ));
    }

    #[test]
    fn rest_after_path() {
        let (_, rest) = parse_path("<a@b.c> SIZE=10").unwrap();
        assert_eq!(rest, " SIZE=10");
    }

    #[test]
    fn errors() {
        assert_eq!(parse_path("<a@b.c").unwrap_err(), AddressError::Unclosed);
        assert_eq!(parse_path("<a..b@c>").unwrap_err(), AddressError::LocalPart);
        assert_eq!(parse_path("<a.@c>").unwrap_err(), AddressError::LocalPart);
        assert_eq!(parse_path("<a@>").unwrap_err(), AddressError::Domain);
        assert_eq!(parse_path("<a@b.>").unwrap_err(), AddressError::Domain);
        assert_eq!(parse_path("<a@[]>").unwrap_err(), AddressError::Domain);
        assert_eq!(parse_path("<a>").unwrap_err(), AddressError::MissingDomain);
        assert_eq!(parse_path("<a@b>x").unwrap_err(), AddressError::Trailing);
        assert_eq!(parse_path("<>x").unwrap_err(), AddressError::Trailing);
        assert_eq!(parse_path("").unwrap_err(), AddressError::Empty);
        assert_eq!(parse_path("< a@b>").unwrap_err(), AddressError::Empty);
        assert_eq!(parse_path("<\"ab@c>").unwrap_err(), AddressError::LocalPart);
    }
}
