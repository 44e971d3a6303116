//! Host names of URLs and of link texts, and the comparison behind
//! `LINK_TEXT_MISMATCH`: a link whose visible text is a URL or a domain on another
//! site than its target (`<a href="https://evil.example">https://bank.example</a>`).
//!
//! Sites are compared by an approximate registrable domain (the last two labels, or
//! three under a two-letter country code with a generic second level such as
//! `co.uk`), so that `www.bank.example` and `login.bank.example` are the same site.
//! Without the public suffix list this is a heuristic, and tracking redirectors in
//! newsletters (text `www.shop.example`, target a click-tracking host) also fire:
//! the default weight keeps this rule alone well under the threshold.

use crate::html::Anchor;

/// Top-level domains a bare link text (`paypal.com`, no scheme, no `www.`) must end
/// with to be taken as a domain rather than, say, a file name (`report.pdf`).
const BARE_TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "io", "co", "me", "us", "uk", "de", "fr", "es", "it", "nl",
    "be", "ch", "eu", "ru", "cn", "jp", "br", "in", "au", "ca", "app", "online", "xyz",
];

/// Second-level labels that, under a two-letter top-level domain, are part of the
/// public suffix (`example.co.uk`, `example.com.au`).
const GENERIC_SECOND_LEVEL: &[&str] = &["co", "com", "net", "org", "gov", "edu", "ac", "ne", "or"];

/// The host of an `http`/`https` URL, lower case, without user info, port or final
/// dot; none for other schemes, relative links and empty hosts.
pub fn url_host(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let rest = ["http://", "https://"]
        .iter()
        .find_map(|scheme| lower.strip_prefix(scheme))?;
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or_default();
    // `http://bank.example@evil.example/` goes to evil.example.
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        host_port.split_inclusive(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let host = host.trim_end_matches('.');
    (!host.is_empty()).then(|| host.to_owned())
}

/// The host a link text shows, when the text is a URL (`https://…`), starts with
/// `www.`, or is one bare domain with a common top-level domain; none for prose.
pub fn shown_host(text: &str) -> Option<String> {
    let text = text
        .trim()
        .trim_matches(|c: char| matches!(c, '<' | '>' | '"' | '\'' | '(' | ')' | '[' | ']'));
    if text.is_empty() || text.contains(char::is_whitespace) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return url_host(&lower);
    }
    if lower.starts_with("www.") {
        return url_host(&format!("http://{lower}"));
    }
    let domain = lower.split(['/', '?', '#']).next().unwrap_or_default();
    let domain = domain.trim_end_matches('.');
    let labels: Vec<&str> = domain.split('.').collect();
    let well_formed = labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let tld = labels.last().copied().unwrap_or_default();
    (well_formed && BARE_TLDS.contains(&tld)).then(|| domain.to_owned())
}

/// The approximate registrable domain of `host` (see the module documentation); IP
/// literals as they are.
pub fn site(host: &str) -> &str {
    let is_ip = host.starts_with('[') || host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if is_ip {
        return host;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let keep = match labels.as_slice() {
        [.., second, tld]
            if labels.len() >= 3 && tld.len() == 2 && GENERIC_SECOND_LEVEL.contains(second) =>
        {
            3
        }
        _ => 2,
    };
    if labels.len() <= keep {
        return host;
    }
    let skip: usize = labels[..labels.len() - keep]
        .iter()
        .map(|l| l.len() + 1)
        .sum();
    &host[skip..]
}

/// `(shown, target)` hosts when the anchor shows a site other than the one it links
/// to.
pub fn mismatch(anchor: &Anchor) -> Option<(String, String)> {
    let shown = shown_host(&anchor.text)?;
    let target = url_host(&anchor.href)?;
    (site(&shown) != site(&target)).then_some((shown, target))
}

/// The domain of an address (after its last `@`), lower case; none without `@`.
pub fn address_domain(address: &str) -> Option<String> {
    let (_, domain) = address.trim().rsplit_once('@')?;
    let domain = domain
        .trim()
        .trim_end_matches(['>', '.'])
        .to_ascii_lowercase();
    (!domain.is_empty()).then_some(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchor(href: &str, text: &str) -> Anchor {
        Anchor {
            href: href.into(),
            text: text.into(),
        }
    }

    #[test]
    fn url_hosts() {
        assert_eq!(
            url_host("HTTPS://Bank.Example./x").as_deref(),
            Some("bank.example")
        );
        assert_eq!(
            url_host("http://a.example:8080?q").as_deref(),
            Some("a.example")
        );
        assert_eq!(
            url_host("http://bank.example@evil.example/").as_deref(),
            Some("evil.example")
        );
        assert_eq!(url_host("http://[::1]:25/").as_deref(), Some("[::1]"));
        assert_eq!(url_host("mailto:a@b.example"), None);
        assert_eq!(url_host("/relative"), None);
        assert_eq!(url_host("http:///nohost"), None);
    }

    #[test]
    fn shown_hosts_only_for_url_like_texts() {
        assert_eq!(
            shown_host(" <https://paypal.com/login> ").as_deref(),
            Some("paypal.com")
        );
        assert_eq!(
            shown_host("www.Bank.example/x").as_deref(),
            Some("www.bank.example")
        );
        assert_eq!(shown_host("paypal.com").as_deref(), Some("paypal.com"));
        assert_eq!(shown_host("report.pdf"), None);
        assert_eq!(shown_host("Click here"), None);
        assert_eq!(shown_host("Mr.Smith"), None);
        assert_eq!(shown_host(""), None);
    }

    #[test]
    fn sites() {
        assert_eq!(site("login.bank.example"), "bank.example");
        assert_eq!(site("www.shop.co.uk"), "shop.co.uk");
        assert_eq!(site("a.b.example.com.au"), "example.com.au");
        assert_eq!(site("example"), "example");
        assert_eq!(site("192.0.2.1"), "192.0.2.1");
    }

    #[test]
    fn mismatch_compares_sites() {
        let evil = anchor("https://evil.example/login", "https://www.paypal.com");
        assert_eq!(
            mismatch(&evil),
            Some(("www.paypal.com".into(), "evil.example".into()))
        );
        assert_eq!(
            mismatch(&anchor("https://login.bank.example/", "www.bank.example")),
            None
        );
        assert_eq!(
            mismatch(&anchor("https://evil.example/", "Your bank")),
            None
        );
        assert_eq!(
            mismatch(&anchor("mailto:x@y.example", "https://bank.example")),
            None
        );
        let ip = anchor("http://192.0.2.1/", "http://bank.example");
        assert!(mismatch(&ip).is_some());
    }

    #[test]
    fn address_domains() {
        assert_eq!(
            address_domain("A@Mail.Example").as_deref(),
            Some("mail.example")
        );
        assert_eq!(address_domain("no-at"), None);
        assert_eq!(address_domain("x@"), None);
    }
}
