//! What a session needs to know about its server: protocol, name, limits, TLS.

/// The protocol a session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// SMTP (RFC 5321): EHLO/HELO, one reply after DATA.
    Smtp,
    /// LMTP (RFC 2033): LHLO, one reply per accepted recipient after DATA.
    Lmtp,
}

/// Configuration of one session. [`SessionConfig::new`] fills the limits with their defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// SMTP or LMTP.
    pub mode: Mode,
    /// The server's name, used in the greeting, EHLO/LHLO and closing replies.
    pub hostname: String,
    /// Largest accepted message in bytes (RFC 1870 SIZE, advertised in EHLO/LHLO).
    pub max_message_size: usize,
    /// Most recipients accepted in one transaction; more get 452 4.5.3. RFC 5321 §4.5.3.1.8
    /// asks for at least 100.
    pub max_recipients: usize,
    /// Longest command line in bytes, CRLF included (RFC 5321 §4.5.3.1.4: 512). Longer lines
    /// get 500 5.5.2 and are skipped up to their LF.
    pub max_line_length: usize,
    /// In SMTP mode, the longest text line in DATA in bytes, CRLF included, if any: a message
    /// with a longer line is refused with 554 5.6.0 at the end of its data, never truncated.
    /// `None` (the default) takes lines of any length, bounded by `max_message_size` alone, as
    /// Postfix does (its `line_length_limit` only splits long lines into records internally).
    /// LMTP sessions ignore it: the MTA in front has already taken responsibility for the
    /// mail, and Dovecot's and Postfix's LMTP servers take long lines too.
    pub max_data_line_length: Option<usize>,
    /// After this many bad commands the session answers 421 4.7.0 and closes; 0 never closes.
    pub max_errors: usize,
    /// In SMTP mode, after this many recipients refused with a 5xx in one session (unknown
    /// users, say) the session answers 421 4.7.0 and closes, as Postfix does past its
    /// `smtpd_hard_error_limit`; 0 never closes. LMTP sessions ignore it: the MTA in front
    /// chose the recipients.
    pub max_refused_recipients: usize,
    /// Most unprocessed input bytes the session holds; never less than `max_line_length`.
    /// [`crate::Session::push_input`] accepts no more than this.
    pub max_input_buffer: usize,
    /// Whether the caller can upgrade the connection to TLS (STARTTLS is then advertised until
    /// TLS is active).
    pub tls_available: bool,
}

impl SessionConfig {
    /// Default [`SessionConfig::max_message_size`]: 50 MiB.
    pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 50 << 20;
    /// Default [`SessionConfig::max_recipients`].
    pub const DEFAULT_MAX_RECIPIENTS: usize = 100;
    /// Default [`SessionConfig::max_line_length`], the RFC 5321 limit.
    pub const DEFAULT_MAX_LINE_LENGTH: usize = 512;
    /// Default [`SessionConfig::max_errors`].
    pub const DEFAULT_MAX_ERRORS: usize = 10;
    /// Default [`SessionConfig::max_refused_recipients`]: Postfix's `smtpd_hard_error_limit`.
    pub const DEFAULT_MAX_REFUSED_RECIPIENTS: usize = 20;
    /// Default [`SessionConfig::max_input_buffer`]: 64 KiB.
    pub const DEFAULT_MAX_INPUT_BUFFER: usize = 64 << 10;

    /// A configuration with default limits and no TLS.
    pub fn new(mode: Mode, hostname: impl Into<String>) -> Self {
        Self {
            mode,
            hostname: hostname.into(),
            max_message_size: Self::DEFAULT_MAX_MESSAGE_SIZE,
            max_recipients: Self::DEFAULT_MAX_RECIPIENTS,
            max_line_length: Self::DEFAULT_MAX_LINE_LENGTH,
            max_data_line_length: None,
            max_errors: Self::DEFAULT_MAX_ERRORS,
            max_refused_recipients: Self::DEFAULT_MAX_REFUSED_RECIPIENTS,
            max_input_buffer: Self::DEFAULT_MAX_INPUT_BUFFER,
            tls_available: false,
        }
    }
}
