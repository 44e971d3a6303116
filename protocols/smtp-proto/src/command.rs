//! Command lines (RFC 5321 §4.1.1, RFC 2033 LHLO, RFC 3207 STARTTLS) parsed into [`Command`].
//!
//! Verbs are case-insensitive. Spaces around the argument and around the colon of
//! `MAIL FROM:` / `RCPT TO:` are tolerated, as are several spaces between parameters. NUL and
//! other control bytes, invalid UTF-8 and non-ASCII text are refused, except inside the path of
//! MAIL and RCPT where RFC 6531 allows UTF-8 (whether the transaction declared SMTPUTF8 is the
//! session's business, not the parser's).

use std::fmt;

use crate::address::{AddressError, ForwardPath, Path, ReversePath, parse_path};
use crate::reply::{EnhancedCode, Reply};

/// One parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `EHLO domain` (SMTP only).
    Ehlo(String),
    /// `HELO domain` (SMTP only).
    Helo(String),
    /// `LHLO domain` (LMTP only).
    Lhlo(String),
    /// `MAIL FROM:<path> [params]`.
    Mail {
        /// The sender.
        from: ReversePath,
        /// ESMTP parameters, keywords upper-cased.
        params: Vec<Param>,
    },
    /// `RCPT TO:<path> [params]`.
    Rcpt {
        /// The recipient.
        to: ForwardPath,
        /// ESMTP parameters, keywords upper-cased.
        params: Vec<Param>,
    },
    /// `DATA`.
    Data,
    /// `RSET`.
    Rset,
    /// `NOOP [string]` (the string is ignored).
    Noop,
    /// `QUIT`.
    Quit,
    /// `VRFY string`.
    Vrfy(String),
    /// `EXPN string`.
    Expn(String),
    /// `HELP [string]`.
    Help(Option<String>),
    /// `STARTTLS`.
    StartTls,
    /// Any other verb, upper-cased; its arguments are dropped.
    Unknown(String),
}

/// An ESMTP parameter `KEYWORD[=value]` of MAIL or RCPT.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Param {
    /// The keyword, upper-cased (`SIZE`, `BODY`...).
    pub keyword: String,
    /// The value after `=`, if any, as written.
    pub value: Option<String>,
}

/// Why a command line did not parse. [`SyntaxError::reply`] gives the answer to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    /// A blank line.
    #[error("empty command line")]
    Empty,
    /// NUL or another control byte, invalid UTF-8, or a non-ASCII verb.
    #[error("invalid characters in command line")]
    InvalidBytes,
    /// Non-ASCII text in an argument other than an address.
    #[error("{verb}: non-ASCII argument")]
    NonAsciiArgument {
        /// The command.
        verb: &'static str,
    },
    /// A command that needs an argument had none.
    #[error("{verb} requires an argument")]
    MissingArgument {
        /// The command.
        verb: &'static str,
    },
    /// A command without arguments had one.
    #[error("{verb} takes no argument")]
    UnexpectedArgument {
        /// The command.
        verb: &'static str,
    },
    /// A malformed argument, e.g. an EHLO domain with spaces.
    #[error("{verb}: invalid argument")]
    InvalidArgument {
        /// The command.
        verb: &'static str,
    },
    /// `MAIL` without `FROM:` or `RCPT` without `TO:`.
    #[error("expected {0}")]
    Expected(&'static str),
    /// A malformed sender path.
    #[error("bad sender address syntax: {0}")]
    Sender(AddressError),
    /// A malformed recipient path.
    #[error("bad recipient address syntax: {0}")]
    Recipient(AddressError),
    /// A malformed `KEYWORD[=value]` parameter.
    #[error("invalid parameter {0:?}")]
    Parameter(String),
}

