//! Contacts: create, list, read, update by merge patch, delete, the identities
//! a contact is reachable at, and lookup by address. Public keys are in
//! [`super::contact_keys`], tags in [`super::tagging`].

use caliopen_storage_traits::search::{DocKind, Document, IndexOp};
use caliopen_storage_traits::{Batch, Scan, Scope};
use uuid::Uuid;

use super::patch::{self, MergePatch, field};
use crate::Core;
use crate::codec::{Key, decode, encode, key_uuid};
use crate::error::{CoreError, CoreResult};
use crate::index::documents::contact_document;
use crate::index::outbox;
use crate::model::Contact;
use crate::model::contact::ContactIdentity;
use crate::tables::{CONTACT_ADDRESSES, CONTACTS};

/// Which contacts a list request wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactFilter {
    /// Inclusive range of the contact's aggregated PI (0..100).
    pub pi: (u8, u8),
    pub limit: usize,
    pub offset: usize,
}

impl Default for ContactFilter {
    fn default() -> Self {
        Self {
            pi: (0, 100),
            limit: 20,
            offset: 0,
        }
    }
}

/// What `PATCH /v2/contacts/{id}` may change. Public keys have their own
/// operations; ids, dates, PI and privacy features are computed.
const CONTACT_FIELDS: &[patch::Field] = &[
    field("title"),
    field("given_name"),
    field("family_name"),
    field("additional_name"),
    field("name_prefix"),
    field("name_suffix"),
    field("avatar"),
    field("emails"),
    field("phones"),
    field("addresses"),
    field("ims"),
    field("organizations"),
    field("identities"),
    field("groups"),
    field("tags"),
    field("infos"),
];

impl Core {
    /// Adds to `batch` everything that stores `contact`, replacing `previous`.
    pub(crate) fn contact_batch(
        &self,
        batch: &mut Batch,
        contact: &Contact,
        previous: Option<&Contact>,
    ) {
        let scope = Scope::User(contact.user_id);
        if let Some(previous) = previous {
            for e in &previous.emails {
                batch.delete(
                    CONTACT_ADDRESSES,
                    scope,
                    address_key(&e.address, previous.id),
                );
            }
        }
        for e in &contact.emails {
            batch.put(
                CONTACT_ADDRESSES,
                scope,
                address_key(&e.address, contact.id),
                Vec::new(),
            );
        }
        batch.put(
            CONTACTS,
            scope,
            contact.id.as_bytes().to_vec(),
            encode(contact),
        );
        outbox(
            batch,
            &IndexOp::Upsert(Document::Contact(contact_document(contact))),
        );
    }

    /// Creates a contact for a user: ids assigned, addresses validated and
    /// lower-cased, the display name computed when not given.
    #[tracing::instrument(skip(self, contact), fields(user = %user_id))]
    pub async fn create_contact(&self, user_id: Uuid, mut contact: Contact) -> CoreResult<Contact> {
        let _guard = self.lock_user(user_id).await;
        self.user(user_id).await?;
        let date = crate::now();
        contact.id = Uuid::now_v7();
        contact.user_id = user_id;
        contact.date_insert = date;
        contact.date_update = date;
        normalise_contact(&mut contact)?;
        self.check_uris_free(&contact, None).await?;
        if !contact.tags.is_empty() {
            contact.tags = self.known_tags(user_id, "tags", &contact.tags).await?;
        }
        let mut batch = Batch::new();
        self.contact_batch(&mut batch, &contact, None);
        self.stores().records.write(batch).await?;
        self.wake_indexer();
        Ok(contact)
    }

    /// The user's contacts sorted by title (case-insensitive), a page of them
    /// and how many match the filter.
    pub async fn list_contacts(
        &self,
        user_id: Uuid,
        filter: &ContactFilter,
    ) -> CoreResult<(u64, Vec<Contact>)> {
        let mut all: Vec<Contact> = self.scan_all(user_id, CONTACTS).await?;
        all.retain(|c| (filter.pi.0..=filter.pi.1).contains(&c.pi.aggregate()));
        let mut keyed: Vec<(String, Contact)> = all
            .into_iter()
            .map(|c| (c.title.to_lowercase(), c))
            .collect();
        keyed.sort_by(|(a, x), (b, y)| a.cmp(b).then(x.id.cmp(&y.id)));
        let total = keyed.len() as u64;
        let page = keyed
            .into_iter()
            .skip(filter.offset)
            .take(filter.limit)
            .map(|(_, c)| c)
            .collect();
        Ok((total, page))
    }

