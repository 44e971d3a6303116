//! Shared by the integration tests: a JSON view of the generated WIT types (they do
//! not derive serde) and the location of the shared corpus.

#![allow(dead_code)]

use std::path::PathBuf;

use caliopen_email_parser::{Attachment, ComponentError, Mailbox, MimePart, ParsedMail};
use serde_json::{Value, json};

/// The JSON of a parse result: the fields of `parsed-mail` with their WIT names, or
/// `{"error": {...}}` for a `component-error`.
pub fn result_json(result: &Result<ParsedMail, ComponentError>) -> Value {
    match result {
        Ok(mail) => mail_json(mail),
        Err(error) => json!({ "error": { "kind": error.kind, "message": error.message } }),
    }
}

/// The JSON of a `parsed-mail`, keys named as in the WIT (serde_json sorts them).
pub fn mail_json(mail: &ParsedMail) -> Value {
    let headers: Vec<Value> = mail
        .headers
        .iter()
        .map(|h| json!([h.name, h.value]))
        .collect();
    json!({
        "headers": headers,
        "subject": mail.subject,
        "date": mail.date,
        "from": mailboxes(&mail.from),
        "sender": mail.sender.as_ref().map(mailbox),
        "reply-to": mailboxes(&mail.reply_to),
        "to": mailboxes(&mail.to),
        "cc": mailboxes(&mail.cc),
        "bcc": mailboxes(&mail.bcc),
        "message-id": mail.message_id,
        "in-reply-to": mail.in_reply_to,
        "references": mail.references,
        "list-id": mail.list_id,
        "body-plain": mail.body_plain,
        "body-html": mail.body_html,
        "attachments": mail.attachments.iter().map(attachment).collect::<Vec<_>>(),
        "parts": mail.parts.iter().map(part).collect::<Vec<_>>(),
        "size": mail.size,
        "problems": mail.problems,
    })
}

fn mailbox(m: &Mailbox) -> Value {
    json!({ "name": m.name, "address": m.address })
}

fn mailboxes(list: &[Mailbox]) -> Vec<Value> {
    list.iter().map(mailbox).collect()
}

fn attachment(a: &Attachment) -> Value {
    json!({
        "file-name": a.file_name,
        "content-type": a.content_type,
        "size": a.size,
        "is-inline": a.is_inline,
        "content-id": a.content_id,
        "part-index": a.part_index,
    })
}

fn part(p: &MimePart) -> Value {
    let params: Vec<Value> = p.params.iter().map(|(k, v)| json!([k, v])).collect();
    json!({
        "depth": p.depth,
        "content-type": p.content_type,
        "params": params,
        "size": p.size,
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