impl SyntaxError {
    /// The reply for this error: 500 5.5.2 for an unreadable line, 501 5.1.7 / 5.1.3 for a bad
    /// sender / recipient address, 501 5.5.4 for other bad arguments.
    pub fn reply(&self) -> Reply {
        let (code, enhanced) = match self {
            Self::Empty | Self::InvalidBytes => (500, EnhancedCode(5, 5, 2)),
            Self::Sender(_) => (501, EnhancedCode(5, 1, 7)),
            Self::Recipient(_) => (501, EnhancedCode(5, 1, 3)),
            _ => (501, EnhancedCode(5, 5, 4)),
        };
        Reply::new(code, enhanced, format!("Syntax error: {self}"))
    }
}

/// Parses one command line. A trailing `\n` or `\r\n` is allowed and ignored.
///
/// Never panics, whatever the input (it is fuzzed).
pub fn parse_command(line: &[u8]) -> Result<Command, SyntaxError> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err(SyntaxError::InvalidBytes);
    }
    let line = std::str::from_utf8(line).map_err(|_| SyntaxError::InvalidBytes)?;
    let line = line.trim_matches(' ');
    if line.is_empty() {
        return Err(SyntaxError::Empty);
    }
    let (verb, args) = match line.split_once(' ') {
        Some((verb, args)) => (verb, args.trim_start_matches(' ')),
        None => (line, ""),
    };
    if !verb.is_ascii() {
        return Err(SyntaxError::InvalidBytes);
    }
    let verb = verb.to_ascii_uppercase();
    Ok(match verb.as_str() {
        "EHLO" => Command::Ehlo(greeting_argument("EHLO", args)?),
        "HELO" => Command::Helo(greeting_argument("HELO", args)?),
        "LHLO" => Command::Lhlo(greeting_argument("LHLO", args)?),
        "MAIL" => parse_mail(args)?,
        "RCPT" => parse_rcpt(args)?,
        "DATA" => no_argument("DATA", args, Command::Data)?,
        "RSET" => no_argument("RSET", args, Command::Rset)?,
        "QUIT" => no_argument("QUIT", args, Command::Quit)?,
        "STARTTLS" => no_argument("STARTTLS", args, Command::StartTls)?,
        "NOOP" => {
            ascii_argument("NOOP", args)?;
            Command::Noop
        }
        "VRFY" => Command::Vrfy(required_argument("VRFY", args)?),
        "EXPN" => Command::Expn(required_argument("EXPN", args)?),
        "HELP" => Command::Help(Some(ascii_argument("HELP", args)?).filter(|a| !a.is_empty())),
        _ => Command::Unknown(verb),
    })
}

fn ascii_argument(verb: &'static str, args: &str) -> Result<String, SyntaxError> {
    if args.is_ascii() {
        Ok(args.to_owned())
    } else {
        Err(SyntaxError::NonAsciiArgument { verb })
    }
}

fn required_argument(verb: &'static str, args: &str) -> Result<String, SyntaxError> {
    if args.is_empty() {
        return Err(SyntaxError::MissingArgument { verb });
    }
    ascii_argument(verb, args)
}

/// The domain or address literal of EHLO/HELO/LHLO: one token of printable ASCII. Its syntax is
/// not checked further, as real clients send all sorts of names.
fn greeting_argument(verb: &'static str, args: &str) -> Result<String, SyntaxError> {
    let arg = required_argument(verb, args)?;
    if arg.contains(' ') {
        return Err(SyntaxError::InvalidArgument { verb });
    }
    Ok(arg)
}

fn no_argument(verb: &'static str, args: &str, command: Command) -> Result<Command, SyntaxError> {
    if args.is_empty() {
        Ok(command)
    } else {
        Err(SyntaxError::UnexpectedArgument { verb })
    }
}