    /// Changes one of the user's contacts by merge patch, checked against
    /// `current_state`; the outcome is validated as a new contact would be.
    #[tracing::instrument(skip(self, patch))]
    pub async fn update_contact(
        &self,
        user_id: Uuid,
        contact_id: Uuid,
        patch: &MergePatch,
    ) -> CoreResult<Contact> {
        let _guard = self.lock_user(user_id).await;
        let stored = self.contact(user_id, contact_id).await?;
        if patch.changes_nothing() {
            return Ok(stored);
        }
        let mut contact: Contact = patch::apply(&stored, patch, CONTACT_FIELDS)?;
        normalise_contact(&mut contact)?;
        self.check_uris_free(&contact, Some(&stored)).await?;
        if patch.changes_field("tags") {
            contact.tags = self.known_tags(user_id, "tags", &contact.tags).await?;
        }
        contact.date_update = crate::now();
        let mut batch = Batch::new();
        self.contact_batch(&mut batch, &contact, Some(&stored));
        self.stores().records.write(batch).await?;
        self.wake_indexer();
        Ok(contact)
    }

    /// The identities one of the user's contacts is reachable at: its mail
    /// addresses, instant messaging accounts and social identities.
    pub async fn contact_identities(
        &self,
        user_id: Uuid,
        contact_id: Uuid,
    ) -> CoreResult<Vec<ContactIdentity>> {
        let c = self.contact(user_id, contact_id).await?;
        let emails = c.emails.iter().map(|e| ContactIdentity {
            identifier: e.address.clone(),
            label: e.label.clone(),
            protocol: "email".into(),
        });
        let ims = c.ims.iter().map(|im| ContactIdentity {
            identifier: im.address.clone(),
            label: im.label.clone(),
            protocol: if im.protocol.is_empty() {
                "im".into()
            } else {
                im.protocol.clone()
            },
        });
        let social = c.identities.iter().map(|s| ContactIdentity {
            identifier: s.name.clone(),
            label: String::new(),
            protocol: s.kind.clone(),
        });
        Ok(emails.chain(ims).chain(social).collect())
    }

    /// One of the user's contacts.
    pub async fn contact(&self, user_id: Uuid, contact_id: Uuid) -> CoreResult<Contact> {
        let bytes = self
            .stores()
            .records
            .get(CONTACTS, Scope::User(user_id), contact_id.as_bytes())
            .await?
            .ok_or_else(|| CoreError::not_found("contact", contact_id))?;
        decode(CONTACTS.name, &bytes)
    }

    /// The ids of the user's contacts that own `address`.
    pub async fn contact_ids_by_address(
        &self,
        user_id: Uuid,
        address: &str,
    ) -> CoreResult<Vec<Uuid>> {
        let address = address.trim().to_lowercase();
        // Contact addresses are validated, so no contact has a longer one (a
        // header of any length may ask).
        if !crate::limits::may_exist(&address, crate::limits::MAX_ADDRESS_BYTES) {
            return Ok(Vec::new());
        }
        let prefix = Key::new().str(&address).build();
        let len = prefix.len();
        let page = self
            .stores()
            .records
            .scan(
                CONTACT_ADDRESSES,
                Scope::User(user_id),
                Scan::prefix(prefix, 64),
            )
            .await?;
        Ok(page
            .items
            .iter()
            .filter_map(|(k, _)| key_uuid(k, len))
            .collect())
    }

