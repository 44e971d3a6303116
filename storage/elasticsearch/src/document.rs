//! From our documents and index operations to Elasticsearch documents and bulk lines.
//!
//! A document's `_id` is `<user>/<id>` and its routing is the user, so all of a user's
//! documents live on one shard per index and an upsert of the same (user, kind, id)
//! replaces the previous version. Operations keep their order; a `DeleteUser` is not a
//! bulk action, so [`plan`] cuts the operations into steps around it.
//!
//! [`check`] refuses, before anything is sent, an operation Elasticsearch would
//! reject for its length: an id or routing over 512 bytes, a `keyword` value over
//! Lucene's 32,766-byte term limit (which fails the whole document).

use serde_json::{Value, json};
use uuid::Uuid;

use caliopen_storage_traits::StorageResult;
use caliopen_storage_traits::limits::check_len;
use caliopen_storage_traits::search::{
    ContactDocument, DocKind, Document, IndexOp, MessageDocument,
};

/// Elasticsearch refuses an `_id` (and a routing value) longer than this.
pub const MAX_ID_BYTES: usize = 512;

/// Lucene refuses a term longer than this, and with it the whole document.
pub const MAX_KEYWORD_BYTES: usize = 32_766;

/// Refuses an operation Elasticsearch would reject for a length (see the module
/// documentation), with `StorageError::TooLarge`.
pub fn check(op: &IndexOp) -> StorageResult<()> {
    let (user, id) = match op {
        IndexOp::Upsert(doc) => (doc.user(), Some(doc.id())),
        IndexOp::Delete { user, id, .. } => (*user, Some(*id)),
        IndexOp::DeleteUser { user } => (*user, None),
    };
    if let Some(id) = id {
        check_len("_id", "search", doc_id(user, id).len(), MAX_ID_BYTES)?;
    }
    check_len("routing", "search", user.to_string().len(), MAX_ID_BYTES)?;
    if let IndexOp::Upsert(Document::Message(m)) = op {
        for p in &m.participants {
            check_len(
                "participant role",
                "search",
                p.role.len(),
                MAX_KEYWORD_BYTES,
            )?;
        }
    }
    Ok(())
}

use crate::mapping::{Names, language_suffix};

/// The `_id` of a user's document.
pub fn doc_id(user: Uuid, id: Uuid) -> String {
    format!("{user}/{id}")
}

/// The kind's name in the `kind` field.
pub fn kind_name(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Message => "message",
        DocKind::Contact => "contact",
    }
}

fn non_empty(values: &[String]) -> Vec<&str> {
    values
        .iter()
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .collect()
}

/// The `_source` of a message.
pub fn message_source(m: &MessageDocument) -> Value {
    let mut doc = json!({
        "user": m.user.to_string(),
        "kind": kind_name(DocKind::Message),
        "id": m.id.to_string(),
        "date": m.date,
        "pi": m.pi,
        "importance": m.importance_level,
        "subject": m.subject,
        "body": m.body,
        "participants": m.participants.iter().map(|p| json!({
            "role": p.role,
            "label": p.label,
            "address": p.address,
        })).collect::<Vec<_>>(),
        "tags": non_empty(&m.tags),
        "attachment_names": non_empty(&m.attachment_names),
    });
    if let Some(code) = m.language.as_deref().and_then(language_suffix) {
        doc[format!("subject_{code}")] = json!(m.subject);
        doc[format!("body_{code}")] = json!(m.body);
    }
    doc
}

/// The `_source` of a contact.
pub fn contact_source(c: &ContactDocument) -> Value {
    json!({
        "user": c.user.to_string(),
        "kind": kind_name(DocKind::Contact),
        "id": c.id.to_string(),
        "date": 0,
        "names": non_empty(&c.names),
        "emails": non_empty(&c.emails),
        "phones": non_empty(&c.phones),
        "organizations": non_empty(&c.organizations),
        "tags": non_empty(&c.tags),
    })
}

/// The `_source` of any document.
pub fn source(doc: &Document) -> Value {
    match doc {
        Document::Message(m) => message_source(m),
        Document::Contact(c) => contact_source(c),
    }
}

/// One step of applying operations in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The bulk lines of each operation (action, and source for index actions), in order.
    Bulk(Vec<Vec<Value>>),
    /// Remove every document of a user (delete-by-query on both indices).
    DeleteUser(Uuid),
}

/// The bulk lines of one upsert or delete.
pub fn bulk_lines(names: &Names, op: &IndexOp) -> Vec<Value> {
    match op {
        IndexOp::Upsert(doc) => vec![
            json!({ "index": {
                "_index": names.index(doc.kind()),
                "_id": doc_id(doc.user(), doc.id()),
                "routing": doc.user().to_string(),
            }}),
            source(doc),
        ],
        IndexOp::Delete { user, kind, id } => vec![json!({ "delete": {
            "_index": names.index(*kind),
            "_id": doc_id(*user, *id),
            "routing": user.to_string(),
        }})],
        IndexOp::DeleteUser { .. } => Vec::new(),
    }
}

/// Cuts `ops` into steps that, run in order, apply them in order, with bulk requests
/// of at most `max_ops` operations.
pub fn plan(names: &Names, ops: &[IndexOp], max_ops: usize) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut lines = Vec::new();
    for op in ops {
        if let IndexOp::DeleteUser { user } = op {
            if !lines.is_empty() {
                steps.push(Step::Bulk(std::mem::take(&mut lines)));
            }
            steps.push(Step::DeleteUser(*user));
            continue;
        }
        lines.push(bulk_lines(names, op));
        if lines.len() >= max_ops.max(1) {
            steps.push(Step::Bulk(std::mem::take(&mut lines)));
        }
    }
    if !lines.is_empty() {
        steps.push(Step::Bulk(lines));
    }
    steps
}

/// The users whose alias must exist before their documents are written or searched.
pub fn users_of(ops: &[IndexOp]) -> Vec<Uuid> {
    let mut users: Vec<Uuid> = ops
        .iter()
        .filter_map(|op| match op {
            IndexOp::Upsert(doc) => Some(doc.user()),
            _ => None,
        })
        .collect();
    users.sort_unstable();
    users.dedup();
    users
}
