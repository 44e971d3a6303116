//! `Notification`.

use caliopen_core::model::Notification;
use serde_json::{Value, json};

/// A notification as the spec's `Notification` (which has no date: its id is
/// time-ordered, a UUIDv7 where the original used a UUIDv1).
pub fn notification(n: &Notification) -> Value {
    json!({
        "notif_id": n.id.to_string(),
        "user_id": n.user_id.to_string(),
        "emitter": n.emitter,
        "type": n.kind,
        "reference": n.reference,
        "body": n.body,
    })
}
