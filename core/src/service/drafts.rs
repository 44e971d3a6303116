//! Drafts: `POST /v1/messages` and `PATCH /v1/messages/{id}`.
//!
//! A draft is written from one of the user's identities, which gives its `From`.
//! Participants and discussion are recomputed on every save, so a draft whose
//! recipients change moves to the discussion of its new participants. A reply
//! (`parent_id`) keeps its parent's participants, whatever the client sends: the
//! parent's sender (or its `Reply-To`) becomes `To`, its other recipients `Cc`,
//! the user's own addresses are left out, and a List-ID is kept so the reply
//! stays in the list's discussion; its external references get `In-Reply-To`
//! (`parent_id`) and `References` (`ancestors_ids`) from the parent.

use caliopen_storage_traits::search::{Document, IndexOp};
use caliopen_storage_traits::{Batch, Scope};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::drafts_compose::{DraftInput, compose};
use super::patch::{self, MergePatch, field};
use crate::Core;
use crate::codec::encode;
use crate::error::{CoreError, CoreResult};
use crate::index::documents::message_document;
use crate::index::outbox;
use crate::model::{Message, ParticipantRole};
use crate::tables::{COUNTERS, MESSAGES, counter};

/// A participant as clients write it (the API's `Participant`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DraftParticipant {
    /// `To`, `Cc`, `Bcc`, `Reply-To` (a `From` is replaced by the identity's).
    #[serde(rename = "type")]
    pub role: String,
    /// `email` (the default when empty).
    pub protocol: String,
    pub address: String,
    pub label: String,
    /// Accepted and ignored: core finds the user's contacts itself.
    pub contact_ids: Vec<String>,
}

/// What `POST /v1/messages` gives (the API's `NewMessageV2`). Ids are strings
/// so that a malformed one is refused with its field's name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewDraft {
    /// Exactly one of the user's identities.
    pub user_identities: Vec<String>,
    pub participants: Vec<DraftParticipant>,
    pub subject: String,
    pub body: String,
    /// Whether `body` is plain text (the default) or HTML.
    pub body_is_plain: Option<bool>,
    /// The message answered, one of the user's.
    pub parent_id: Option<String>,
    /// Ignored: the discussion follows from the participants.
    pub discussion_id: Option<String>,
    /// Ignored: core gives every draft its Message-ID.
    pub message_id: Option<String>,
    /// Ignored: attachments are uploaded to the draft once created.
    pub attachments: Vec<serde_json::Value>,
    /// Ignored: privacy features are computed.
    pub privacy_features: serde_json::Map<String, serde_json::Value>,
}

/// The fields of a draft a patch may change, as clients see them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftFields {
    subject: String,
    body: String,
    body_is_plain: bool,
    participants: Vec<DraftParticipant>,
    user_identities: Vec<String>,
}

const DRAFT_FIELDS: &[patch::Field] = &[
    field("subject"),
    field("body"),
    field("body_is_plain"),
    field("participants"),
    field("user_identities"),
];

impl DraftFields {
    fn of(m: &Message) -> Self {
        let (body, body_is_plain) = match (&m.body_plain, &m.body_html) {
            (_, Some(html)) => (html.clone(), false),
            (Some(plain), None) => (plain.clone(), true),
            (None, None) => (String::new(), true),
        };
        Self {
            subject: m.subject.clone(),
            body,
            body_is_plain,
            participants: m
                .participants
                .iter()
                .filter(|p| p.role != ParticipantRole::ListId)
                .map(|p| DraftParticipant {
                    role: p.role.as_str().to_owned(),
                    protocol: p.protocol.clone(),
                    address: p.address.clone(),
                    label: p.label.clone(),
                    contact_ids: p.contact_ids.iter().map(Uuid::to_string).collect(),
                })
                .collect(),
            user_identities: m.user_identities.iter().map(Uuid::to_string).collect(),
        }
    }
}

impl Core {
    /// Creates a draft (see the module docs).
    #[tracing::instrument(skip(self, draft))]
    pub async fn create_draft(&self, user_id: Uuid, draft: NewDraft) -> CoreResult<Message> {
        let parent_id = match draft.parent_id.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(
                s.parse::<Uuid>()
                    .map_err(|_| CoreError::invalid("parent_id", "is not a message id"))?,
            ),
            None => None,
        };
        let _guard = self.lock_user(user_id).await;
        let parent = match parent_id {
            Some(id) => Some(self.message(user_id, id).await?),
            None => None,
        };
        let input = DraftInput {
            user_identities: draft.user_identities,
            participants: draft.participants,
            subject: draft.subject,
            body: draft.body,
            body_is_plain: draft.body_is_plain.unwrap_or(true),
        };
        let message = compose(self, user_id, input, parent.as_ref(), None).await?;
        let scope = Scope::User(user_id);
        let mut batch = Batch::new();
        batch.put(
            MESSAGES,
            scope,
            message.id.as_bytes().to_vec(),
            encode(&message),
        );
        self.discussion_batch(&mut batch, &message, true).await?;
        batch.add(COUNTERS, scope, counter::MESSAGES, 1);
        outbox(
            &mut batch,
            &IndexOp::Upsert(Document::Message(message_document(&message))),
        );
        self.stores().records.write(batch).await?;
        self.wake_indexer();
        Ok(message)
    }

    /// Changes a draft by merge patch (`subject`, `body`, `body_is_plain`,
    /// `participants`, `user_identities`), checked against `current_state`.
    #[tracing::instrument(skip(self, patch))]
    pub async fn patch_draft(
        &self,
        user_id: Uuid,
        message_id: Uuid,
        patch: &MergePatch,
    ) -> CoreResult<Message> {
        let _guard = self.lock_user(user_id).await;
        let stored = self.message(user_id, message_id).await?;
        if !stored.is_draft {
            return Err(CoreError::Forbidden("only drafts can be changed".into()));
        }
        let fields: DraftFields = patch::apply(&DraftFields::of(&stored), patch, DRAFT_FIELDS)?;
        let parent = match stored.parent_id {
            Some(id) => match self.message(user_id, id).await {
                Ok(p) => Some(p),
                // The parent was deleted since: the draft keeps what it has.
                Err(CoreError::NotFound { .. }) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        let input = DraftInput {
            user_identities: fields.user_identities,
            participants: fields.participants,
            subject: fields.subject,
            body: fields.body,
            body_is_plain: fields.body_is_plain,
        };
        let message = compose(self, user_id, input, parent.as_ref(), Some(&stored)).await?;
        let mut batch = Batch::new();
        batch.put(
            MESSAGES,
            Scope::User(user_id),
            message.id.as_bytes().to_vec(),
            encode(&message),
        );
        if message.discussion_id == stored.discussion_id {
            self.discussion_batch(&mut batch, &message, false).await?;
        } else {
            self.detach_batch(&mut batch, &stored).await?;
            self.discussion_batch(&mut batch, &message, true).await?;
        }
        outbox(
            &mut batch,
            &IndexOp::Upsert(Document::Message(message_document(&message))),
        );
        self.stores().records.write(batch).await?;
        self.wake_indexer();
        Ok(message)
    }
}
