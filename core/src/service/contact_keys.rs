//! Public keys of a contact (`/v2/contacts/{id}/publickeys`).
//!
//! Keys are kept on the contact record, as the original stored them
//! (`fac/keys.go` `CreatePGPPubKey`, `obj/crypto_keys.go`): the client sends
//! base64 of an OpenPGP public key; core reads it with [`crate::openpgp`] and
//! keeps it as ASCII armor, with its OpenPGP fingerprint (upper-case hex), its
//! size in bits and the contact's addresses. A key must name one of the
//! contact's addresses in a user id. The same key twice is a conflict.

use base64::Engine as _;
use caliopen_storage_traits::Batch;
use uuid::Uuid;

use super::patch::{self, MergePatch, field};
use super::validate;
use crate::error::{CoreError, CoreResult};
use crate::model::Contact;
use crate::model::contact::PublicKey;
use crate::openpgp::{self, PublicKeyInfo};
use crate::{Core, now};

/// Longest key text accepted: base64 of the longest key read.
const MAX_KEY_CHARS: usize = openpgp::MAX_KEY_BYTES.div_ceil(3) * 4;
/// Most keys on one contact.
const MAX_KEYS: usize = 50;

/// What `POST /v2/contacts/{id}/publickeys` gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPublicKey {
    pub label: String,
    /// Base64 of an armored (or binary) OpenPGP public key.
    pub key: String,
}

const KEY_FIELDS: &[patch::Field] = &[field("label")];

impl Core {
    /// Adds a public key to one of the user's contacts; the same key twice is a conflict.
    #[tracing::instrument(skip(self, new))]
    pub async fn add_public_key(
        &self,
        user_id: Uuid,
        contact_id: Uuid,
        new: NewPublicKey,
    ) -> CoreResult<PublicKey> {
        let label = key_label(&new.label)?;
        let parsed = read_key(&new.key)?;
        let _guard = self.lock_user(user_id).await;
        let stored = self.contact(user_id, contact_id).await?;
        let emails = key_emails(&stored, &parsed)?;
        let fingerprint = parsed.fingerprint.clone();
        if stored
            .public_keys
            .iter()
            .any(|k| k.fingerprint == fingerprint)
        {
            return Err(CoreError::Conflict(format!(
                "the contact already has key {fingerprint}"
            )));
        }
        if stored.public_keys.len() >= MAX_KEYS {
            return Err(CoreError::invalid(
                "key",
                format!("a contact holds at most {MAX_KEYS} keys"),
            ));
        }
        let date = now();
        let key = PublicKey {
            key_id: Uuid::now_v7(),
            label,
            key: parsed.armored,
            fingerprint,
            kind: "pgp".to_owned(),
            emails,
            size: parsed.bits,
            expire_date: None,
            date_insert: date,
            date_update: date,
        };
        let mut contact = stored.clone();
        contact.public_keys.push(key.clone());
        self.write_contact(&contact, &stored).await?;
        Ok(key)
    }

    /// The public keys of one of the user's contacts.
    pub async fn public_keys(&self, user_id: Uuid, contact_id: Uuid) -> CoreResult<Vec<PublicKey>> {
        Ok(self.contact(user_id, contact_id).await?.public_keys)
    }

    /// One public key of one of the user's contacts.
    pub async fn public_key(
        &self,
        user_id: Uuid,
        contact_id: Uuid,
        key_id: Uuid,
    ) -> CoreResult<PublicKey> {
        let contact = self.contact(user_id, contact_id).await?;
        find_key(&contact, key_id).cloned()
    }

    /// Changes a public key's `label` (the only editable field) by merge patch.
    #[tracing::instrument(skip(self, patch))]
    pub async fn patch_public_key(
        &self,
        user_id: Uuid,
        contact_id: Uuid,
        key_id: Uuid,
        patch: &MergePatch,
    ) -> CoreResult<PublicKey> {
        let _guard = self.lock_user(user_id).await;
        let stored = self.contact(user_id, contact_id).await?;
        if patch.changes_nothing() {
            return find_key(&stored, key_id).cloned();
        }
        let mut key: PublicKey = patch::apply(find_key(&stored, key_id)?, patch, KEY_FIELDS)?;
        key.label = key_label(&key.label)?;
        key.date_update = now();
        let mut contact = stored.clone();
        for k in &mut contact.public_keys {
            if k.key_id == key_id {
                *k = key.clone();
            }
        }
        self.write_contact(&contact, &stored).await?;
        Ok(key)
    }

    /// Removes a public key from one of the user's contacts.
    #[tracing::instrument(skip(self))]
    pub async fn delete_public_key(
        &self,
        user_id: Uuid,
        contact_id: Uuid,
        key_id: Uuid,
    ) -> CoreResult<()> {
        let _guard = self.lock_user(user_id).await;
        let stored = self.contact(user_id, contact_id).await?;
        find_key(&stored, key_id)?;
        let mut contact = stored.clone();
        contact.public_keys.retain(|k| k.key_id != key_id);
        self.write_contact(&contact, &stored).await
    }

    async fn write_contact(&self, contact: &Contact, previous: &Contact) -> CoreResult<()> {
        let mut contact = contact.clone();
        contact.date_update = now();
        let mut batch = Batch::new();
        self.contact_batch(&mut batch, &contact, Some(previous));
        self.stores().records.write(batch).await?;
        self.wake_indexer();
        Ok(())
    }
}

fn find_key(contact: &Contact, key_id: Uuid) -> CoreResult<&PublicKey> {
    contact
        .public_keys
        .iter()
        .find(|k| k.key_id == key_id)
        .ok_or_else(|| CoreError::not_found("public key", key_id))
}

fn key_label(label: &str) -> CoreResult<String> {
    let label = label.trim();
    if label.is_empty() {
        return Err(CoreError::invalid("label", "is required"));
    }
    validate::text("label", label, 256)?;
    Ok(label.to_owned())
}

/// The key of a `NewPublicKey`: base64 of an armored (or binary) OpenPGP
/// public key, as the web client sends it (`web/store/modules/public-key.js`;
/// the original decoded it in `go/ops/contacts/keys.go`, not base64 → 422).
fn read_key(text: &str) -> CoreResult<PublicKeyInfo> {
    let bad = |reason: String| CoreError::invalid("key", reason);
    let text = text.trim();
    if text.is_empty() {
        return Err(bad("is required".into()));
    }
    if text.len() > MAX_KEY_CHARS {
        return Err(bad(format!("is longer than {MAX_KEY_CHARS} characters")));
    }
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| bad("is not base64".into()))?;
    openpgp::read_public_key(&bytes).map_err(|e| bad(e.to_string()))
}

/// The contact's addresses that a user id of the key names (the original
/// refused a key naming none, `obj/crypto_keys.go` `UnmarshalPGPEntity`).
fn key_emails(contact: &Contact, key: &PublicKeyInfo) -> CoreResult<Vec<String>> {
    let named: Vec<String> = key
        .user_ids
        .iter()
        .filter_map(|u| openpgp::user_id_email(u))
        .collect();
    if !contact
        .emails
        .iter()
        .any(|e| named.contains(&e.address.trim().to_lowercase()))
    {
        return Err(CoreError::invalid(
            "key",
            format!("no matching identity found for contact {}", contact.id),
        ));
    }
    Ok(contact.emails.iter().map(|e| e.address.clone()).collect())
}
