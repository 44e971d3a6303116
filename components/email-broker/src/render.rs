//! Renders a checked draft with `mail-builder`: headers in the order From, Sender,
//! To, Cc, Reply-To, Subject, Date, Message-ID, In-Reply-To, References,
//! MIME-Version; Bcc is never written (its recipients are envelope-only). A draft with
//! only Bcc recipients gets `To: undisclosed-recipients:;` (RFC 5322 §3.6.3).
//!
//! Body: `text/plain`, or `multipart/alternative` (plain, HTML) when there is an HTML
//! body, wrapped in `multipart/mixed` with one part per attachment (its content type,
//! `name` and `Content-Disposition: attachment; filename`). mail-builder picks the
//! transfer encodings and encodes non-ASCII header text (RFC 2047, RFC 2231).
//!
//! A draft made only of one ASCII-armored OpenPGP message (no HTML, no attachment:
//! what core sends for a draft the client encrypted) goes out as PGP/MIME (RFC 3156
//! §4): `multipart/encrypted; protocol="application/pgp-encrypted"`, a
//! `Version: 1` part, then the armored message as `application/octet-stream`, as the
//! original broker sent it (`src/backend/brokers/go.emails/encrypt.go`).
//!
//! Boundaries are derived from the draft (never from the clock, which wasm32 lacks)
//! and checked against the text that could be written unencoded.

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::mime::{BodyPart, MimePart};

use crate::validate::Checked;
use crate::{ComponentError, Draft, Participant};

/// The MIME bytes of `draft`.
pub(crate) fn render(draft: &Draft, checked: &Checked<'_>) -> Result<Vec<u8>, ComponentError> {
    let mut builder = MessageBuilder::new().from(mailbox(checked.from));
    if let Some(sender) = checked.sender {
        builder = builder.sender(mailbox(sender));
    }
    if !checked.to.is_empty() {
        builder = builder.to(mailboxes(&checked.to));
    } else if checked.cc.is_empty() {
        builder = builder.header("To", Raw::new("undisclosed-recipients:;"));
    }
    if !checked.cc.is_empty() {
        builder = builder.cc(mailboxes(&checked.cc));
    }
    if !checked.reply_to.is_empty() {
        builder = builder.reply_to(mailboxes(&checked.reply_to));
    }
    // Tabs go as spaces: a long subject is folded at whitespace, and a tab where it
    // folds would come back as a space, so the subject a recipient reads would depend
    // on its length.
    builder = builder
        .subject(draft.subject.replace('\t', " "))
        .date(Date::new(draft.date.div_euclid(1000)))
        .message_id(draft.message_id.trim());
    if let Some(parent) = checked.in_reply_to {
        builder = builder.in_reply_to(parent);
    }
    if !checked.references.is_empty() {
        builder = builder.references(MessageId::new_list(checked.references.iter().copied()));
    }
    builder = builder.body(body(draft));
    builder.write_to_vec().map_err(|e| ComponentError {
        kind: "internal".to_string(),
        message: format!("rendering the message failed: {e}"),
    })
}

fn mailbox(p: &Participant) -> Address<'_> {
    let label = p.label.trim();
    Address::new_address((!label.is_empty()).then_some(label), p.address.trim())
}

fn mailboxes<'d>(list: &[&'d Participant]) -> Address<'d> {
    Address::new_list(list.iter().map(|p| mailbox(p)).collect())
}

/// The MIME tree of the body.
fn body(draft: &Draft) -> MimePart<'_> {
    let salt = boundary_salt(draft);
    if let Some(armored) = pgp_message(draft) {
        return pgp_mime(armored, salt);
    }
    let text = MimePart::new(
        ContentType::new("text/plain").attribute("charset", "utf-8"),
        BodyPart::Text(draft.body_plain.as_str().into()),
    );
    let content = match &draft.body_html {
        Some(html) => {
            let html = MimePart::new(
                ContentType::new("text/html").attribute("charset", "utf-8"),
                BodyPart::Text(html.as_str().into()),
            );
            let ct =
                ContentType::new("multipart/alternative").attribute("boundary", boundary(salt, 1));
            MimePart::new(ct, BodyPart::Multipart(vec![text, html]))
        }
        None => text,
    };
    if draft.attachments.is_empty() {
        return content;
    }
    let mut parts = vec![content];
    for attachment in &draft.attachments {
        let name = attachment.file_name.trim();
        let ct = ContentType::new(attachment.content_type.trim().to_ascii_lowercase())
            .attribute("name", name);
        let part = MimePart::new(ct, BodyPart::Binary(attachment.content.as_slice().into()));
        parts.push(part.attachment(name));
    }
    let ct = ContentType::new("multipart/mixed").attribute("boundary", boundary(salt, 0));
    MimePart::new(ct, BodyPart::Multipart(parts))
}

