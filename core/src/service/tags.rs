//! Tags of a user: the system tags every user has, and the user's own.
//!
//! A user tag's `name` (its id in the API and on messages and contacts) is
//! derived from its label when it is created and never changes; the label and
//! the importance level may be changed later. System tags cannot be deleted nor
//! relabelled; their importance level may be changed.

use caliopen_storage_traits::search::{Document, IndexOp};
use caliopen_storage_traits::{Batch, Scan, Scope};
use uuid::Uuid;

use super::patch::{self, MergePatch, field};
use super::validate;
use crate::codec::{decode, encode};
use crate::error::{CoreError, CoreResult};
use crate::index::documents::{contact_document, message_document};
use crate::index::outbox;
use crate::model::{Contact, Message, Tag, TagKind};
use crate::tables::{CONTACTS, MESSAGES, TAGS};
use crate::{Core, now};

/// Longest tag label, in characters.
const MAX_LABEL: usize = 64;

/// What `POST /v2/tags` gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewTag {
    pub label: String,
    /// −10..10, 0 when not given.
    pub importance_level: Option<i64>,
}

const TAG_FIELDS: &[patch::Field] = &[field("label"), field("importance_level")];

impl Core {
    /// The user's tags, by name.
    pub async fn tags(&self, user_id: Uuid) -> CoreResult<Vec<Tag>> {
        let page = self
            .stores()
            .records
            .scan(TAGS, Scope::User(user_id), Scan::all(10_000))
            .await?;
        page.items
            .iter()
            .map(|(_, v)| decode(TAGS.name, v))
            .collect()
    }

    /// One of the user's tags by name.
    pub async fn tag(&self, user_id: Uuid, name: &str) -> CoreResult<Tag> {
        if !crate::limits::may_exist(name, crate::limits::MAX_TAG_NAME_BYTES) {
            return Err(CoreError::not_found("tag", "(too long)"));
        }
        let bytes = self
            .stores()
            .records
            .get(TAGS, Scope::User(user_id), name.as_bytes())
            .await?
            .ok_or_else(|| CoreError::not_found("tag", name))?;
        decode(TAGS.name, &bytes)
    }

