//! Server replies (RFC 5321 §4.2) with enhanced status codes (RFC 2034, RFC 3463).

use std::fmt;

/// An enhanced status code `class.subject.detail` (RFC 3463), e.g. `5.1.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnhancedCode(pub u8, pub u16, pub u16);

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// One server reply: a three-digit code, an optional enhanced status code and one or more text
/// lines.
///
/// [`Reply::to_bytes`] renders it on the wire: every line but the last uses `code-`, the last
/// uses `code ` (RFC 5321 §4.2.1), and the enhanced code, when present, starts the text of every
/// line (RFC 2034 §4). `code` must have three digits (200..=599 for anything the session accepts
/// from its caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply code, e.g. `250`.
    pub code: u16,
    /// The enhanced status code. `None` only on the greeting, on EHLO/HELO/LHLO replies and on
    /// the intermediate 354, where RFC 2034 does not use one.
    pub enhanced: Option<EnhancedCode>,
    /// Text lines, without line endings. CR, LF and other control characters are replaced by
    /// spaces when rendering. An empty vector renders as one line with no text.
    pub lines: Vec<String>,
}

impl Reply {
    /// A one-line reply.
    pub fn new(
        code: u16,
        enhanced: impl Into<Option<EnhancedCode>>,
        text: impl Into<String>,
    ) -> Self {
        Self {
            code,
            enhanced: enhanced.into(),
            lines: vec![text.into()],
        }
    }

    /// Appends one more text line (the reply becomes multi-line).
    #[must_use]
    pub fn with_line(mut self, text: impl Into<String>) -> Self {
        self.lines.push(text.into());
        self
    }

    /// `2xx`: the command or delivery succeeded.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// `4xx`: temporary failure, the client may retry later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// `5xx`: permanent failure.
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }

    /// Appends the wire form of the reply, CRLF-terminated lines included, to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let empty = [String::new()];
        let lines: &[String] = if self.lines.is_empty() {
            &empty
        } else {
            &self.lines
        };
        for (i, line) in lines.iter().enumerate() {
            let separator = if i + 1 == lines.len() { ' ' } else { '-' };
            out.extend_from_slice(format!("{:03}{separator}", self.code).as_bytes());
            if let Some(enhanced) = self.enhanced {
                out.extend_from_slice(enhanced.to_string().as_bytes());
                if !line.is_empty() {
                    out.push(b' ');
                }
            }
            for ch in line.chars() {
                let ch = if ch.is_control() { ' ' } else { ch };
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
    }

    /// The wire form of the reply.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }

    /// `250 2.0.0 OK`, the generic success.
    pub fn ok() -> Self {
        Self::new(250, EnhancedCode(2, 0, 0), "OK")
    }

    /// `250 2.1.0 Sender OK`, for an accepted MAIL FROM.
    pub fn sender_ok() -> Self {
        Self::new(250, EnhancedCode(2, 1, 0), "Sender OK")
    }

    /// `250 2.1.5 Recipient OK`, the answer for an accepted recipient.
    pub fn recipient_ok() -> Self {
        Self::new(250, EnhancedCode(2, 1, 5), "Recipient OK")
    }

    /// `250 2.0.0 <text>`, the answer for a stored message (e.g. `"OK queued as 42"`).
    pub fn message_accepted(text: impl Into<String>) -> Self {
        Self::new(250, EnhancedCode(2, 0, 0), text)
    }

    /// `550 5.1.1 No such user`, the answer for an unknown recipient.
    pub fn no_such_user() -> Self {
        Self::new(550, EnhancedCode(5, 1, 1), "No such user")
    }

    /// `552 5.2.2 Mailbox full`, a recipient over quota.
    pub fn mailbox_full() -> Self {
        Self::new(552, EnhancedCode(5, 2, 2), "Mailbox full")
    }

    /// `451 4.3.0 <text>`, a temporary local failure (storage down, resolver timeout...).
    pub fn temporary_failure(text: impl Into<String>) -> Self {
        Self::new(451, EnhancedCode(4, 3, 0), text)
    }

    /// `421 4.3.2 <hostname> <text>`, for a server shutting down.
    pub fn shutting_down(hostname: &str, text: &str) -> Self {
        Self::new(421, EnhancedCode(4, 3, 2), format!("{hostname} {text}"))
    }

    /// `421 4.4.2 <hostname> Timeout exceeded`, for a client that went silent.
    pub fn timeout(hostname: &str) -> Self {
        Self::new(
            421,
            EnhancedCode(4, 4, 2),
            format!("{hostname} Timeout exceeded"),
        )
    }
}

impl fmt::Display for Reply {
    /// The wire form, CRLF line endings included.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_with_enhanced_code() {
        assert_eq!(Reply::ok().to_bytes(), b"250 2.0.0 OK\r\n");
    }

    #[test]
    fn multi_line_marks_every_line_but_the_last() {
        let reply = Reply::new(250, None, "mx.example.org")
            .with_line("PIPELINING")
            .with_line("SIZE 1000");
        assert_eq!(
            reply.to_string(),
            "250-mx.example.org\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"
        );
    }

    #[test]
    fn enhanced_code_repeated_on_each_line() {
        let reply = Reply::new(550, EnhancedCode(5, 1, 1), "no").with_line("really");
        assert_eq!(reply.to_string(), "550-5.1.1 no\r\n550 5.1.1 really\r\n");
    }

    #[test]
    fn control_characters_cannot_inject_lines() {
        let reply = Reply::new(250, None, "a\r\n250 b\0");
        assert_eq!(reply.to_string(), "250 a  250 b \r\n");
    }

    #[test]
    fn empty_lines_render_as_one_line() {
        let reply = Reply {
            code: 221,
            enhanced: None,
            lines: vec![],
        };
        assert_eq!(reply.to_string(), "221 \r\n");
        let reply = Reply::new(221, EnhancedCode(2, 0, 0), "");
        assert_eq!(reply.to_string(), "221 2.0.0\r\n");
    }

    #[test]
    fn classes() {
        assert!(Reply::ok().is_positive());
        assert!(Reply::temporary_failure("x").is_transient());
        assert!(Reply::no_such_user().is_permanent());
    }
}