    /// The user's contacts that own `address`.
    pub async fn contacts_by_address(
        &self,
        user_id: Uuid,
        address: &str,
    ) -> CoreResult<Vec<Contact>> {
        let mut out = Vec::new();
        for id in self.contact_ids_by_address(user_id, address).await? {
            match self.contact(user_id, id).await {
                Ok(c) => out.push(c),
                Err(CoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Deletes one of the user's contacts (not the user's own card).
    #[tracing::instrument(skip(self))]
    pub async fn delete_contact(&self, user_id: Uuid, contact_id: Uuid) -> CoreResult<()> {
        let _guard = self.lock_user(user_id).await;
        let user = self.user(user_id).await?;
        if user.contact_id == contact_id {
            return Err(CoreError::Forbidden(
                "the user's own contact card cannot be deleted".into(),
            ));
        }
        let contact = self.contact(user_id, contact_id).await?;
        let scope = Scope::User(user_id);
        let mut batch = Batch::new();
        for e in &contact.emails {
            batch.delete(
                CONTACT_ADDRESSES,
                scope,
                address_key(&e.address, contact.id),
            );
        }
        batch.delete(CONTACTS, scope, contact_id.as_bytes().to_vec());
        outbox(
            &mut batch,
            &IndexOp::Delete {
                user: user_id,
                kind: DocKind::Contact,
                id: contact_id,
            },
        );
        self.stores().records.write(batch).await?;
        self.wake_indexer();
        Ok(())
    }
}

/// Validates a contact and fills what can be derived.
pub(crate) fn normalise_contact(contact: &mut Contact) -> CoreResult<()> {
    for (i, e) in contact.emails.iter_mut().enumerate() {
        e.address = super::validate::email(&format!("emails[{i}].address"), &e.address)?;
        if e.email_id.is_nil() {
            e.email_id = Uuid::now_v7();
        }
    }
    normalise_details(contact)?;
    for (field, value, max) in [
        ("avatar", &contact.avatar, 2048),
        ("title", &contact.title, 256),
        ("given_name", &contact.given_name, 256),
        ("family_name", &contact.family_name, 256),
        ("additional_name", &contact.additional_name, 256),
        ("name_prefix", &contact.name_prefix, 64),
        ("name_suffix", &contact.name_suffix, 64),
    ] {
        super::validate::text(field, value, max)?;
    }
    if contact.title.trim().is_empty() {
        let names: Vec<&str> = [contact.given_name.as_str(), contact.family_name.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        contact.title = if names.is_empty() {
            contact
                .emails
                .first()
                .map(|e| e.address.clone())
                .unwrap_or_default()
        } else {
            names.join(" ")
        };
    }
    Ok(())
}

/// Validates the contact's phones, postal addresses, instant messaging
/// accounts, organizations, social identities, groups and infos, and gives
/// each item without one its id.
fn normalise_details(contact: &mut Contact) -> CoreResult<()> {
    use super::validate::text;
    let fresh = |id: &mut Uuid| {
        if id.is_nil() {
            *id = Uuid::now_v7();
        }
    };
    let required = |field: String, value: &str, max: usize| {
        if value.trim().is_empty() {
            return Err(CoreError::invalid(field, "is required"));
        }
        text(&field, value, max)
    };
    for (i, p) in contact.phones.iter_mut().enumerate() {
        required(format!("phones[{i}].number"), &p.number, 64)?;
        fresh(&mut p.phone_id);
    }
    for (i, a) in contact.addresses.iter_mut().enumerate() {
        for (name, value) in [
            ("street", &a.street),
            ("city", &a.city),
            ("postal_code", &a.postal_code),
            ("region", &a.region),
            ("country", &a.country),
            ("label", &a.label),
        ] {
            text(&format!("addresses[{i}].{name}"), value, 256)?;
        }
        fresh(&mut a.address_id);
    }
    for (i, im) in contact.ims.iter_mut().enumerate() {
        required(format!("ims[{i}].address"), &im.address, 256)?;
        fresh(&mut im.im_id);
    }
    for (i, o) in contact.organizations.iter_mut().enumerate() {
        required(format!("organizations[{i}].name"), &o.name, 256)?;
        fresh(&mut o.organization_id);
    }
    for (i, s) in contact.identities.iter_mut().enumerate() {
        required(format!("identities[{i}].name"), &s.name, 256)?;
        fresh(&mut s.social_id);
    }
    for (i, g) in contact.groups.iter().enumerate() {
        text(&format!("groups[{i}]"), g, 256)?;
    }
    if contact.infos.len() > 100 {
        return Err(CoreError::invalid("infos", "at most 100 entries"));
    }
    for (k, v) in &contact.infos {
        text(&format!("infos.{k}"), v, 4096)?;
    }
    Ok(())
}

fn address_key(address: &str, contact: Uuid) -> Vec<u8> {
    Key::new()
        .str(&address.to_lowercase())
        .uuid(contact)
        .build()
}