/// `FROM:<path> [params]`, spaces tolerated around the colon.
fn parse_mail(args: &str) -> Result<Command, SyntaxError> {
    let rest = after_keyword(args, "FROM").ok_or(SyntaxError::Expected("FROM:<address>"))?;
    let (path, rest) = parse_path(rest).map_err(SyntaxError::Sender)?;
    let from = match path {
        Path::Null => ReversePath::Null,
        Path::Mailbox(mailbox) => ReversePath::Mailbox(mailbox),
        Path::Postmaster => return Err(SyntaxError::Sender(AddressError::MissingDomain)),
    };
    let params = parse_params("MAIL", rest)?;
    Ok(Command::Mail { from, params })
}

/// `TO:<path> [params]`, spaces tolerated around the colon.
fn parse_rcpt(args: &str) -> Result<Command, SyntaxError> {
    let rest = after_keyword(args, "TO").ok_or(SyntaxError::Expected("TO:<address>"))?;
    let (path, rest) = parse_path(rest).map_err(SyntaxError::Recipient)?;
    let to = match path {
        Path::Null => return Err(SyntaxError::Recipient(AddressError::NullRecipient)),
        Path::Mailbox(mailbox) => ForwardPath::Mailbox(mailbox),
        Path::Postmaster => ForwardPath::Postmaster,
    };
    let params = parse_params("RCPT", rest)?;
    Ok(Command::Rcpt { to, params })
}

/// Strips `keyword`, optional spaces, `:` and optional spaces.
fn after_keyword<'a>(args: &'a str, keyword: &str) -> Option<&'a str> {
    let head = args.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = args[keyword.len()..].trim_start_matches(' ');
    Some(rest.strip_prefix(':')?.trim_start_matches(' '))
}

/// Space-separated `KEYWORD[=value]` (RFC 5321 §4.1.2 esmtp-param).
fn parse_params(verb: &'static str, text: &str) -> Result<Vec<Param>, SyntaxError> {
    if !text.is_ascii() {
        return Err(SyntaxError::NonAsciiArgument { verb });
    }
    text.split(' ')
        .filter(|token| !token.is_empty())
        .map(|token| {
            let (keyword, value) = match token.split_once('=') {
                Some((keyword, value)) => (keyword, Some(value)),
                None => (token, None),
            };
            let keyword_ok = keyword.starts_with(|c: char| c.is_ascii_alphanumeric())
                && keyword
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-');
            let value_ok = value.is_none_or(|v| {
                !v.is_empty() && v.bytes().all(|b| matches!(b, 33..=60 | 62..=126))
            });
            if !keyword_ok || !value_ok {
                return Err(SyntaxError::Parameter(token.to_owned()));
            }
            Ok(Param {
                keyword: keyword.to_ascii_uppercase(),
                value: value.map(str::to_owned),
            })
        })
        .collect()
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.keyword)?;
        match &self.value {
            Some(value) => write!(f, "={value}"),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Command {
    /// The canonical command line, without CRLF; [`parse_command`] reads it back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ehlo(domain) => write!(f, "EHLO {domain}"),
            Self::Helo(domain) => write!(f, "HELO {domain}"),
            Self::Lhlo(domain) => write!(f, "LHLO {domain}"),
            Self::Mail { from, params } => {
                write!(f, "MAIL FROM:<{from}>")?;
                params.iter().try_for_each(|p| write!(f, " {p}"))
            }
            Self::Rcpt { to, params } => {
                write!(f, "RCPT TO:<{to}>")?;
                params.iter().try_for_each(|p| write!(f, " {p}"))
            }
            Self::Data => f.write_str("DATA"),
            Self::Rset => f.write_str("RSET"),
            Self::Noop => f.write_str("NOOP"),
            Self::Quit => f.write_str("QUIT"),
            Self::Vrfy(arg) => write!(f, "VRFY {arg}"),
            Self::Expn(arg) => write!(f, "EXPN {arg}"),
            Self::Help(None) => f.write_str("HELP"),
            Self::Help(Some(arg)) => write!(f, "HELP {arg}"),
            Self::StartTls => f.write_str("STARTTLS"),
            Self::Unknown(verb) => f.write_str(verb),
        }
    }
}

#[cfg(test)]
mod tests;
