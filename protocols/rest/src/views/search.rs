//! The answer of `GET /v2/search` and `ParticipantSuggest`.
//!
//! Message hits are under `messages_hits`, the key the original server sent and
//! its web client reads (the spec's text says `message_hits`; its schema allows
//! either).

use std::collections::BTreeMap;

use caliopen_core::model::Settings;
use caliopen_core::model::participant::{ParticipantSuggestion, SuggestionSource};
use caliopen_core::service::search::{Hit, SearchOutcome};
use serde::Serialize;
use serde_json::{Value, json};

use super::message::MessageView;
use super::{contact, message};

/// The whole answer, serialised from borrowed views like the message list (message
/// hits carry whole bodies; no `serde_json::Value` is built for them).
#[derive(Debug, Serialize)]
pub struct OutcomeView<'a> {
    total: u64,
    messages_hits: HitsView<'a, MessageView<'a>>,
    contact_hits: ContactHitsView<'a>,
}

#[derive(Debug, Serialize)]
struct HitsView<'a, D> {
    total: u64,
    messages: Vec<HitView<'a, D>>,
}

#[derive(Debug, Serialize)]
struct ContactHitsView<'a> {
    total: u64,
    contacts: Vec<HitView<'a, Value>>,
}

#[derive(Debug, Serialize)]
struct HitView<'a, D> {
    id: String,
    score: f32,
    highlights: &'a BTreeMap<String, Vec<String>>,
    document: D,
}

impl OutcomeView<'_> {
    /// About the size of the JSON text, to write it into one buffer.
    pub fn size_hint(&self) -> usize {
        let hit = |h: &BTreeMap<String, Vec<String>>| {
            96 + h.values().flatten().map(|f| f.len() + 4).sum::<usize>()
        };
        let messages: usize = self
            .messages_hits
            .messages
            .iter()
            .map(|h| hit(h.highlights) + h.document.size_hint())
            .sum();
        let contacts: usize = self
            .contact_hits
            .contacts
            .iter()
            .map(|h| hit(h.highlights) + 512)
            .sum();
        128 + messages + contacts
    }
}

pub fn outcome<'a>(o: &'a SearchOutcome, settings: &Settings) -> OutcomeView<'a> {
    OutcomeView {
        total: o.total,
        messages_hits: HitsView {
            total: o.messages.total,
            messages: o
                .messages
                .hits
                .iter()
                .map(|h| hit(h, message::message(&h.document, settings)))
                .collect(),
        },
        contact_hits: ContactHitsView {
            total: o.contacts.total,
            contacts: o
                .contacts
                .hits
                .iter()
                .map(|h| hit(h, contact::contact(&h.document)))
                .collect(),
        },
    }
}

fn hit<T, D>(h: &Hit<T>, document: D) -> HitView<'_, D> {
    HitView {
        id: h.id.to_string(),
        score: h.score,
        highlights: &h.highlights,
        document,
    }
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
