//! Caps on what a parse reports, so that hostile input cannot make the output (and
//! the host's memory) explode. Each cap that bites is reported in `problems`.

/// Header fields of the top-level entity listed in `headers`. Typed fields (From,
/// Date, ...) are still looked up among all fields.
pub const MAX_HEADERS: usize = 1000;

/// Bytes of one header value listed in `headers` (cut at a character boundary).
pub const MAX_HEADER_VALUE_BYTES: usize = 64 * 1024;

/// Mailboxes kept per address field (From, To, Cc, ...).
pub const MAX_MAILBOXES: usize = 1000;

/// Ids kept from In-Reply-To and from References.
pub const MAX_IDS: usize = 1000;

/// Nodes of the MIME tree listed in `parts` (attachments are taken among them).
pub const MAX_PARTS: usize = 1000;

/// Multiparts whose closing delimiter is looked for, and folded boundary parameters
/// whose delimiter is looked for (each check scans the part or the mail).
pub const MAX_BOUNDARY_CHECKS: usize = 64;

/// Boundaries longer than this are not searched for (RFC 2046 allows 70 characters).
pub const MAX_BOUNDARY_LEN: usize = 200;

/// Problems listed; the rest are counted in one last line.
pub const MAX_PROBLEMS: usize = 100;

/// Characters of input quoted in a problem.
pub const MAX_EXCERPT_CHARS: usize = 80;
