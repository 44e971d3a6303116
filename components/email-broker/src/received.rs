//! The Received chain (RFC 5321 §4.4 trace fields, most recent first): which hops
//! were outside the recipient's domain, which hop brought the mail in (the ingress),
//! and the TLS version and cipher of that hop.
//!
//! Definitions, as the original Caliopen used them (see `received::transport`):
//! - a hop is *external* when its `by` host is known and is neither in the local
//!   domain nor a loopback host;
//! - the *ingress* hop is the most recent hop that came from outside: the first
//!   Received field whose `from` host is known, qualified (has a dot, or is an IP
//!   address), and is neither local nor loopback,
//!   skipping local delivery hops (LMTP) and hops inside one site (`from` and `by`
//!   in the same organisation: a re-injection, a relay between the MX and the
//!   mailbox server). Its TLS is the transport TLS of the message. When the local domain
//!   appears in the chain, this is the hop into the local domain; when it does not
//!   (an MX named outside it, a mail imported from elsewhere), it is the last hop
//!   recorded.
//!
//! The clause grammar is loose in practice, so the parse is token based: words and
//! parenthesised comments (nested) up to the first `;` (the date).

use crate::domain::{LocalDomain, is_loopback};
use crate::headers;

mod tls;

/// Received fields read; the rest are ignored.
const MAX_HOPS: usize = 100;

/// What one Received field says, as far as it parses.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Hop {
    /// The sending host: the name the receiving server resolved when given, else the
    /// name after `from`; without a trailing dot.
    pub from_host: Option<String>,
    /// The sending host's IP address, when given.
    pub from_ip: Option<String>,
    /// The receiving host, after `by`.
    pub by_host: Option<String>,
    /// The protocol after `with` (`ESMTPS`, `LMTP`, ...), as written.
    pub protocol: Option<String>,
    /// The TLS version, normalised (`TLSv1.2`).
    pub tls_version: Option<String>,
    /// The TLS cipher, as written.
    pub cipher: Option<String>,
}

impl Hop {
    /// True when the hop says it used TLS: a version is given, or the protocol is one
    /// of RFC 3848's TLS forms (`ESMTPS`, `ESMTPSA`, `LMTPS`, `UTF8SMTPS`, ...).
    pub(crate) fn uses_tls(&self) -> bool {
        self.tls_version.is_some()
            || self.protocol.as_deref().is_some_and(|p| {
                let p = p.to_ascii_uppercase();
                p.contains("SMTP") && (p.ends_with('S') || p.ends_with("SA"))
            })
    }

    fn is_local_delivery(&self) -> bool {
        self.protocol
            .as_deref()
            .is_some_and(|p| p.to_ascii_uppercase().starts_with("LMTP"))
    }
}

/// What the chain says about the transport of the message.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Transport {
    /// Hops whose `by` host is outside the local domain.
    pub external_hops: u32,
    /// The ingress hop, when one is found.
    pub ingress: Option<Hop>,
}

/// Reads the Received fields of `headers` (most recent first).
pub(crate) fn transport(headers: &[crate::Header], local: &LocalDomain) -> Transport {
    let hops: Vec<Hop> = headers::all(headers, "Received")
        .take(MAX_HOPS)
        .map(parse)
        .collect();
    let external_hops = hops
        .iter()
        .filter(|hop| {
            hop.by_host
                .as_deref()
                .is_some_and(|by| !is_loopback(by) && !local.contains_host(by))
        })
        .count();
    let ingress = hops.into_iter().find(|hop| is_from_outside(hop, local));
    Transport {
        external_hops: u32::try_from(external_hops).unwrap_or(u32::MAX),
        ingress,
    }
}

/// True for a hop that brought the mail from outside the local domain.
fn is_from_outside(hop: &Hop, local: &LocalDomain) -> bool {
    let Some(from) = hop.from_host.as_deref() else {
        return false;
    };
    let same_site = hop
        .by_host
        .as_deref()
        .is_some_and(|by| organisation(by).is_some_and(|org| Some(org) == organisation(from)));
    // A bare single-label name (`from list`, `from Debian-exim`) is a process or a
    // machine of the receiving site, not a host of the Internet.
    let qualified = from.contains(['.', ':']) || from.starts_with('[');
    qualified
        && !is_loopback(from)
        && !local.contains_host(from)
        && !same_site
        && !hop.is_local_delivery()
}