/// The armored OpenPGP message a draft is made of, when it is made of nothing else.
fn pgp_message(draft: &Draft) -> Option<&str> {
    const BEGIN: &str = "-----BEGIN PGP MESSAGE-----";
    const END: &str = "-----END PGP MESSAGE-----";
    let body = draft.body_plain.trim();
    let lone = draft.body_html.is_none()
        && draft.attachments.is_empty()
        && body.is_ascii()
        && body.starts_with(BEGIN)
        && body.ends_with(END)
        && body.matches(BEGIN).count() == 1;
    lone.then_some(body)
}

/// RFC 3156 §4: the version part and the encrypted part, both 7-bit text written
/// as they are (CRLF line ends).
fn pgp_mime(armored: &str, salt: u64) -> MimePart<'static> {
    let version = MimePart::new(
        ContentType::new("application/pgp-encrypted"),
        BodyPart::Binary(b"Version: 1\r\n".as_slice().into()),
    )
    .transfer_encoding("7bit")
    .header(
        "Content-Description",
        Text::new("PGP/MIME version identification"),
    );
    let crlf = format!(
        "{}\r\n",
        armored.replace("\r\n", "\n").replace('\n', "\r\n")
    );
    let data = MimePart::new(
        ContentType::new("application/octet-stream").attribute("name", "encrypted.asc"),
        BodyPart::Binary(crlf.into_bytes().into()),
    )
    .transfer_encoding("7bit")
    .header(
        "Content-Description",
        Text::new("OpenPGP encrypted message"),
    )
    .header(
        "Content-Disposition",
        ContentType::new("inline").attribute("filename", "encrypted.asc"),
    );
    let ct = ContentType::new("multipart/encrypted")
        .attribute("protocol", "application/pgp-encrypted")
        .attribute("boundary", boundary(salt, 0));
    MimePart::new(ct, BodyPart::Multipart(vec![version, data]))
}

/// A boundary for nesting level `level`: `=_caliopen_<hash>_<level>`. The `=_` pair
/// never appears in quoted-printable or base64 output.
fn boundary(salt: u64, level: u8) -> String {
    format!("=_caliopen_{salt:016x}_{level}")
}

/// A hash of the draft's id and subject, changed until no boundary it gives appears
/// in text that mail-builder may write as is (the bodies and text attachments). A
/// draft crafted to hold the next [`MAX_BOUNDARY_TRIES`] boundaries gets the last.
fn boundary_salt(draft: &Draft) -> u64 {
    let mut seed =
        fnv1a(draft.message_id.as_bytes()) ^ fnv1a(draft.subject.as_bytes()).rotate_left(17);
    for _ in 0..MAX_BOUNDARY_TRIES {
        let clashes = (0..2u8).any(|level| {
            let b = boundary(seed, level);
            let text_attachments = draft
                .attachments
                .iter()
                .filter(|a| {
                    a.content_type
                        .trim()
                        .to_ascii_lowercase()
                        .starts_with("text/")
                })
                .map(|a| a.content.as_slice());
            [
                draft.body_plain.as_bytes(),
                draft.body_html.as_deref().unwrap_or_default().as_bytes(),
            ]
            .into_iter()
            .chain(text_attachments)
            .any(|text| contains(text, b.as_bytes()))
        });
        if !clashes {
            return seed;
        }
        seed = fnv1a(&seed.to_le_bytes());
    }
    seed
}

/// Boundaries tried before giving up on avoiding a clash.
const MAX_BOUNDARY_TRIES: usize = 64;

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
