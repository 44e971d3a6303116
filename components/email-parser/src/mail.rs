//! The entry point: checks the input, skips an mbox envelope line, repairs what
//! mail-parser cannot, lets it build the MIME structure, and assembles `parsed-mail`
//! from the other modules.

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use crate::bodies::{self, is_utf8_label};
use crate::fields::{self, Fields};
use crate::headers::{self, HeaderCharset, RawField};
use crate::limits::{MAX_HEADER_VALUE_BYTES, MAX_HEADERS};
use crate::mime;
use crate::problems::{Problems, quote_bytes};
use crate::repair;
use crate::{ComponentError, Header, MimePart, ParsedMail};

/// Parses one raw RFC 5322 / MIME message, best effort.
///
/// Never panics. Answers [`ComponentError`] only for an input that is empty or only
/// whitespace (kind `malformed`) and for one of 4 GiB or more (kind `unsupported`,
/// impossible on wasm32); every other input yields a [`ParsedMail`] whose `problems`
/// list what was wrong with it.
pub fn parse(raw: &[u8]) -> Result<ParsedMail, ComponentError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ComponentError {
            kind: "malformed".to_string(),
            message: "input is empty: there is no mail to parse".to_string(),
        });
    }
    if u32::try_from(raw.len()).is_err() {
        return Err(ComponentError {
            kind: "unsupported".to_string(),
            message: format!("input of {} bytes is larger than 4 GiB", raw.len()),
        });
    }
    let mut problems = Problems::default();
    let mail = skip_envelope(raw, &mut problems);
    let mail = repair::unfold_boundaries(mail, &mut problems);
    let parsed = match MessageParser::default().parse(mail.as_ref()) {
        Some(message) if !message.parts.is_empty() => from_message(&message, &mail, &mut problems),
        _ => not_a_mail(&mail, "no header found", &mut problems),
    };
    Ok(ParsedMail {
        size: raw.len() as u64,
        problems: problems.into_list(),
        ..parsed
    })
}

/// The content of leaf part `wanted` of `raw`, transfer decoding undone: the
/// part that [`parse`] numbered `wanted` (the same repairs, the same walk), so
/// that an attachment's `part-index` finds its bytes.
pub fn read_part(raw: &[u8], wanted: u32) -> Option<Vec<u8>> {
    let mut problems = Problems::default();
    let mail = skip_envelope(raw, &mut problems);
    let mail = repair::unfold_boundaries(mail, &mut problems);
    let message = MessageParser::default().parse(mail.as_ref())?;
    let tree = mime::walk(&message, &mail, &mut problems);
    let id = tree.leaf_index.iter().position(|&i| i == Some(wanted))?;
    let part = message.parts.get(id)?;
    Some(match &part.body {
        PartType::Binary(bytes) | PartType::InlineBinary(bytes) => bytes.to_vec(),
        PartType::Multipart(_) => return None,
        PartType::Text(_) | PartType::Html(_) | PartType::Message(_) => {
            mime::transfer_decoded(&mail, part).into_owned()
        }
    })
}

/// Skips the `From sender date` line an mbox puts before each message (RFC 4155).
fn skip_envelope<'r>(raw: &'r [u8], problems: &mut Problems) -> &'r [u8] {
    if !raw.starts_with(b"From ") {
        return raw;
    }
    let end = raw
        .iter()
        .position(|&b| b == b'\n')
        .map_or(raw.len(), |n| n + 1);
    problems.push(format!(
        "mbox envelope line skipped: {}",
        quote_bytes(raw[..end].trim_ascii_end())
    ));
    &raw[end..]
}

