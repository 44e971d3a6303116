//! The top-level header block as written: field names as the sender spelled them,
//! values made UTF-8 (still folded and RFC 2047-encoded), lines that are not header
//! fields, and the decoded, unfolded text of a value.
//!
//! Every typed field is parsed again from these values rather than taken from
//! mail-parser's own header values, so that a raw 8-bit header is decoded once, with
//! the same charset fallback, for `headers` and for the typed fields alike.

use std::borrow::Cow;

use mail_parser::decoders::charsets::DecoderFnc;
use mail_parser::parsers::MessageStream;
use mail_parser::{Header as MpHeader, HeaderValue};

use crate::problems::{Problems, quote, quote_bytes};

/// One header field of the top-level entity.
#[derive(Debug)]
pub(crate) struct RawField<'a> {
    /// The field name as written, surrounding whitespace removed.
    pub name: String,
    /// The value as written after the colon, made valid UTF-8, ending with `\n` so
    /// that mail-parser's field parsers see the end of the field.
    pub value: Cow<'a, [u8]>,
    /// The name is printable ASCII without spaces, as RFC 5322 requires.
    pub well_formed: bool,
}

impl RawField<'_> {
    /// Whether the field is named `name` (ASCII case-insensitive).
    pub(crate) fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The value decoded (RFC 2047 encoded words) and unfolded, surrounding
    /// whitespace removed.
    pub(crate) fn text(&self) -> String {
        match MessageStream::new(&self.value).parse_unstructured() {
            HeaderValue::Text(text) => text.trim().to_string(),
            _ => String::new(),
        }
    }
}

/// The charset used for header bytes that are not UTF-8: the charset the mail
/// declares for its top-level entity or first text body, when mail-parser knows it.
#[derive(Debug, Default)]
pub(crate) struct HeaderCharset {
    /// Lower-case charset name, for problem texts.
    pub label: String,
    /// The decoder; `None` decodes as UTF-8 with invalid bytes replaced.
    pub decoder: Option<DecoderFnc>,
}

/// Reads the header fields mail-parser found in `raw`, in order, and reports the
/// lines of the header block it skipped and malformed field names.
pub(crate) fn read_fields<'a>(
    raw: &'a [u8],
    headers: &[MpHeader<'_>],
    charset: &HeaderCharset,
    problems: &mut Problems,
) -> Vec<RawField<'a>> {
    let mut fields = Vec::with_capacity(headers.len());
    let mut previous_end = 0;
    for header in headers {
        let end = (header.offset_end as usize).min(raw.len());
        let value_start = (header.offset_start as usize).min(end);
        let name_start = (header.offset_field as usize).min(value_start);
        // `offset_start` is just past the colon.
        let name_end = value_start.saturating_sub(1).max(name_start);

        report_skipped(raw.get(previous_end..name_start), problems);
        previous_end = previous_end.max(end);

        let name_bytes = raw[name_start..name_end].trim_ascii();
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        let well_formed = is_field_name(name_bytes);
        if !well_formed {
            problems.push(format!(
                "malformed header field name {}",
                quote_bytes(name_bytes)
            ));
        }
        let value = utf8_value(&shown(&name), &raw[value_start..end], charset, problems);
        fields.push(RawField {
            name,
            value,
            well_formed,
        });
    }
    fields
}

/// True for a field name RFC 5322 allows: printable ASCII, no space or colon.
fn is_field_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&b| (33..=126).contains(&b) && b != b':')
}

/// A field name as shown in a problem: as is when well formed, quoted otherwise.
pub(crate) fn shown(name: &str) -> String {
    if is_field_name(name.as_bytes()) {
        name.to_string()
    } else {
        quote(name)
    }
}

/// Reports non-blank bytes between two header fields: a line mail-parser skipped
/// because it is not a `name: value` field.
fn report_skipped(gap: Option<&[u8]>, problems: &mut Problems) {
    if let Some(gap) = gap {
        let junk = gap.trim_ascii();
        if !junk.is_empty() {
            problems.push(format!(
                "line in the header block is not a header field, skipped: {}",
                quote_bytes(junk)
            ));
        }
    }
}

/// The value bytes as valid UTF-8 ending with a newline; 8-bit bytes that are not
/// UTF-8 are decoded with the mail's charset (reported).
fn utf8_value<'a>(
    name: &str,
    bytes: &'a [u8],
    charset: &HeaderCharset,
    problems: &mut Problems,
) -> Cow<'a, [u8]> {
    let mut value: Cow<'a, [u8]> = match std::str::from_utf8(bytes) {
        Ok(_) => Cow::Borrowed(bytes),
        Err(_) => {
            let decoded = match charset.decoder {
                Some(decoder) => {
                    problems.push(format!(
                        "header {name} is not valid UTF-8; decoded as {}, the charset of the body",
                        charset.label
                    ));
                    decoder(bytes)
                }
                None => {
                    problems.push(format!(
                        "header {name} is not valid UTF-8; invalid bytes replaced with U+FFFD"
                    ));
                    String::from_utf8_lossy(bytes).into_owned()
                }
            };
            Cow::Owned(decoded.into_bytes())
        }
    };
    if !value.ends_with(b"\n") {
        value.to_mut().push(b'\n');
    }
    value
}

/// Cuts `text` to at most `max` bytes at a character boundary; true when cut.
pub(crate) fn truncate(text: &mut String, max: usize) -> bool {
    if text.len() <= max {
        return false;
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    true
}

/// A problem text naming a header field and quoting its value.
pub(crate) fn field_problem(what: &str, field: &RawField<'_>) -> String {
    format!("{what}: {}", quote(&field.text()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(value: &str) -> RawField<'static> {
        RawField {
            name: "Subject".into(),
            value: Cow::Owned(value.as_bytes().to_vec()),
            well_formed: true,
        }
    }

    #[test]
    fn text_unfolds_and_decodes() {
        assert_eq!(
            field(" a\r\n  folded\r\n\tvalue\r\n").text(),
            "a folded value"
        );
        assert_eq!(
            field(" =?iso-8859-1?q?caf=E9?= =?utf-8?b?w6k=?= au lait\n").text(),
            "caféé au lait"
        );
        assert_eq!(field(" \n").text(), "");
    }

    #[test]
    fn eight_bit_values_use_the_body_charset() {
        let mut problems = Problems::default();
        let charset = HeaderCharset {
            label: "iso-8859-1".into(),
            decoder: mail_parser::decoders::charsets::map::charset_decoder(b"iso-8859-1"),
        };
        let value = utf8_value("Subject", b" caf\xe9", &charset, &mut problems);
        assert_eq!(&*value, " café\n".as_bytes());
        assert_eq!(problems.into_list().len(), 1);
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        let mut text = "ééé".to_string();
        assert!(truncate(&mut text, 3));
        assert_eq!(text, "é");
        assert!(!truncate(&mut text, 3));
    }
}
