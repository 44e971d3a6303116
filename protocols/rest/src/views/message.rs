//! `MessageV2`.

use std::collections::BTreeMap;

use caliopen_core::model::{Message, Participant, ParticipantRole, Pi, Settings};
use serde::Serialize;
use uuid::Uuid;

use super::date;

/// Characters of body shown in `excerpt`.
const EXCERPT_CHARS: usize = 200;

/// A message as clients get it: `body` is the HTML or the plain body as the user's
/// `message_display_format` asks (`body_is_plain` says which), List-ID
/// participants are left out (the spec's participant types do not include it).
///
/// Serialised straight from the stored message (no intermediate `Value`, no copy
/// of the bodies): lists of messages are the API's heaviest answers.
pub fn message<'a>(m: &'a Message, settings: &Settings) -> MessageView<'a> {
    let wants_html = settings.message_display_format != "plain_text";
    let (body, body_is_plain) = match (&m.body_html, &m.body_plain) {
        (Some(html), _) if wants_html => (html.as_str(), false),
        (_, Some(plain)) => (plain.as_str(), true),
        (Some(html), None) => (html.as_str(), false),
        (None, None) => ("", true),
    };
    let refs = &m.external_references;
    MessageView {
        message_id: m.id,
        user_id: m.user_id,
        discussion_id: &m.discussion_id,
        protocol: &m.protocol,
        subject: &m.subject,
        body,
        body_is_plain,
        excerpt: m.excerpt(EXCERPT_CHARS),
        date: date(&m.date),
        date_insert: date(&m.date_insert),
        date_sort: date(&m.date_sort),
        participants: m
            .participants
            .iter()
            .filter(|p| p.role != ParticipantRole::ListId)
            .map(participant)
            .collect(),
        attachments: m
            .attachments
            .iter()
            .map(|a| AttachmentView {
                content_type: &a.content_type,
                file_name: &a.file_name,
                is_inline: a.is_inline,
                size: a.size,
                url: format!("/api/v2/messages/{}/attachments/{}", m.id, a.index),
                // The id the web client's composer deletes and downloads a
                // draft's attachment by (`attachment.temp_id`); received ones
                // go by position, as in the original (`obj/attachment.go`).
                temp_id: m.is_draft.then(|| a.index.to_string()),
            })
            .collect(),
        external_references: References {
            message_id: refs.message_id.as_deref(),
            parent_id: refs.parent_id.as_deref(),
            ancestors_id: (!refs.ancestors_ids.is_empty()).then(|| refs.ancestors_ids.join(" ")),
            ancestors_ids: &refs.ancestors_ids,
        },
        importance_level: m.importance_level,
        is_answered: m.is_answered,
        is_draft: m.is_draft,
        is_unread: m.is_unread,
        is_received: m.is_received,
        privacy_features: &m.privacy_features,
        pi_message: pi_message(m),
        tags: &m.tags,
        user_identities: &m.user_identities,
        pi: m.pi.as_ref().map(PiView::from),
        raw_msg_id: m.raw_msg_id.as_deref(),
        parent_id: m.parent_id,
    }
}

impl MessageView<'_> {
    /// About how many bytes of JSON the message makes.
    pub fn size_hint(&self) -> usize {
        1024 + self.body.len() + self.body.len() / 8 + self.subject.len()
    }
}

/// The spec's `MessageV2`, borrowing from the stored message.
#[derive(Debug, Serialize)]
pub struct MessageView<'a> {
    message_id: Uuid,
    user_id: Uuid,
    discussion_id: &'a str,
    protocol: &'a str,
    subject: &'a str,
    body: &'a str,
    body_is_plain: bool,
    excerpt: String,
    date: String,
    date_insert: String,
    date_sort: String,
    participants: Vec<ParticipantView<'a>>,
    attachments: Vec<AttachmentView<'a>>,
    external_references: References<'a>,
    importance_level: i8,
    is_answered: bool,
    is_draft: bool,
    is_unread: bool,
    is_received: bool,
    privacy_features: &'a BTreeMap<String, String>,
    pi_message: PiMessage,
    tags: &'a [String],
    user_identities: &'a [Uuid],
    #[serde(skip_serializing_if = "Option::is_none")]
    pi: Option<PiView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw_msg_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<Uuid>,
}

