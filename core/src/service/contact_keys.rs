//! Public keys of a contact (`/v2/contacts/{id}/publickeys`).
//!
//! Keys are kept on the contact record. Core parses a key only enough to name
//! it: PEM (or OpenPGP armor) or base64 text is decoded, and the fingerprint is
//! the SHA-256 of the decoded bytes (hex). Whether the bytes make a usable key is
//! for the code that encrypts or verifies with it; `size` is not computed (0).

use base64::Engine as _;
use caliopen_storage_traits::Batch;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::patch::{self, MergePatch, field};
use super::validate;
use crate::error::{CoreError, CoreResult};
use crate::model::Contact;
use crate::model::contact::PublicKey;
use crate::{Core, now};

/// Longest key text accepted.
const MAX_KEY_CHARS: usize = 64 * 1024;
/// Most keys on one contact.
const MAX_KEYS: usize = 50;

/// What `POST /v2/contacts/{id}/publickeys` gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPublicKey {
    pub label: String,
    /// PEM, OpenPGP armor, or base64 of either or of DER / binary OpenPGP.
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
        let parsed = parse_key(&new.key)?;
        let _guard = self.lock_user(user_id).await;
        let stored = self.contact(user_id, contact_id).await?;
        let fingerprint = hex::encode(Sha256::digest(&parsed.bytes));
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
            key: new.key.trim().to_owned(),
            fingerprint,
            kind: parsed.kind.to_owned(),
            emails: stored.emails.iter().map(|e| e.address.clone()).collect(),
            size: 0,
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

/// A key's decoded bytes and what kind of key the text said it is.
#[derive(Debug, PartialEq, Eq)]
struct ParsedKey {
    bytes: Vec<u8>,
    /// `pgp` or `x509`.
    kind: &'static str,
}

/// Decodes a key given as PEM / armor, or as base64 of PEM, DER or binary OpenPGP.
fn parse_key(text: &str) -> CoreResult<ParsedKey> {
    let text = text.trim();
    if text.is_empty() {
        return Err(CoreError::invalid("key", "is required"));
    }
    if text.chars().count() > MAX_KEY_CHARS {
        return Err(CoreError::invalid(
            "key",
            format!("is longer than {MAX_KEY_CHARS} characters"),
        ));
    }
    if text.starts_with("-----BEGIN ") {
        return parse_pem(text);
    }
    let bytes = decode_base64(text)
        .ok_or_else(|| CoreError::invalid("key", "is neither PEM nor base64"))?;
    if bytes.starts_with(b"-----BEGIN ") {
        let inner = std::str::from_utf8(&bytes)
            .map_err(|_| CoreError::invalid("key", "is not valid PEM text"))?;
        return parse_pem(inner.trim());
    }
    let kind = match bytes.first() {
        // A DER SEQUENCE (SubjectPublicKeyInfo, certificate).
        Some(0x30) => "x509",
        // An OpenPGP packet header always has its high bit set.
        Some(b) if b & 0x80 != 0 => "pgp",
        _ => {
            return Err(CoreError::invalid(
                "key",
                "is neither a DER nor an OpenPGP key",
            ));
        }
    };
    Ok(ParsedKey { bytes, kind })
}

/// PEM (RFC 7468) or OpenPGP armor (RFC 4880): header lines and the armor
/// checksum are skipped, the rest is base64.
fn parse_pem(text: &str) -> CoreResult<ParsedKey> {
    let bad = |reason: &str| CoreError::invalid("key", reason.to_owned());
    let mut lines = text.lines().map(str::trim);
    let first = lines.next().unwrap_or_default();
    let label = first
        .strip_prefix("-----BEGIN ")
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or_else(|| bad("has a malformed BEGIN line"))?;
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    let mut ended = false;
    for line in lines {
        if line == end {
            ended = true;
            break;
        }
        let header = line.contains(':');
        let checksum = line.starts_with('=') && line.len() == 5;
        if !line.is_empty() && !header && !checksum {
            body.push_str(line);
        }
    }
    if !ended {
        return Err(bad("has no END line matching its BEGIN line"));
    }
    let bytes = decode_base64(&body).ok_or_else(|| bad("has a body that is not base64"))?;
    if bytes.is_empty() {
        return Err(bad("is empty"));
    }
    let kind = if label.contains("PGP") { "pgp" } else { "x509" };
    Ok(ParsedKey { bytes, kind })
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
    ];
    engines
        .iter()
        .find_map(|e| e.decode(compact.as_bytes()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PGP: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nVersion: test\n\nmQENBFxyz0Q=\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----";

    #[test]
    fn pem_armor_and_base64_forms_give_the_same_bytes() {
        let armored = parse_key(PGP).unwrap();
        assert_eq!(armored.kind, "pgp");
        let wrapped = base64::engine::general_purpose::STANDARD.encode(PGP);
        assert_eq!(parse_key(&wrapped).unwrap(), armored);
        let der = base64::engine::general_purpose::STANDARD.encode([0x30, 0x82, 0x01, 0x0a]);
        assert_eq!(parse_key(&der).unwrap().kind, "x509");
    }

    #[test]
    fn malformed_keys_are_refused() {
        for bad in [
            "",
            "not a key!",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n",
            "AAAA",
        ] {
            assert!(
                matches!(parse_key(bad), Err(CoreError::Invalid { field, .. }) if field == "key"),
                "{bad}"
            );
        }
    }
}