/// The organisation a host name belongs to, approximated without a public suffix
/// list: its last two labels, or three when the second-level label is a short
/// generic one under a country code (`example.co.uk`). `None` for IP literals and
/// single labels.
fn organisation(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.starts_with('[') || looks_like_ip(&host) {
        return None;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let [.., second, tld] = labels.as_slice() else {
        return None;
    };
    let generic = matches!(
        *second,
        "co" | "com" | "net" | "org" | "ac" | "gov" | "edu" | "ne" | "or"
    );
    let take = if tld.len() == 2 && generic && labels.len() > 2 {
        3
    } else {
        2
    };
    Some(labels[labels.len() - take..].join("."))
}

/// One token of a Received value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Token<'a> {
    Word(&'a str),
    /// The text inside a parenthesised comment (inner parentheses kept).
    Comment(&'a str),
}

/// The words and comments of `value` before the first top-level `;`.
fn tokens(value: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b';' => break,
            b'(' => {
                let mut depth = 0usize;
                let start = i + 1;
                let mut end = bytes.len();
                for (j, &b) in bytes.iter().enumerate().skip(i) {
                    match b {
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                end = j;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                out.push(Token::Comment(value[start..end].trim()));
                i = end + 1;
            }
            b if b.is_ascii_whitespace() || b == b')' => i += 1,
            _ => {
                let start = i;
                while i < bytes.len()
                    && !matches!(bytes[i], b';' | b'(')
                    && !bytes[i].is_ascii_whitespace()
                {
                    i += 1;
                }
                out.push(Token::Word(&value[start..i]));
            }
        }
    }
    out
}

/// Parses one Received value.
pub(crate) fn parse(value: &str) -> Hop {
    let tokens = tokens(value);
    let mut hop = Hop::default();
    let mut i = 0;
    while i < tokens.len() {
        let Token::Word(word) = tokens[i] else {
            i += 1;
            continue;
        };
        let next = match tokens.get(i + 1) {
            Some(Token::Word(next)) => Some(*next),
            _ => None,
        };
        match word.to_ascii_lowercase().as_str() {
            "from" if hop.from_host.is_none() => {
                if let Some(helo) = next {
                    from_clause(&mut hop, helo, tokens.get(i + 2));
                }
            }
            "by" if hop.by_host.is_none() => {
                hop.by_host = next.map(|h| h.trim_end_matches('.').to_string());
            }
            "with" if hop.protocol.is_none() => hop.protocol = next.map(str::to_string),
            _ => {}
        }
        i += 1;
    }
    if let Some((version, cipher)) = tls::find(&tokens) {
        hop.tls_version = Some(version);
        hop.cipher = cipher;
    }
    hop
}

/// Fills the sending host and IP from `from <helo> (<rdns> [<ip>] ...)`.
fn from_clause(hop: &mut Hop, helo: &str, comment: Option<&Token<'_>>) {
    let mut rdns = None;
    if let Some(Token::Comment(text)) = comment
        && !tls::is_tls_comment(text)
    {
        for word in text.split_whitespace() {
            if let Some(literal) = word.strip_prefix('[') {
                let ip = literal.split(']').next().unwrap_or_default();
                hop.from_ip
                    .get_or_insert_with(|| strip_ipv6_tag(ip).to_string());
            } else if looks_like_ip(word) {
                hop.from_ip.get_or_insert_with(|| word.to_string());
            } else if rdns.is_none()
                && hop.from_ip.is_none()
                && word.contains('.')
                && !word.contains('=')
                && !word.eq_ignore_ascii_case("unknown")
            {
                rdns = Some(word.trim_end_matches('.'));
            }
        }
    }
    if let Some(literal) = helo.strip_prefix('[') {
        let ip = literal.split(']').next().unwrap_or_default();
        hop.from_ip
            .get_or_insert_with(|| strip_ipv6_tag(ip).to_string());
    }
    let host = rdns.unwrap_or_else(|| helo.trim_end_matches('.'));
    hop.from_host = Some(host.to_string());
}

fn strip_ipv6_tag(ip: &str) -> &str {
    ip.get(..5)
        .filter(|tag| tag.eq_ignore_ascii_case("ipv6:"))
        .map_or(ip, |_| &ip[5..])
}

/// True for a bare IPv4 or IPv6 address (`1.2.3.4`, `2a01:111::52`).
fn looks_like_ip(word: &str) -> bool {
    let v4 = word.split('.').count() == 4 && word.split('.').all(|n| n.parse::<u8>().is_ok());
    let v6 = word.contains(':')
        && word
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
    v4 || v6
}

#[cfg(test)]
mod tests;
