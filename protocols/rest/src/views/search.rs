//! The answer of `GET /v2/search` and `ParticipantSuggest`.
//!
//! Message hits are under `messages_hits`, the key the original server sent and
//! its web client reads (the spec's text says `message_hits`; its schema allows
//! either).

use caliopen_core::model::Settings;
use caliopen_core::model::participant::{ParticipantSuggestion, SuggestionSource};
use caliopen_core::service::search::{Hit, SearchOutcome};
use serde_json::{Value, json};

use super::{contact, message};

pub fn outcome(o: &SearchOutcome, settings: &Settings) -> Value {
    json!({
        "total": o.total,
        "messages_hits": {
            "total": o.messages.total,
            "messages": o.messages.hits.iter().map(|h| hit(h, |m| json!(message::message(m, settings)))).collect::<Vec<_>>(),
        },
        "contact_hits": {
            "total": o.contacts.total,
            "contacts": o.contacts.hits.iter().map(|h| hit(h, contact::contact)).collect::<Vec<_>>(),
        },
    })
}

fn hit<T>(h: &Hit<T>, document: impl Fn(&T) -> Value) -> Value {
    json!({
        "id": h.id.to_string(),
        "score": h.score,
        "highlights": h.highlights,
        "document": document(&h.document),
    })
}

pub fn suggestion(s: &ParticipantSuggestion) -> Value {
    let mut out = json!({
        "address": s.address,
        "label": s.label,
        "protocol": s.protocol,
        "source": match s.source {
            SuggestionSource::Contact => "contact",
            SuggestionSource::Participant => "participant",
        },
    });
    if let (Some(id), Some(obj)) = (s.contact_id, out.as_object_mut()) {
        obj.insert("contact_id".into(), json!(id.to_string()));
    }
    out
}
