//! Just enough HTML reading for the rules: the visible text of a body and its links.
//! Not a parser: a linear scan over the bytes, robust to broken markup (an unclosed
//! tag ends the text, nothing panics), bounded by the callers' limits.
//!
//! Offsets found in an ASCII-lower-cased copy are valid in the original, since
//! ASCII lower-casing keeps every byte where it was; slices are only cut at ASCII
//! bytes (`<`, `>`), so they are always on character boundaries.

/// A link of an HTML body: where it points and the text it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub href: String,
    pub text: String,
}

/// The visible text of `html`: tags dropped (each replaced by a space), the content of
/// `script`, `style`, `title` and `head` elements and of comments dropped, entities
/// decoded.
pub fn to_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len() / 2);
    let mut at = 0;
    while let Some(open) = find(&lower, "<", at) {
        out.push_str(&html[at..open]);
        out.push(' ');
        at = skip_markup(&lower, open);
    }
    if at < html.len() {
        out.push_str(&html[at..]);
    }
    decode_entities(&out)
}

/// Where the markup starting at `open` (a `<`) ends, hidden element content included.
fn skip_markup(lower: &str, open: usize) -> usize {
    if lower[open..].starts_with("<!--") {
        return find(lower, "-->", open + 4).map_or(lower.len(), |end| end + 3);
    }
    let end = tag_end(lower, open);
    let name = tag_name(lower, open);
    if matches!(name, "script" | "style" | "title" | "head") {
        let close = format!("</{name}");
        return find(lower, &close, end).map_or(lower.len(), |c| tag_end(lower, c));
    }
    end
}

/// The name of the tag opening at `open`, lower case (empty for `</x`, `<!x`, `< x`).
fn tag_name(lower: &str, open: usize) -> &str {
    let rest = &lower[open + 1..];
    let len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    &rest[..len]
}

/// The offset just past the `>` closing the tag that opens at `open` (quoted attribute
/// values may hold `>`), or the end of the text.
fn tag_end(text: &str, open: usize) -> usize {
    let mut quote: Option<u8> = None;
    for (i, b) in text.bytes().enumerate().skip(open + 1) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return i + 1,
            (None, _) => {}
        }
    }
    text.len()
}

fn find(text: &str, needle: &str, from: usize) -> Option<usize> {
    text.get(from..)?.find(needle).map(|i| i + from)
}

/// The links of `html`, at most `max` of them, in order. Anchors without an `href`
/// are skipped; the shown text is the visible text inside the element (up to its
/// `</a`, or 2 KiB when it never closes), whitespace collapsed.
pub fn anchors(html: &str, max: usize) -> Vec<Anchor> {
    const MAX_TEXT: usize = 2048;
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut at = 0;
    while found.len() < max {
        let Some(open) = find(&lower, "<a", at) else {
            break;
        };
        let after = lower.as_bytes().get(open + 2).copied();
        if !after.is_some_and(|b| b.is_ascii_whitespace() || b == b'>') {
            at = open + 2;
            continue;
        }
        let end = tag_end(&lower, open);
        let close = find(&lower, "</a", end).unwrap_or(lower.len());
        let mut stop = close.min(end.saturating_add(MAX_TEXT)).min(html.len());
        while !html.is_char_boundary(stop) {
            stop -= 1;
        }
        if let Some(href) = attribute(&html[open..end], "href") {
            let text = collapse(&to_text(&html[end..stop]));
            found.push(Anchor { href, text });
        }
        at = end.max(open + 2);
    }
    found
}

/// The value of attribute `name` (lower case) in the tag text `tag`, entities decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(at) = find(&lower, name, from) {
        from = at + name.len();
        let before_ok = at > 0 && bytes[at - 1].is_ascii_whitespace();
        let mut i = from;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if !before_ok || bytes.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let value = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let end =
                    find(&lower, if q == b'"' { "\"" } else { "'" }, i + 1).unwrap_or(tag.len());
                &tag[i + 1..end]
            }
            Some(_) => {
                let len = tag[i..]
                    .bytes()
                    .take_while(|b| !b.is_ascii_whitespace() && *b != b'>')
                    .count();
                &tag[i..i + len]
            }
            None => "",
        };
        return Some(decode_entities(value.trim()));
    }
    None
}

/// `text` with every run of whitespace made one space, trimmed.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Decodes the common named entities and numeric references; others stay as written.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity = rest[1..]
            .find(';')
            .filter(|&len| len <= 10)
            .and_then(|len| decode_entity(&rest[1..=len]).map(|c| (c, len + 2)));
        match entity {
            Some((c, consumed)) => {
                out.push(c);
                rest = &rest[consumed..];
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

fn decode_entity(name: &str) -> Option<char> {
    let numeric = |digits: &str, radix| u32::from_str_radix(digits, radix).ok();
    let code = if let Some(hex) = name.strip_prefix("#x").or(name.strip_prefix("#X")) {
        numeric(hex, 16)?
    } else if let Some(dec) = name.strip_prefix('#') {
        numeric(dec, 10)?
    } else {
        return Some(match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "nbsp" => ' ',
            _ => return None,
        });
    };
    char::from_u32(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_drops_tags_hidden_elements_and_comments() {
        let html = "<html><head><title>T</title><style>p{}</style></head>\
                    <body><!-- c --><p>Hello&nbsp;<b>world</b> &amp; you</p>\
                    <script>alert('x<y')</script>bye</body></html>";
        assert_eq!(collapse(&to_text(html)), "Hello world & you bye");
    }

    #[test]
    fn text_survives_broken_markup() {
        assert_eq!(collapse(&to_text("a <b c=\"x>y\">d")), "a d");
        assert_eq!(collapse(&to_text("a <b unclosed")), "a");
        assert_eq!(collapse(&to_text("x <script>never closed")), "x");
        assert_eq!(collapse(&to_text("é<i>è</i>")), "é è");
    }

    #[test]
    fn anchors_give_href_and_visible_text() {
        let html = r#"<A HREF="https://evil.example/x?a=1&amp;b=2"><span>https://bank.example</span></A>
            <a name=top>no href</a> <a href=http://plain.example/>plain</a> <abbr>not a link</abbr>"#;
        let found = anchors(html, 10);
        assert_eq!(
            found,
            [
                Anchor {
                    href: "https://evil.example/x?a=1&b=2".into(),
                    text: "https://bank.example".into()
                },
                Anchor {
                    href: "http://plain.example/".into(),
                    text: "plain".into()
                },
            ]
        );
        assert_eq!(anchors(html, 1).len(), 1);
        assert!(anchors("<a href='x'", 5)[0].text.is_empty());
    }

    #[test]
    fn entities_decode_or_stay() {
        assert_eq!(
            decode_entities("a&lt;b&#62;c&#x41;&bogus;&"),
            "a<b>cA&bogus;&"
        );
        assert_eq!(decode_entities("&#xFFFFFFFF;"), "&#xFFFFFFFF;");
    }
}
