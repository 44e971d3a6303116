//! What a style sheet or a `style` attribute would load or run: `url(...)` and
//! `@import "..."` pointing outside the message (see [`crate::html::is_remote`]), and
//! the script hooks of old browsers (`expression(`, `behavior:`, `-moz-binding`).
//!
//! Comments are removed and CSS escapes of ASCII letters (`u\72 l(`) undone before
//! looking, so that the usual obfuscations do not hide a URL.

use crate::html::{decode_entities, is_remote};

/// What a piece of CSS does.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Found {
    pub remote: bool,
    pub script: bool,
}

/// Scans `css`; relative URLs count as remote when `base_remote`.
pub(crate) fn scan(css: &str, base_remote: bool) -> Found {
    let text = normalize(css);
    let script = ["expression(", "behavior:", "-moz-binding"]
        .iter()
        .any(|hook| text.contains(hook));
    let mut remote = false;
    let mut rest = text.as_str();
    while let Some(at) = rest.find("url(") {
        rest = &rest[at + 4..];
        let end = rest.find(')').unwrap_or(rest.len());
        remote |= is_remote(unquote(&rest[..end]), base_remote);
        rest = &rest[end..];
    }
    let mut rest = text.as_str();
    while let Some(at) = rest.find("@import") {
        rest = rest[at + 7..].trim_start();
        if let Some(quote @ ('"' | '\'')) = rest.chars().next() {
            let end = rest[1..].find(quote).map_or(rest.len(), |n| n + 1);
            remote |= is_remote(&rest[1..end], base_remote);
        }
    }
    Found { remote, script }
}

/// Lower case, entities decoded (a `style` attribute may hide text in them),
/// comments removed, escapes undone, blanks removed around `(` and `:`.
fn normalize(css: &str) -> String {
    let decoded = decode_entities(css);
    let mut out = String::with_capacity(decoded.len());
    let mut chars = decoded.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut previous = ' ';
                for c in chars.by_ref() {
                    if previous == '*' && c == '/' {
                        break;
                    }
                    previous = c;
                }
            }
            '\\' => {
                let hex: String = std::iter::from_fn(|| chars.next_if(char::is_ascii_hexdigit))
                    .take(6)
                    .collect();
                if hex.is_empty() {
                    if let Some(escaped) = chars.next() {
                        out.extend(escaped.to_lowercase());
                    }
                } else {
                    chars.next_if(|c| c.is_ascii_whitespace());
                    let code = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                    out.extend(code.unwrap_or('\u{FFFD}').to_lowercase());
                }
            }
            '(' | ':' => {
                while out.ends_with(|c: char| c.is_ascii_whitespace()) {
                    out.pop();
                }
                out.push(c);
                while chars.next_if(char::is_ascii_whitespace).is_some() {}
            }
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The argument of `url(...)` without blanks and quotes.
fn unquote(arg: &str) -> &str {
    arg.trim().trim_matches(['"', '\'']).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(css: &str) -> bool {
        scan(css, false).remote
    }

    #[test]
    fn urls() {
        assert!(remote(
            "body { background: URL( 'https://t.example/p.gif' ) }"
        ));
        assert!(remote("div{background-image:url(//cdn.example/x.png)}"));
        assert!(!remote("div{background:url(cid:logo@x)}"));
        assert!(!remote(
            "div{background:url(\"data:image/png;base64,AAAA\")}"
        ));
        assert!(!remote("div{background:url(img/x.png)}"));
        assert!(scan("div{background:url(img/x.png)}", true).remote);
        assert!(remote("@import \"http://evil.example/a.css\";"));
        assert!(remote("@import url(https://evil.example/a.css);"));
        assert!(remote("div{background:u\\72 l(http://x.example/a)}"));
        assert!(remote("div{background:/* hi */url(http://x.example/a)}"));
        assert!(remote("background: url&#40;http://x.example/a)"));
    }

    #[test]
    fn script_hooks() {
        assert!(scan("width: expression(alert(1))", false).script);
        assert!(scan("width: EXPRESSION (alert(1))", false).script);
        assert!(scan("behavior: url(x.htc)", false).script);
        assert!(!scan("color: red", false).script);
    }
}
