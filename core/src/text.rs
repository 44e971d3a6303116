//! Small text helpers: HTML to plain text for excerpts and indexing.

/// Plain text of an HTML fragment: tags dropped, `script`/`style` content dropped,
/// common entities decoded, whitespace collapsed. Good enough for excerpts and the
/// search index; never used to render.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_decoded(&mut out, &rest[..lt]);
        rest = &rest[lt..];
        let Some(gt) = rest.find('>') else {
            rest = "";
            break;
        };
        let tag = rest[1..gt].to_ascii_lowercase();
        rest = &rest[gt + 1..];
        for skipped in ["script", "style", "head"] {
            let opens = tag
                .strip_prefix(skipped)
                .is_some_and(|after| after.is_empty() || after.starts_with([' ', '\t', '\n', '/']));
            if opens && !rest.is_empty() {
                let close = format!("</{skipped}");
                match rest.to_ascii_lowercase().find(&close) {
                    Some(i) => rest = &rest[i..],
                    None => rest = "",
                }
            }
        }
        out.push(' ');
    }
    push_decoded(&mut out, rest);
    collapse_whitespace(&out)
}

fn push_decoded(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest.find(';').filter(|&i| i <= 10);
        let decoded = end.and_then(|i| decode_entity(&rest[1..i]));
        match (end, decoded) {
            (Some(i), Some(c)) => {
                out.push(c);
                rest = &rest[i + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
}

fn decode_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" | "#39" => '\'',
        "nbsp" => ' ',
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)?
        }
    })
}

/// Runs of whitespace become one space; ends trimmed.
pub fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first `max_chars` characters of a text with whitespace collapsed, cut at a
/// word boundary when one is near, with `…` when cut. Reads only as much of the text
/// as the excerpt needs (message lists make one per message, of bodies of any size).
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut chars = 0;
    let mut cut = false;
    for word in text.split_whitespace() {
        let sep = usize::from(!out.is_empty());
        let len = word.chars().count();
        if chars + sep + len > max_chars {
            // `out` becomes the first `max_chars` characters of the collapsed text.
            if sep == 1 && chars < max_chars {
                out.push(' ');
                chars += 1;
            }
            out.extend(word.chars().take(max_chars - chars));
            cut = true;
            break;
        }
        if sep == 1 {
            out.push(' ');
        }
        out.push_str(word);
        chars += sep + len;
    }
    if !cut {
        return out;
    }
    let kept = match out.rfind(' ') {
        Some(i) if i >= out.len() / 2 => &out[..i],
        _ => &out[..],
    };
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_to_text_drops_markup_scripts_and_decodes_entities() {
        let html = "<html><head><title>t</title></head><body><p>Hello&nbsp;<b>world</b> &amp; co</p>\
                    <script>alert('x')</script><p>caf&#233; &#x263A;</p></body></html>";
        assert_eq!(html_to_text(html), "Hello world & co café ☺");
    }

    #[test]
    fn excerpt_is_the_cut_of_the_collapsed_text() {
        // What `excerpt` must equal: collapse everything, then cut.
        fn reference(text: &str, max: usize) -> String {
            let text = collapse_whitespace(text);
            if text.chars().count() <= max {
                return text;
            }
            let cut: String = text.chars().take(max).collect();
            let cut = match cut.rfind(' ') {
                Some(i) if i >= cut.len() / 2 => &cut[..i],
                _ => &cut[..],
            };
            format!("{cut}…")
        }
        let texts = [
            "",
            "   ",
            "one",
            "one two   three",
            "  alpha\tbeta\n\ngamma delta  ",
            "averyveryverylongwordindeed and more",
            "café ☺ naïve résumé déjà vu",
            "a b c d e f g h i j k l m n o p",
        ];
        for text in texts {
            for max in 0..40 {
                assert_eq!(
                    excerpt(text, max),
                    reference(text, max),
                    "{text:?} at {max}"
                );
            }
        }
    }

    #[test]
    fn excerpt_cuts_on_words() {
        assert_eq!(excerpt("one two   three", 50), "one two three");
        assert_eq!(excerpt("alpha beta gamma delta", 15), "alpha beta…");
    }
}
