//! Shared by the integration tests: raw mail through the real parser crate and into
//! the broker (the two crates generate their own copies of the WIT types, so the
//! parser's `parsed-mail` is converted field by field), a JSON view of the broker's
//! `message` (the generated types do not derive serde), and the fixture and corpus
//! folders.

#![allow(dead_code)]

use std::path::PathBuf;

use caliopen_email_broker as broker;
use caliopen_email_parser as parser;
use serde_json::{Value, json};

/// The local domain every test user belongs to.
pub const LOCAL_DOMAIN: &str = "caliopen.local";

/// The reception time used by the tests: 2025-01-21T12:00:00Z.
pub const RECEIVED_AT: i64 = 1_737_460_800_000;

/// Parses `raw` with the parser crate; `None` when it answers `component-error`.
pub fn parse(raw: &[u8]) -> Option<broker::ParsedMail> {
    parser::parse(raw).ok().map(|m| convert(&m))
}

/// Parses and brokers `raw` for a user of [`LOCAL_DOMAIN`].
pub fn broker(raw: &[u8]) -> Option<broker::Message> {
    parse(raw).map(|mail| broker::inbound::inbound(&mail, RECEIVED_AT, LOCAL_DOMAIN))
}

/// The parser's `parsed-mail` as the broker's type.
pub fn convert(m: &parser::ParsedMail) -> broker::ParsedMail {
    let mailbox = |b: &parser::Mailbox| broker::Mailbox {
        name: b.name.clone(),
        address: b.address.clone(),
    };
    let mailboxes = |list: &[parser::Mailbox]| list.iter().map(mailbox).collect();
    broker::ParsedMail {
        headers: m
            .headers
            .iter()
            .map(|h| broker::Header {
                name: h.name.clone(),
                value: h.value.clone(),
            })
            .collect(),
        subject: m.subject.clone(),
        date: m.date,
        from: mailboxes(&m.from),
        sender: m.sender.as_ref().map(mailbox),
        reply_to: mailboxes(&m.reply_to),
        to: mailboxes(&m.to),
        cc: mailboxes(&m.cc),
        bcc: mailboxes(&m.bcc),
        message_id: m.message_id.clone(),
        in_reply_to: m.in_reply_to.clone(),
        references: m.references.clone(),
        list_id: m.list_id.clone(),
        body_plain: m.body_plain.clone(),
        body_html: m.body_html.clone(),
        attachments: m
            .attachments
            .iter()
            .map(|a| broker::Attachment {
                file_name: a.file_name.clone(),
                content_type: a.content_type.clone(),
                size: a.size,
                is_inline: a.is_inline,
                content_id: a.content_id.clone(),
                part_index: a.part_index,
            })
            .collect(),
        parts: m
            .parts
            .iter()
            .map(|p| broker::MimePart {
                depth: p.depth,
                content_type: p.content_type.clone(),
                params: p.params.clone(),
                size: p.size,
            })
            .collect(),
        size: m.size,
        problems: m.problems.clone(),
    }
}

/// The WIT name of a role.
pub fn role(role: broker::ParticipantRole) -> &'static str {
    use broker::ParticipantRole as R;
    match role {
        R::From => "from",
        R::To => "to",
        R::Cc => "cc",
        R::Bcc => "bcc",
        R::ReplyTo => "reply-to",
        R::Sender => "sender",
        R::ListId => "list-id",
    }
}

/// The WIT name of a crypto scheme.
pub fn scheme(scheme: broker::CryptoScheme) -> &'static str {
    match scheme {
        broker::CryptoScheme::PgpMime => "pgp-mime",
        broker::CryptoScheme::PgpInline => "pgp-inline",
        broker::CryptoScheme::Smime => "smime",
    }
}

/// The JSON of a `message`, keys named as in the WIT (serde_json sorts them).
pub fn message_json(m: &broker::Message) -> Value {
    let participants: Vec<Value> = m
        .participants
        .iter()
        .map(|p| json!({ "role": role(p.role), "protocol": p.protocol, "address": p.address, "label": p.label }))
        .collect();
    let attachments: Vec<Value> = m
        .attachments
        .iter()
        .map(|a| {
            json!({
                "file-name": a.file_name, "content-type": a.content_type, "size": a.size,
                "is-inline": a.is_inline, "content-id": a.content_id, "part-index": a.part_index,
            })
        })
        .collect();
    let f = &m.privacy_features;
    let extra: Vec<Value> = f.extra.iter().map(|(k, v)| json!([k, v])).collect();
    json!({
        "subject": m.subject,
        "date": m.date,
        "participants": participants,
        "body-plain": m.body_plain,
        "body-html": m.body_html,
        "html-safety": {
            "has-scripts": m.html_safety.has_scripts,
            "has-remote-content": m.html_safety.has_remote_content,
            "has-forms": m.html_safety.has_forms,
        },
        "attachments": attachments,
        "external-references": {
            "message-id": m.external_references.message_id,
            "parent-id": m.external_references.parent_id,
            "ancestors-ids": m.external_references.ancestors_ids,
        },
        "discussion-key": m.discussion_key,
        "privacy-features": {
            "transport-tls-version": f.transport_tls_version,
            "transport-cipher": f.transport_cipher,
            "external-hops": f.external_hops,
            "dkim-signed": f.dkim_signed,
            "upstream-spam": f.upstream_spam,
            // Through its shortest decimal form, so that 7.2f32 reads 7.2, not 7.19999...
            "upstream-spam-score": f.upstream_spam_score.map(|s| s.to_string().parse::<f64>().unwrap_or(f64::NAN)),
            "encryption": f.encryption.map(scheme),
            "signature": f.signature.map(scheme),
            "mail-agent": f.mail_agent,
            "is-internal": f.is_internal,
            "extra": extra,
        },
        "problems": m.problems,
    })
}

/// The shared corpus of real mail: `CALIOPEN_CORPUS`, else `../shared/corpus` from the
/// workspace root. The tests that read it fail when it is absent; `cargo xtask test`
/// finds it and lists those tests as skipped when there is none.
pub fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("CALIOPEN_CORPUS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    assert!(
        dir.is_dir(),
        "the shared corpus is absent at {}: set CALIOPEN_CORPUS to its folder",
        dir.display()
    );
    dir
}

/// This crate's fixtures folder.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The discussion key by core's rule (`discussion_key` in core/src/model/discussion.rs,
/// restated here so that this guest crate does not build the host's core): after the
/// runtime's conversion (addresses trimmed and lower-cased), `list:<address>` of the
/// first List-ID participant, else the sorted, de-duplicated `protocol:address` URIs
/// joined by `,`.
pub fn core_discussion_key(m: &broker::Message) -> String {
    if let Some(list) = m
        .participants
        .iter()
        .find(|p| p.role == broker::ParticipantRole::ListId)
    {
        return format!("list:{}", list.address.trim().to_lowercase());
    }
    let mut uris: Vec<String> = m
        .participants
        .iter()
        .map(|p| format!("{}:{}", p.protocol, p.address.trim().to_lowercase()))
        .collect();
    uris.sort();
    uris.dedup();
    uris.join(",")
}
