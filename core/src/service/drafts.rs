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
//!
//! As the original (`caliopen_main/message/objects/message.py`, `create_draft`
//! and `patch_draft`, non-strict mode): the client may choose the draft's id
//! (`message_id`, any UUID not used by another of the user's messages), and keys
//! a draft does not take are dropped rather than refused, in a creation and in
//! both halves of a patch. `privacy_features` are kept as the client gives them,
//! as strings (see [`draft_features`]).

use std::collections::BTreeMap;

use caliopen_storage_traits::search::{Document, IndexOp};
use caliopen_storage_traits::{Batch, Scope};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::drafts_compose::{DraftInput, compose};
use super::patch::{self, MergePatch, field};
use super::validate;
use crate::Core;
use crate::error::{CoreError, CoreResult};
use crate::index::documents::message_document;
use crate::index::outbox;
use crate::model::{Message, ParticipantRole};
use crate::tables::{COUNTERS, counter};

/// Most privacy features a draft carries.
const MAX_FEATURES: usize = 32;
/// Longest privacy feature name and value, in characters.
const MAX_FEATURE_NAME: usize = 64;
const MAX_FEATURE_VALUE: usize = 256;

/// A participant as clients write it (the API's `Participant`). Other keys
/// (`participant_id`, ...) are dropped, as the original did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DraftParticipant {
    /// `To`, `Cc`, `Bcc`, `Reply-To` (a `From` is replaced by the identity's).
    #[serde(rename = "type", deserialize_with = "null_as_default")]
    pub role: String,
    /// `email` (the default when empty).
    #[serde(deserialize_with = "null_as_default")]
    pub protocol: String,
    #[serde(deserialize_with = "null_as_default")]
    pub address: String,
    #[serde(deserialize_with = "null_as_default")]
    pub label: String,
    /// Accepted and ignored: core finds the user's contacts itself.
    #[serde(deserialize_with = "null_as_default")]
    pub contact_ids: Vec<String>,
}

/// What `POST /v1/messages` gives (the API's `NewMessageV2`). Ids are strings
/// so that a malformed one is refused with its field's name. Keys the original
/// dropped (`discussion_id`, `attachments`, `tags`, `date`, ...) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NewDraft {
    /// Exactly one of the user's identities.
    pub user_identities: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub participants: Vec<DraftParticipant>,
    #[serde(deserialize_with = "null_as_default")]
    pub subject: String,
    #[serde(deserialize_with = "null_as_default")]
    pub body: String,
    /// Whether `body` is plain text (the default) or HTML.
    pub body_is_plain: Option<bool>,
    /// The message answered, one of the user's.
    pub parent_id: Option<String>,
    /// The draft's id, chosen by the client (the web client makes a UUIDv4 and
    /// reads the draft back by it); a new one when absent.
    pub message_id: Option<String>,
    /// Kept as strings (see [`draft_features`]).
    #[serde(deserialize_with = "null_as_default")]
    pub privacy_features: Map<String, Value>,
}

/// `null` as the type's default: clients send `null` for "nothing".
fn null_as_default<'de, D, T>(de: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(de)?.unwrap_or_default())
}

/// A draft's privacy features as the original stored them: every value as a
/// string, the way Python's `str()` prints it (`True`/`False` for booleans),
/// empty ones (`null`, `""`) dropped. The web client sets
/// `message_encrypted: "True"` and `message_encryption_method: "pgp"` on drafts
/// it encrypted. Objects and arrays are refused, as are too many or too long
/// entries.
pub(crate) fn draft_features(given: &Map<String, Value>) -> CoreResult<BTreeMap<String, String>> {
    if given.len() > MAX_FEATURES {
        return Err(CoreError::invalid(
            "privacy_features",
            format!("at most {MAX_FEATURES} features"),
        ));
    }
    let mut out = BTreeMap::new();
    for (name, value) in given {
        let at = format!("privacy_features.{name}");
        validate::text("privacy_features", name, MAX_FEATURE_NAME)?;
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            Value::Bool(true) => "True".to_owned(),
            Value::Bool(false) => "False".to_owned(),
            Value::Number(n) => n.to_string(),
            Value::Array(_) | Value::Object(_) => {
                return Err(CoreError::invalid(
                    at,
                    "must be a string, number or boolean",
                ));
            }
        };
        validate::text(&at, &text, MAX_FEATURE_VALUE)?;
        if !text.is_empty() {
            out.insert(name.clone(), text);
        }
    }
    Ok(out)
}

