//! `Tag`, with its `name`: the tag's id in paths (`/v2/tags/{name}`) and on
//! messages and contacts. The swagger's `Tag` has no `name`, but the original
//! answered it (only `user_id` was hidden, `obj/tag.go`) and the web client
//! addresses and matches tags by it (`web/modules/tags/query.ts`); see
//! `openapi/client-overrides.json`.

use caliopen_core::model::{Tag, TagKind};
use serde_json::{Value, json};

use super::date;

pub fn tag(t: &Tag) -> Value {
    json!({
        "name": t.name,
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
