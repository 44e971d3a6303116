//! `Tag`. The spec's object has no `name`: a tag's name, its id in paths and on
//! messages and contacts, is in the `location` it was created at.

use caliopen_core::model::{Tag, TagKind};
use serde_json::{Value, json};

use super::date;

pub fn tag(t: &Tag) -> Value {
    json!({
        "label": t.label,
        "type": match t.kind {
            TagKind::System => "system",
            TagKind::User => "user",
        },
        "importance_level": t.importance_level,
        "date_insert": date(&t.date_insert),
    })
}

pub fn location(t: &Tag) -> String {
    format!("/api/v2/tags/{}", t.name)
}
