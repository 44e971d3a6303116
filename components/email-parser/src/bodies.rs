//! The plain and HTML bodies, and the charset checks of every listed text part.
//!
//! The bodies are the first `text/plain` part of mail-parser's `text_body` list and the
//! first `text/html` part of its `html_body` list. mail-parser puts a plain part in
//! `html_body` (and an HTML part in `text_body`) when a mail has only one flavour, so
//! that a reader can convert it; we skip those: a flavour the mail does not have
//! stays absent.

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use crate::mime::{Tree, transfer_decoded};
use crate::problems::{Problems, quote};

/// The two bodies, converted to UTF-8 by mail-parser.
#[derive(Debug, Default)]
pub(crate) struct Bodies {
    pub plain: Option<String>,
    pub html: Option<String>,
}

/// Picks the first body part of each flavour among the listed parts.
pub(crate) fn pick(message: &Message<'_>, tree: &Tree) -> Bodies {
    let listed = |id: u32| {
        tree.node_index
            .get(id as usize)
            .copied()
            .flatten()
            .is_some()
    };
    let body = |ids: &[u32], want_html: bool| {
        ids.iter().filter(|&&id| listed(id)).find_map(|&id| {
            match &message.parts.get(id as usize)?.body {
                PartType::Text(text) if !want_html => Some(text.to_string()),
                PartType::Html(html) if want_html => Some(html.to_string()),
                _ => None,
            }
        })
    };
    Bodies {
        plain: body(&message.text_body, false),
        html: body(&message.html_body, true),
    }
}

/// Reports, for every listed text part, a charset that is unknown or bytes that are
/// invalid in the declared charset (mail-parser replaces them with U+FFFD).
pub(crate) fn check_charsets(
    message: &Message<'_>,
    raw: &[u8],
    tree: &Tree,
    problems: &mut Problems,
) {
    for (id, part) in message.parts.iter().enumerate() {
        let Some(node) = tree.node_index.get(id).copied().flatten() else {
            continue;
        };
        if let PartType::Text(text) | PartType::Html(text) = &part.body
            && !part.is_encoding_problem
        {
            let label = format!("{} part {node}", tree.parts[node].content_type);
            check_text(&label, part, text, raw, problems);
        }
    }
}

/// The charset check of one text part already converted to `text`.
fn check_text(
    label: &str,
    part: &MessagePart<'_>,
    text: &str,
    raw: &[u8],
    problems: &mut Problems,
) {
    let charset = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .map(|cs| cs.trim().to_ascii_lowercase());
    let replaced = text.contains('\u{FFFD}');
    let invalid_utf8 = || replaced && std::str::from_utf8(&transfer_decoded(raw, part)).is_err();
    match charset.as_deref() {
        None | Some("") => {
            if invalid_utf8() {
                problems.push(format!(
                    "{label}: body is not valid UTF-8 and declares no charset; invalid bytes replaced with U+FFFD"
                ));
            }
        }
        Some(cs) if is_utf8_label(cs) => {
            if invalid_utf8() {
                problems.push(format!(
                    "{label}: body is not valid UTF-8 in charset {cs}; invalid bytes replaced with U+FFFD"
                ));
            }
        }
        Some(cs) if charset_decoder(cs.as_bytes()).is_none() => {
            let tail = if invalid_utf8() {
                "; invalid bytes replaced with U+FFFD"
            } else {
                ""
            };
            problems.push(format!(
                "{label}: unknown charset {}; decoded as UTF-8{tail}",
                quote(cs)
            ));
        }
        Some(cs @ ("us-ascii" | "ascii" | "ansi_x3.4-1968")) => {
            if !text.is_ascii() {
                problems.push(format!(
                    "{label}: 8-bit bytes in a {cs} body; decoded as windows-1252"
                ));
            }
        }
        Some(cs) => {
            if replaced {
                problems.push(format!(
                    "{label}: body has bytes that are invalid in charset {cs}; replaced with U+FFFD"
                ));
            }
        }
    }
}

/// True for the labels of UTF-8 (which mail-parser decodes without a table).
pub(crate) fn is_utf8_label(charset: &str) -> bool {
    let compact: String = charset
        .chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .collect::<String>()
        .to_ascii_lowercase();
    compact == "utf8" || compact.ends_with("utf8") && compact.starts_with(['u', 'x'])
}

#[cfg(test)]
mod tests {
    use super::is_utf8_label;

    #[test]
    fn utf8_labels() {
        for label in [
            "utf-8",
            "UTF8",
            "utf_8",
            "unicode-1-1-utf-8",
            "x-unicode20utf8",
        ] {
            assert!(is_utf8_label(label), "{label}");
        }
        for label in ["iso-8859-1", "utf-16", "utf-7"] {
            assert!(!is_utf8_label(label), "{label}");
        }
    }
}