#[derive(Debug, Serialize)]
struct AttachmentView<'a> {
    content_type: &'a str,
    file_name: &'a str,
    is_inline: bool,
    size: u64,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    temp_id: Option<String>,
}

#[derive(Debug, Serialize)]
struct References<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<&'a str>,
    /// The swagger's spelling: the ancestors' Message-IDs in one string.
    #[serde(skip_serializing_if = "Option::is_none")]
    ancestors_id: Option<String>,
    /// The original's (`obj/external_references.go`): an array.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    ancestors_ids: &'a [String],
}

/// The spec's `PIParameter`.
#[derive(Debug, Serialize)]
pub struct PiView {
    technic: u8,
    comportment: u8,
    context: u8,
    version: u32,
}

impl From<&Pi> for PiView {
    fn from(p: &Pi) -> Self {
        Self {
            technic: p.technic,
            comportment: p.comportment,
            context: p.context,
            version: p.version,
        }
    }
}

/// A participant as the spec's `Participant`.
#[derive(Debug, Serialize)]
pub struct ParticipantView<'a> {
    #[serde(rename = "type")]
    role: &'static str,
    protocol: &'a str,
    address: &'a str,
    label: &'a str,
    contact_ids: &'a [Uuid],
}

pub fn participant(p: &Participant) -> ParticipantView<'_> {
    ParticipantView {
        role: p.role.as_str(),
        protocol: &p.protocol,
        address: &p.address,
        label: &p.label,
        contact_ids: &p.contact_ids,
    }
}

/// Where a message is read.
pub fn location(m: &Message) -> String {
    format!("/api/v2/messages/{}", m.id)
}

/// The message-level view of privacy the web client shows, 0..100 each,
/// computed as the original did (`src/backend/main/go.main/pi/message.go`,
/// `ComputePIMessage`), without its defect: it looked the encryption method up
/// under a misspelt key and never counted it.
/// - `transport`: 20 when the transport was signed (DKIM), plus 25 − 5 per
///   external hop (up to 5 hops), plus 20 when the ingress cipher is known;
/// - `content`: 50 when the message is encrypted, plus 20 when it is signed;
/// - `social`: the share of participants that are known contacts (the user's
///   own card left out when several are), at most 80.
fn pi_message(m: &Message) -> PiMessage {
    let feature = |k: &str| m.privacy_features.get(k).map(String::as_str);
    // Booleans are `True`/`False` (the original's spelling); it tested the
    // first letter, which takes `true` too.
    let yes = |k: &str| feature(k).is_some_and(|v| v.starts_with(['t', 'T']));
    let mut transport = 0u32;
    if yes("transport_signed") {
        transport += 20;
    }
    if let Some(hops) = feature("nb_external_hops").and_then(|v| v.parse::<u32>().ok())
        && hops <= 5
    {
        transport += 25 - 5 * hops;
    }
    if feature("ingress_cipher").is_some_and(|v| !v.is_empty()) {
        transport += 20;
    }
    let mut content = 0u32;
    if feature("message_encryption_method").is_some_and(|v| !v.is_empty()) {
        content += 50;
    }
    if yes("message_signed") {
        content += 20;
    }
    let participants = m.participants.len();
    let mut known = m
        .participants
        .iter()
        .filter(|p| !p.contact_ids.is_empty())
        .count();
    if known > 1 {
        known -= 1;
    }
    let social = (100 * known)
        .checked_div(participants)
        .map_or(0, |share| share.min(80) as u32);
    PiMessage {
        transport,
        content,
        social,
    }
}

#[derive(Debug, Serialize)]
struct PiMessage {
    transport: u32,
    content: u32,
    social: u32,
}
