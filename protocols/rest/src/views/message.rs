//! `MessageV2`.

use caliopen_core::model::{Message, Participant, ParticipantRole, Settings};
use serde_json::{Map, Value, json};

use super::{date, pi};

/// Characters of body shown in `excerpt`.
const EXCERPT_CHARS: usize = 200;

/// A message as clients get it: `body` is the HTML or the plain body as the user's
/// `message_display_format` asks (`body_is_plain` says which), List-ID
/// participants are left out (the spec's participant types do not include it).
pub fn message(m: &Message, settings: &Settings) -> Value {
    let wants_html = settings.message_display_format != "plain_text";
    let (body, body_is_plain) = match (&m.body_html, &m.body_plain) {
        (Some(html), _) if wants_html => (html.clone(), false),
        (_, Some(plain)) => (plain.clone(), true),
        (Some(html), None) => (html.clone(), false),
        (None, None) => (String::new(), true),
    };
    let participants: Vec<Value> = m
        .participants
        .iter()
        .filter(|p| p.role != ParticipantRole::ListId)
        .map(participant)
        .collect();
    let attachments: Vec<Value> = m
        .attachments
        .iter()
        .map(|a| {
            json!({
                "content_type": a.content_type,
                "file_name": a.file_name,
                "is_inline": a.is_inline,
                "size": a.size,
                "url": format!("/api/v2/messages/{}/attachments/{}", m.id, a.index),
            })
        })
        .collect();
    let mut refs = Map::new();
    if let Some(id) = &m.external_references.message_id {
        refs.insert("message_id".into(), json!(id));
    }
    if let Some(id) = &m.external_references.parent_id {
        refs.insert("parent_id".into(), json!(id));
    }
    if !m.external_references.ancestors_ids.is_empty() {
        refs.insert(
            "ancestors_id".into(),
            json!(m.external_references.ancestors_ids.join(" ")),
        );
    }
    let mut out = json!({
        "message_id": m.id.to_string(),
        "user_id": m.user_id.to_string(),
        "discussion_id": m.discussion_id,
        "protocol": m.protocol,
        "subject": m.subject,
        "body": body,
        "body_is_plain": body_is_plain,
        "excerpt": m.excerpt(EXCERPT_CHARS),
        "date": date(&m.date),
        "date_insert": date(&m.date_insert),
        "date_sort": date(&m.date_sort),
        "participants": participants,
        "attachments": attachments,
        "external_references": refs,
        "importance_level": m.importance_level,
        "is_answered": m.is_answered,
        "is_draft": m.is_draft,
        "is_unread": m.is_unread,
        "is_received": m.is_received,
        "privacy_features": m.privacy_features,
        "pi_message": pi_message(m),
        "tags": m.tags,
        "user_identities": m.user_identities.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
    });
    let obj = out.as_object_mut().expect("json! object");
    if let Some(p) = &m.pi {
        obj.insert("pi".into(), pi(p));
    }
    if let Some(raw) = &m.raw_msg_id {
        obj.insert("raw_msg_id".into(), json!(raw));
    }
    if let Some(parent) = &m.parent_id {
        obj.insert("parent_id".into(), json!(parent.to_string()));
    }
    out
}

/// A participant as the spec's `Participant`.
pub fn participant(p: &Participant) -> Value {
    json!({
        "type": p.role.as_str(),
        "protocol": p.protocol,
        "address": p.address,
        "label": p.label,
        "contact_ids": p.contact_ids.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
    })
}

/// Where a message is read.
pub fn location(m: &Message) -> String {
    format!("/api/v2/messages/{}", m.id)
}

/// The message-level view of privacy the web client shows: how the message
/// travelled (`transport`), how its content was protected (`content`), and how
/// trustworthy its people are (`social`, the PI comportment). 0..100 each.
fn pi_message(m: &Message) -> Value {
    let feature = |k: &str| m.privacy_features.get(k).map(String::as_str);
    let mut transport = 0u8;
    if let Some(v) = feature("ingress_socket_version") {
        transport += if v.contains("1.3") || v.contains("1.2") {
            60
        } else {
            30
        };
    }
    if feature("transport_signed") == Some("true") {
        transport += 40;
    }
    let content = if feature("message_encrypted") == Some("true") {
        100
    } else if feature("message_signed") == Some("true") {
        50
    } else {
        0
    };
    json!({
        "transport": transport.min(100),
        "content": content,
        "social": m.pi.map(|p| p.comportment).unwrap_or(0),
    })
}