/// Builds `parsed-mail` from what mail-parser made of `raw` (`size` and `problems`
/// are filled by the caller).
fn from_message(message: &Message<'_>, raw: &[u8], problems: &mut Problems) -> ParsedMail {
    let root = &message.parts[0];
    let charset = header_charset(message);
    let mut header_problems = Problems::default();
    let raw_fields = headers::read_fields(raw, &root.headers, &charset, &mut header_problems);
    if !raw_fields.is_empty() && raw_fields.iter().all(|f| !f.well_formed) {
        // Binary garbage that happens to contain colons and newlines.
        return not_a_mail(raw, "no well-formed header field found", problems);
    }
    problems.extend(header_problems);
    let fields = if raw_fields.is_empty() {
        problems.push("input is not a mail: no header found");
        Fields::default()
    } else {
        fields::extract(&raw_fields, problems)
    };
    let headers = listed_headers(&raw_fields, problems);

    let tree = mime::walk(message, raw, problems);
    let unreachable = tree.node_index.iter().filter(|n| n.is_none()).count();
    if unreachable > 0 && tree.parts.len() < crate::limits::MAX_PARTS {
        problems.push(format!(
            "{unreachable} MIME parts are not reachable from the root and are not listed"
        ));
    }
    bodies::check_charsets(message, raw, &tree, problems);
    let bodies = bodies::pick(message, &tree);
    let attachments = mime::attachments(message, &tree);

    ParsedMail {
        headers,
        subject: fields.subject,
        date: fields.date,
        from: fields.from,
        sender: fields.sender,
        reply_to: fields.reply_to,
        to: fields.to,
        cc: fields.cc,
        bcc: fields.bcc,
        message_id: fields.message_id,
        in_reply_to: fields.in_reply_to,
        references: fields.references,
        list_id: fields.list_id,
        body_plain: bodies.plain,
        body_html: bodies.html,
        attachments,
        parts: tree.parts,
        size: 0,
        problems: Vec::new(),
    }
}

/// The header fields as listed in `parsed-mail`: decoded, unfolded, capped.
fn listed_headers(fields: &[RawField<'_>], problems: &mut Problems) -> Vec<Header> {
    if fields.len() > MAX_HEADERS {
        problems.push(format!(
            "the mail has {} header fields; only the first {MAX_HEADERS} are listed",
            fields.len()
        ));
    }
    fields
        .iter()
        .take(MAX_HEADERS)
        .map(|field| {
            let mut value = field.text();
            if headers::truncate(&mut value, MAX_HEADER_VALUE_BYTES) {
                problems.push(format!(
                    "header {} is longer than {MAX_HEADER_VALUE_BYTES} bytes; its listed value is cut",
                    headers::shown(&field.name)
                ));
            }
            Header {
                name: field.name.clone(),
                value,
            }
        })
        .collect()
}

/// The charset for 8-bit header bytes: the one declared by the top-level entity, or
/// by the first text body part.
fn header_charset(message: &Message<'_>) -> HeaderCharset {
    let declared = |id: u32| {
        message
            .parts
            .get(id as usize)?
            .content_type()?
            .attribute("charset")
            .map(|cs| cs.trim().to_ascii_lowercase())
    };
    let label = std::iter::once(0)
        .chain(message.text_body.iter().copied())
        .chain(message.html_body.iter().copied())
        .find_map(declared)
        .unwrap_or_default();
    let decoder = if is_utf8_label(&label) {
        None
    } else {
        charset_decoder(label.as_bytes())
    };
    HeaderCharset { label, decoder }
}

/// What is left when the input has no (well-formed) header field at all: the whole
/// input is kept as a plain text body, and the problem says so.
fn not_a_mail(raw: &[u8], why: &str, problems: &mut Problems) -> ParsedMail {
    problems.push(format!(
        "input is not a mail: {why}; the whole input is kept as a text/plain body"
    ));
    let body = String::from_utf8_lossy(raw).into_owned();
    if std::str::from_utf8(raw).is_err() {
        problems.push(
            "text/plain part 0: body is not valid UTF-8 and declares no charset; invalid bytes replaced with U+FFFD",
        );
    }
    ParsedMail {
        headers: Vec::new(),
        subject: None,
        date: None,
        from: Vec::new(),
        sender: None,
        reply_to: Vec::new(),
        to: Vec::new(),
        cc: Vec::new(),
        bcc: Vec::new(),
        message_id: None,
        in_reply_to: Vec::new(),
        references: Vec::new(),
        list_id: None,
        body_plain: Some(body),
        body_html: None,
        attachments: Vec::new(),
        parts: vec![MimePart {
            depth: 0,
            content_type: "text/plain".to_string(),
            params: Vec::new(),
            size: raw.len() as u64,
        }],
        size: 0,
        problems: Vec::new(),
    }
}

#[cfg(test)]
mod read_part_tests {
    use super::{parse, read_part};

    #[test]
    fn each_attachments_part_index_reads_its_decoded_bytes() {
        let raw = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: s\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"x.bin\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\naGkgdGhlcmU=\r\n--b1--\r\n";
        let parsed = parse(raw).unwrap();
        assert_eq!(parsed.attachments.len(), 1);
        let index = parsed.attachments[0].part_index;
        assert_eq!(read_part(raw, index).as_deref(), Some(&b"hi there"[..]));
        assert_eq!(read_part(raw, 0).as_deref(), Some(&b"hello"[..]));
        assert_eq!(read_part(raw, 2), None);
    }
}
