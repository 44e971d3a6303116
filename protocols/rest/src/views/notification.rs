//! `Notification`, as the original answered it (`obj/notification.go`, body
//! formatter `raw`): no `user_id`, and a `body` holding JSON text inserted as
//! JSON, so that the web client reads `body.size` of a `new_message`
//! (`web/modules/notification/`). The swagger's `body` is a string: see
//! `openapi/client-overrides.json`.

use caliopen_core::model::Notification;
use serde_json::{Value, json};

/// A notification as the original's `Notification` (which has no date: its id
/// is time-ordered, a UUIDv7 where the original used a UUIDv1).
pub fn notification(n: &Notification) -> Value {
    json!({
        "notif_id": n.id.to_string(),
        "emitter": n.emitter,
        "type": n.kind,
        "reference": n.reference,
        "body": body(&n.body),
    })
}

/// A body that is a JSON object or array as that JSON value; any other text
/// (a bounce's explanation, ...) as a string.
fn body(text: &str) -> Value {
    if text.starts_with(['{', '['])
        && let Ok(value) = serde_json::from_str::<Value>(text)
    {
        return value;
    }
    Value::String(text.to_owned())
}
