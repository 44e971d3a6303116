//! The host's verified DKIM, SPF and DMARC results: the `Authentication-Results`
//! field (RFC 8601) that the host puts first among the parsed headers after
//! verifying the mail at delivery. Only the first header is read: the host always
//! puts one there, so any such field a sender wrote comes after it and is never
//! taken for the host's.

use crate::Header;

/// What the host verified; every method `none` when it verified nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Verified {
    /// The first header is the host's field (always, once delivered by the host).
    pub present: bool,
    pub dkim: String,
    pub spf: String,
    pub dmarc: String,
    /// The `header.d=` domains of the DKIM signatures that passed.
    pub dkim_domains: Vec<String>,
}

impl Verified {
    pub fn dkim_passed(&self) -> bool {
        self.dkim == "pass"
    }
}

/// The host's results, from the first header only.
pub(crate) fn verified(headers: &[Header]) -> Verified {
    let mut out = Verified {
        present: false,
        dkim: "none".into(),
        spf: "none".into(),
        dmarc: "none".into(),
        dkim_domains: Vec::new(),
    };
    let Some(first) = headers.first() else {
        return out;
    };
    if !first
        .name
        .trim()
        .eq_ignore_ascii_case("Authentication-Results")
    {
        return out;
    }
    out.present = true;
    let value = without_comments(&first.value);
    // The authserv-id comes first; then one result per `;`.
    for result in value.split(';').skip(1) {
        let mut words = result.split_whitespace();
        let Some((method, outcome)) = words.next().and_then(|w| w.split_once('=')) else {
            continue;
        };
        let outcome = outcome.to_ascii_lowercase();
        match method.to_ascii_lowercase().as_str() {
            "dkim" => {
                // Several signatures: one pass is a pass.
                if out.dkim != "pass" {
                    out.dkim = outcome.clone();
                }
                if outcome == "pass"
                    && let Some(domain) = words.find_map(|w| w.strip_prefix("header.d="))
                {
                    let domain = domain.to_ascii_lowercase();
                    if !out.dkim_domains.contains(&domain) {
                        out.dkim_domains.push(domain);
                    }
                }
            }
            "spf" => out.spf = outcome,
            "dmarc" => out.dmarc = outcome,
            _ => {}
        }
    }
    out
}

/// `value` without its parenthesised comments (which may hold any text).
fn without_comments(value: &str) -> String {
    let mut depth = 0u32;
    value
        .chars()
        .filter(|&c| match c {
            '(' => {
                depth += 1;
                false
            }
            ')' => {
                depth = depth.saturating_sub(1);
                false
            }
            _ => depth == 0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &str, value: &str) -> Header {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn reads_the_hosts_results() {
        let headers = [h(
            "Authentication-Results",
            "mx.local; dkim=fail (bad; body) header.d=evil.example; \
             dkim=pass header.d=Example.org header.s=s1; spf=softfail (x) smtp.mailfrom=a@example.org; \
             dmarc=pass header.from=example.org",
        )];
        let v = verified(&headers);
        assert!(v.dkim_passed());
        assert_eq!(v.dkim_domains, vec!["example.org".to_owned()]);
        assert_eq!((v.spf.as_str(), v.dmarc.as_str()), ("softfail", "pass"));
    }

    #[test]
    fn a_senders_field_below_the_first_header_is_not_trusted() {
        let headers = [
            h("Authentication-Results", "mx.local; none"),
            h(
                "Authentication-Results",
                "mx.local; dkim=pass header.d=bank.example",
            ),
            h("DKIM-Signature", "v=1; d=bank.example; s=x; b=AAAA"),
        ];
        let v = verified(&headers);
        assert!(!v.dkim_passed());
        assert!(v.dkim_domains.is_empty());
    }
}