/// The fields of a draft a patch may change, as clients see them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftFields {
    #[serde(deserialize_with = "null_as_default")]
    subject: String,
    #[serde(deserialize_with = "null_as_default")]
    body: String,
    body_is_plain: bool,
    #[serde(deserialize_with = "null_as_default")]
    participants: Vec<DraftParticipant>,
    user_identities: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    privacy_features: Map<String, Value>,
}

const DRAFT_FIELDS: &[patch::Field] = &[
    field("subject"),
    field("body"),
    field("body_is_plain"),
    field("participants"),
    field("user_identities"),
    field("privacy_features"),
];

/// Keys of a draft patch that are never a change: the draft's own ids (the
/// original checked them, then kept the stored ones).
const IGNORED_IN_PATCH: &[&str] = &["message_id", "parent_id"];

/// The patch a client means, as the original read it (see the module docs):
/// keys a draft does not take are dropped from the changes and from
/// `current_state`; a participant's `label` and `contact_ids` in
/// `current_state` are not compared (the client may hold fresher ones than the
/// draft, the original replaced them by the stored ones); a changed field
/// missing from `current_state` was empty for the client (it leaves falsy
/// values out, `web/services/api-patch`), which is checked as `null` (D5's
/// rule, applied here to drafts only).
fn draft_patch(patch: &MergePatch) -> MergePatch {
    let takes = |key: &String| {
        DRAFT_FIELDS.iter().any(|f| f.api == key) && !IGNORED_IN_PATCH.contains(&key.as_str())
    };
    let changes: Map<String, Value> = patch
        .changes()
        .iter()
        .filter(|(k, _)| takes(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut state: Map<String, Value> = patch
        .current_state()
        .iter()
        .filter(|(k, _)| changes.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(Value::Array(participants)) = state.get_mut("participants") {
        for p in participants.iter_mut().filter_map(Value::as_object_mut) {
            p.remove("label");
            p.remove("contact_ids");
        }
    }
    for key in changes.keys() {
        state.entry(key.clone()).or_insert(Value::Null);
    }
    MergePatch::new(changes, state)
}

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
            privacy_features: m
                .privacy_features
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        }
    }
}

impl Core {
    /// Creates a draft (see the module docs). A `message_id` the user already
    /// has is a [`CoreError::Conflict`].
    #[tracing::instrument(skip(self, draft))]
    pub async fn create_draft(&self, user_id: Uuid, draft: NewDraft) -> CoreResult<Message> {
        let id = match draft.message_id.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => Some(
                s.parse::<Uuid>()
                    .map_err(|_| CoreError::invalid("message_id", "is not a UUID"))?,
            ),
            _ => None,
        };
        let privacy_features = draft_features(&draft.privacy_features)?;
        let parent_id = match draft.parent_id.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(
                s.parse::<Uuid>()
                    .map_err(|_| CoreError::invalid("parent_id", "is not a message id"))?,
            ),
            None => None,
        };
        let _guard = self.lock_user(user_id).await;
        if let Some(id) = id {
            match self.message(user_id, id).await {
                Ok(_) => return Err(CoreError::Conflict("message_id not unique".into())),
                Err(CoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let parent = match parent_id {
            Some(id) => Some(self.message(user_id, id).await?),
            None => None,
        };
        let input = DraftInput {
            id,
            privacy_features,
            user_identities: draft.user_identities,
            participants: draft.participants,
            subject: draft.subject,
            body: draft.body,
            body_is_plain: draft.body_is_plain.unwrap_or(true),
        };
        let message = compose(self, user_id, input, parent.as_ref(), None).await?;
        let scope = Scope::User(user_id);
        let mut batch = Batch::new();
        crate::indexes::put_message(&mut batch, scope, None, &message);
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
    /// `participants`, `user_identities`, `privacy_features`), checked against
    /// `current_state` (see [`draft_patch`]). A patch that changes none of
    /// them leaves the draft as it is.
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
        let patch = draft_patch(patch);
        if patch.changes().is_empty() {
            return Ok(stored);
        }
        let fields: DraftFields = patch::apply(&DraftFields::of(&stored), &patch, DRAFT_FIELDS)?;
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
            id: None,
            privacy_features: draft_features(&fields.privacy_features)?,
            user_identities: fields.user_identities,
            participants: fields.participants,
            subject: fields.subject,
            body: fields.body,
            body_is_plain: fields.body_is_plain,
        };
        let message = compose(self, user_id, input, parent.as_ref(), Some(&stored)).await?;
        let mut batch = Batch::new();
        crate::indexes::put_message(
            &mut batch,
            Scope::User(user_id),
            Some(stored.date_sort),
            &message,
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