    /// Creates a user tag; its name is derived from the label and must be free.
    #[tracing::instrument(skip(self))]
    pub async fn create_tag(&self, user_id: Uuid, new: NewTag) -> CoreResult<Tag> {
        let label = tag_label(&new.label)?;
        let name = tag_name(&label)?;
        let importance_level = importance(new.importance_level.unwrap_or(0))?;
        let _guard = self.lock_user(user_id).await;
        self.user(user_id).await?;
        match self.tag(user_id, &name).await {
            Ok(_) => return Err(CoreError::Conflict(format!("a tag named `{name}` exists"))),
            Err(CoreError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        let tag = Tag {
            name,
            label,
            kind: TagKind::User,
            importance_level,
            date_insert: now(),
        };
        self.write_tag(user_id, &tag).await?;
        Ok(tag)
    }

    /// Changes a tag's `label` and `importance_level` by merge patch, checked
    /// against `current_state`. A system tag keeps its label.
    #[tracing::instrument(skip(self, patch))]
    pub async fn patch_tag(
        &self,
        user_id: Uuid,
        name: &str,
        patch: &MergePatch,
    ) -> CoreResult<Tag> {
        let _guard = self.lock_user(user_id).await;
        let stored = self.tag(user_id, name).await?;
        if stored.kind == TagKind::System && patch.changes_field("label") {
            return Err(CoreError::Forbidden(format!(
                "system tag `{name}` cannot be relabelled"
            )));
        }
        let mut tag: Tag = patch::apply(&stored, patch, TAG_FIELDS)?;
        tag.label = tag_label(&tag.label)?;
        tag.importance_level = importance(i64::from(tag.importance_level))?;
        self.write_tag(user_id, &tag).await?;
        Ok(tag)
    }

    /// Deletes a user tag and takes it off every message and contact carrying
    /// it, in one batch (with their search outbox entries). System tags are
    /// refused with [`CoreError::Forbidden`].
    #[tracing::instrument(skip(self))]
    pub async fn delete_tag(&self, user_id: Uuid, name: &str) -> CoreResult<()> {
        let _guard = self.lock_user(user_id).await;
        let tag = self.tag(user_id, name).await?;
        if tag.kind == TagKind::System {
            return Err(CoreError::Forbidden(format!(
                "system tag `{name}` cannot be deleted"
            )));
        }
        let scope = Scope::User(user_id);
        let mut batch = Batch::new();
        batch.delete(TAGS, scope, name.as_bytes().to_vec());
        for mut m in self.scan_all::<Message>(user_id, MESSAGES).await? {
            if m.tags.iter().any(|t| t == name) {
                m.tags.retain(|t| t != name);
                crate::indexes::put_message(&mut batch, scope, Some(m.date_sort), &m);
                outbox(
                    &mut batch,
                    &IndexOp::Upsert(Document::Message(message_document(&m))),
                );
            }
        }
        for mut c in self.scan_all::<Contact>(user_id, CONTACTS).await? {
            if c.tags.iter().any(|t| t == name) {
                c.tags.retain(|t| t != name);
                batch.put(CONTACTS, scope, c.id.as_bytes().to_vec(), encode(&c));
                outbox(
                    &mut batch,
                    &IndexOp::Upsert(Document::Contact(contact_document(&c))),
                );
            }
        }
        if batch.len() > Batch::MAX_OPS {
            return Err(CoreError::Forbidden(format!(
                "tag `{name}` is on too many messages and contacts to be deleted at once; untag some first"
            )));
        }
        self.stores().records.write(batch).await?;
        self.wake_indexer();
        Ok(())
    }

    /// Checks tag names against the user's tags: each must exist. The answer is
    /// sorted and without duplicates; `field` names the list in errors.
    pub(crate) async fn known_tags(
        &self,
        user_id: Uuid,
        field: &str,
        names: &[String],
    ) -> CoreResult<Vec<String>> {
        let tags = self.tags(user_id).await?;
        let mut out = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            if !tags.iter().any(|t| &t.name == name) {
                return Err(CoreError::invalid(
                    format!("{field}[{i}]"),
                    format!("there is no tag named `{name}`"),
                ));
            }
            out.push(name.clone());
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Every record of a user table, decoded.
    pub(crate) async fn scan_all<T: serde::de::DeserializeOwned>(
        &self,
        user_id: Uuid,
        table: caliopen_storage_traits::Table,
    ) -> CoreResult<Vec<T>> {
        self.scan_decoded(table, Scope::User(user_id)).await
    }

    async fn write_tag(&self, user_id: Uuid, tag: &Tag) -> CoreResult<()> {
        let mut batch = Batch::new();
        batch.put(
            TAGS,
            Scope::User(user_id),
            tag.name.as_bytes().to_vec(),
            encode(tag),
        );
        Ok(self.stores().records.write(batch).await?)
    }
}

/// A tag label: trimmed, 1 to 64 characters.
fn tag_label(label: &str) -> CoreResult<String> {
    let label = label.trim();
    if label.is_empty() {
        return Err(CoreError::invalid("label", "is required"));
    }
    validate::text("label", label, MAX_LABEL)?;
    Ok(label.to_owned())
}

/// The name of a tag labelled `label`: lower case, letters and digits kept,
/// runs of anything else become one `-`.
pub fn tag_name(label: &str) -> CoreResult<String> {
    let mut name = String::with_capacity(label.len());
    for c in label.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_end_matches('-').to_owned();
    if name.is_empty() {
        return Err(CoreError::invalid(
            "label",
            "must contain a letter or a digit",
        ));
    }
    Ok(name)
}

fn importance(level: i64) -> CoreResult<i8> {
    if !(-10..=10).contains(&level) {
        return Err(CoreError::invalid(
            "importance_level",
            "must be between -10 and 10",
        ));
    }
    Ok(level as i8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_labels() {
        assert_eq!(tag_name("Work").unwrap(), "work");
        assert_eq!(tag_name("  Très  important! ").unwrap(), "très-important");
        assert_eq!(tag_name("a/b_c").unwrap(), "a-b-c");
        assert!(tag_name("!!!").is_err());
    }
}
