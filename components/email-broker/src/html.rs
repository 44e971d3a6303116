//! The safety flags of an HTML body. The body itself is kept as sent; clients decide
//! what to show from these flags.
//!
//! A small tolerant tokenizer walks the start tags and their attributes (comments,
//! doctype and end tags skipped; the text of `script`, `style` and `textarea` taken
//! as raw text). It raises:
//! - `has-scripts`: a `script` element; an `on*` event attribute; a `javascript:` or
//!   `vbscript:` URL in a URL attribute (entities and blanks inside the scheme are
//!   undone first: `jav&#x09;ascript:`); CSS `expression()`, `behavior:` or
//!   `-moz-binding`; a `meta` refresh to a script URL; any of these in an `iframe`'s
//!   `srcdoc`;
//! - `has-remote-content`: a URL the client would load on display that points
//!   outside the message (`http:`, `https:`, `ftp:` or `//host`; not `cid:` nor
//!   `data:`): `src`, `background`, `poster`, `lowsrc`, `dynsrc`, each entry of
//!   `srcset`, `data` of `object`, `href` of `link`, SVG `image`/`use`/`feImage`;
//!   `url()` and `@import` in style sheets and `style` attributes; relative URLs when
//!   a `<base href>` points outside. Links (`a href`) are not loaded on display and
//!   do not count;
//! - `has-forms`: a `form`, `input`, `textarea` or `select` element, or a
//!   `formaction` attribute.

use crate::HtmlSafety;
use crate::css;

/// How deep `srcdoc` documents are scanned.
const MAX_SRCDOC_DEPTH: u8 = 2;

/// The flags of `html`.
pub(crate) fn safety(html: &str) -> HtmlSafety {
    let mut scanner = Scanner::default();
    scanner.scan(html, 0);
    scanner.flags
}

/// The scan state.
#[derive(Debug)]
struct Scanner {
    flags: HtmlSafety,
    /// A `<base href>` points outside: relative URLs are remote.
    base_remote: bool,
}

impl Default for Scanner {
    fn default() -> Self {
        Self {
            flags: HtmlSafety {
                has_scripts: false,
                has_remote_content: false,
                has_forms: false,
            },
            base_remote: false,
        }
    }
}

impl Scanner {
    fn scan(&mut self, html: &str, depth: u8) {
        let bytes = html.as_bytes();
        let mut i = 0;
        while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
            i += offset;
            let rest = &bytes[i..];
            if rest.starts_with(b"<!--") {
                i = find(bytes, i + 4, b"-->").map_or(bytes.len(), |end| end + 3);
            } else if rest.get(1).is_some_and(|b| matches!(b, b'!' | b'?' | b'/')) {
                i = find(bytes, i + 1, b">").map_or(bytes.len(), |end| end + 1);
            } else if rest.get(1).is_some_and(u8::is_ascii_alphabetic) {
                let tag = start_tag(html, i + 1);
                i = tag.end;
                self.element(&tag, depth);
                if let Some(raw_end) = raw_text_end(&tag.name, bytes, i) {
                    if tag.name == "style" {
                        self.css(&html[i..raw_end]);
                    }
                    i = raw_end;
                }
            } else {
                i += 1;
            }
        }
    }

    /// Flags raised by one start tag and its attributes.
    fn element(&mut self, tag: &Tag<'_>, depth: u8) {
        let name = tag.name.as_str();
        match name {
            "script" => self.flags.has_scripts = true,
            "form" | "input" | "textarea" | "select" => self.flags.has_forms = true,
            _ => {}
        }
        for (attr, value) in &tag.attrs {
            let attr = attr.as_str();
            if attr.len() > 2 && attr.starts_with("on") {
                self.flags.has_scripts = true;
            }
            if attr == "formaction" {
                self.flags.has_forms = true;
            }
            if attr == "style" {
                self.css(value);
            }
            if attr == "srcdoc" && depth < MAX_SRCDOC_DEPTH {
                self.scan(&decode_entities(value), depth + 1);
            }
            if name == "meta" && attr == "content" {
                let content = clean_url(value);
                if content.contains("javascript:") || content.contains("vbscript:") {
                    self.flags.has_scripts = true;
                }
            }
            if is_url_attr(attr) && is_script_url(value) {
                self.flags.has_scripts = true;
            }
            if name == "base" && attr == "href" && is_remote(value, false) {
                self.base_remote = true;
            }
            if loads_on_display(name, attr) {
                let remote = if attr == "srcset" {
                    value.split(',').any(|entry| {
                        let url = entry.split_whitespace().next().unwrap_or_default();
                        is_remote(url, self.base_remote)
                    })
                } else {
                    is_remote(value, self.base_remote)
                };
                self.flags.has_remote_content |= remote;
            }
        }
    }

    fn css(&mut self, css: &str) {
        let found = css::scan(css, self.base_remote);
        self.flags.has_remote_content |= found.remote;
        self.flags.has_scripts |= found.script;
    }
}

