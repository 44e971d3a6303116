//! The client of a mail that reached us through an MTA: in LMTP mode the peer is
//! that MTA, and SPF is about the host that spoke to it. The MTA wrote it in the
//! topmost `Received` field (`from HELO (rDNS [IP]) by ...`), the only one that
//! can be trusted: every field below it was written by the sender's side.

use std::net::IpAddr;

/// The longest header section looked at.
const MAX_HEADER_BYTES: usize = 256 * 1024;

/// `(IP, HELO)` of the topmost `Received` field of `raw`, when it names them.
pub fn topmost_client(raw: &[u8]) -> Option<(IpAddr, String)> {
    let field = topmost_received(&raw[..raw.len().min(MAX_HEADER_BYTES)])?;
    let from = field.trim_start().strip_prefix("from")?.trim_start();
    let helo: String = from
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '(')
        .take(255)
        .collect();
    let comment_end = from.find(" by ").unwrap_or(from.len());
    let comment = &from[..comment_end];
    let open = comment.find('[')?;
    let close = open + comment[open..].find(']')?;
    let literal = &comment[open + 1..close];
    let literal = literal.strip_prefix("IPv6:").unwrap_or(literal);
    let ip = literal.parse().ok()?;
    Some((ip, helo))
}

/// The unfolded value of the first `Received` field of the header section.
fn topmost_received(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let mut lines = text.split("\n").map(|l| l.trim_end_matches('\r'));
    while let Some(line) = lines.next() {
        if line.is_empty() {
            return None;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if !name.eq_ignore_ascii_case("Received") {
            continue;
        }
        let mut value = value.to_owned();
        for next in lines.by_ref() {
            if !next.starts_with([' ', '\t']) {
                break;
            }
            value.push(' ');
            value.push_str(next.trim());
        }
        return Some(value);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_client_of_a_postfix_received_field() {
        let raw = b"Received: from mail.example.org (mail.example.org [203.0.113.5])\r\n\
            \tby mx.caliopen.local (Postfix) with ESMTPS id 4Xyz\r\n\
            \tfor <alice@caliopen.local>; Tue, 24 Nov 2026 10:00:00 +0100 (CET)\r\n\
            Received: from forged (forged [198.51.100.1]) by elsewhere\r\n\r\nbody";
        let (ip, helo) = topmost_client(raw).unwrap();
        assert_eq!(ip, "203.0.113.5".parse::<IpAddr>().unwrap());
        assert_eq!(helo, "mail.example.org");
    }

    #[test]
    fn ipv6_literals_and_missing_fields() {
        let raw = b"Received: from h.example ([IPv6:2001:db8::1]) by mx\r\n\r\n";
        assert_eq!(
            topmost_client(raw).unwrap().0,
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            topmost_client(b"Subject: none\r\n\r\nReceived: from x ([1.2.3.4])"),
            None
        );
    }
}
