//! `Discussion`, as the original answered it (`idx/discussions.go`):
//! `date_update` is the last message's `date_sort` (the web client sorts and
//! dates its timeline by it), and, beyond the original, `id` beside
//! `discussion_id`, which the web client's discussion tagging builds its URL
//! from (`web/modules/discussion/query.ts`).

use caliopen_core::model::ParticipantRole;
use caliopen_core::service::discussions::DiscussionView;
use serde_json::{Value, json};

use super::date;
use super::message::participant;

pub fn discussion(v: &DiscussionView) -> Value {
    let d = &v.discussion;
    json!({
        "discussion_id": d.id,
        "id": d.id,
        "participants": d
            .participants
            .iter()
            .filter(|p| p.role != ParticipantRole::ListId)
            .map(participant)
            .collect::<Vec<_>>(),
        "last_message_id": d.last_message_id.to_string(),
        "last_message_date": date(&d.last_message_date),
        "last_message_subject": d.last_message_subject,
        "subject": d.last_message_subject,
        "excerpt": d.excerpt,
        "importance_level": d.importance_level,
        "protocol": d.protocol,
        "date_insert": date(&d.date_insert),
        "date_update": date(&d.last_message_date),
        "total_count": v.total_count,
        "unread_count": v.unread_count,
        "attachment_count": v.attachment_count,
        "tags": v.tags,
    })
}