/// A start tag: its lower-case name, its attributes (lower-case names, values as
/// written), and the offset just past its `>`.
#[derive(Debug)]
struct Tag<'h> {
    name: String,
    attrs: Vec<(String, &'h str)>,
    end: usize,
}

/// Reads the start tag whose name begins at `start`.
fn start_tag(html: &str, start: usize) -> Tag<'_> {
    let bytes = html.as_bytes();
    let stop = |b: u8| b.is_ascii_whitespace() || b == b'>' || b == b'/';
    let mut i = start;
    while i < bytes.len() && !stop(bytes[i]) {
        i += 1;
    }
    let name = html[start..i].to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] == b'>' {
            break;
        }
        let name_start = i;
        i += 1;
        while i < bytes.len() && !stop(bytes[i]) && bytes[i] != b'=' {
            i += 1;
        }
        let attr = html[name_start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = "";
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let (value_start, value_end, next) = match bytes.get(i) {
                Some(&quote @ (b'"' | b'\'')) => {
                    let end = bytes[i + 1..]
                        .iter()
                        .position(|&b| b == quote)
                        .map_or(bytes.len(), |n| i + 1 + n);
                    (i + 1, end, (end + 1).min(bytes.len()))
                }
                _ => {
                    let s = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                    (s, i, i)
                }
            };
            value = &html[value_start..value_end];
            i = next;
        }
        attrs.push((attr, value));
    }
    Tag {
        name,
        attrs,
        end: (i + 1).min(bytes.len()),
    }
}

/// For raw-text elements, the offset of their end tag (or of the end of input).
fn raw_text_end(name: &str, bytes: &[u8], from: usize) -> Option<usize> {
    let closing: &[u8] = match name {
        "script" => b"</script",
        "style" => b"</style",
        "textarea" => b"</textarea",
        _ => return None,
    };
    Some(find(bytes, from, closing).unwrap_or(bytes.len()))
}

/// The offset of `needle` (lower-case ASCII) in `bytes` from `from`, ASCII
/// case-insensitive.
pub(crate) fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let hay = bytes.get(from..)?;
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|n| from + n)
}

/// Attributes whose value is a URL (where a script URL would run).
fn is_url_attr(attr: &str) -> bool {
    matches!(
        attr,
        "href"
            | "src"
            | "action"
            | "formaction"
            | "background"
            | "data"
            | "lowsrc"
            | "dynsrc"
            | "poster"
            | "xlink:href"
            | "codebase"
            | "cite"
            | "longdesc"
            | "usemap"
            | "srcset"
    )
}

/// Attributes the client fetches when it displays the element.
fn loads_on_display(tag: &str, attr: &str) -> bool {
    match attr {
        "src" | "background" | "poster" | "lowsrc" | "dynsrc" | "srcset" => true,
        "data" => tag == "object",
        "href" | "xlink:href" => matches!(tag, "link" | "image" | "use" | "feimage"),
        _ => false,
    }
}

/// True for a `javascript:` or `vbscript:` URL.
fn is_script_url(value: &str) -> bool {
    let url = clean_url(value);
    url.starts_with("javascript:") || url.starts_with("vbscript:")
}

/// True for a URL that points outside the message; a relative URL only when a base
/// points outside.
pub(crate) fn is_remote(value: &str, base_remote: bool) -> bool {
    let url = clean_url(value);
    if url.is_empty() || url.starts_with('#') {
        return false;
    }
    if url.starts_with("//") || url.starts_with("\\\\") {
        return true;
    }
    match url.split_once(':') {
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => {
            matches!(scheme, "http" | "https" | "ftp")
        }
        _ => base_remote,
    }
}

/// The URL with character references decoded, ASCII whitespace and controls removed
/// (browsers ignore them inside a scheme) and lower-cased.
fn clean_url(value: &str) -> String {
    decode_entities(value)
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Decodes numeric character references and the few named ones used to hide a
/// scheme (`&colon;`, `&Tab;`, `&NewLine;`, `&sol;`, `&amp;`).
pub(crate) fn decode_entities(value: &str) -> String {
    if !value.contains('&') {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match entity(rest) {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character and length of the reference at the start of `text` (`&...`).
fn entity(text: &str) -> Option<(char, usize)> {
    let body = &text[1..];
    if let Some(num) = body.strip_prefix('#') {
        let (digits, radix, skip) = match num.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16, 3),
            None => (num, 10, 2),
        };
        let len = digits.chars().take_while(|c| c.is_digit(radix)).count();
        let code = u32::from_str_radix(digits.get(..len.min(8))?, radix).ok()?;
        let semicolon = usize::from(digits[len..].starts_with(';'));
        return Some((
            char::from_u32(code).unwrap_or('\u{FFFD}'),
            skip + len + semicolon,
        ));
    }
    let named = [
        ("colon;", ':'),
        ("tab;", '\t'),
        ("newline;", '\n'),
        ("sol;", '/'),
        ("amp;", '&'),
    ];
    named.iter().find_map(|(name, c)| {
        body.get(..name.len())
            .filter(|n| n.eq_ignore_ascii_case(name))
            .map(|_| (*c, 1 + name.len()))
    })
}

#[cfg(test)]
mod tests;
