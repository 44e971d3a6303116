//! Contacts: create, read, update, delete, and lookup by address.

use caliopen_storage_traits::search::{DocKind, Document, IndexOp};
use caliopen_storage_traits::{Batch, Scan, Scope};
use uuid::Uuid;

use crate::codec::{decode, encode, key_uuid, Key};
use crate::error::{CoreError, CoreResult};
use crate::index::documents::contact_document;
use crate::index::outbox;
use crate::model::Contact;
use crate::tables::{CONTACTS, CONTACT_ADDRESSES};
use crate::Core;

impl Core {
    /// Adds to `batch` everything that stores `contact`, replacing `previous`.
    pub(crate) fn contact_batch(&self, batch: &mut Batch, contact: &Contact, previous: Option<&Contact>) {
        let scope = Scope::User(contact.user_id);
        if let Some(previous) = previous {
            for e in &previous.emails {
                batch.delete(CONTACT_ADDRESSES, scope, address_key(&e.address, previous.id));
            }
        }
        for e in &contact.emails {
            batch.put(CONTACT_ADDRESSES, scope, address_key(&e.address, contact.id), Vec::new());
        }
        batch.put(CONTACTS, scope, contact.id.as_bytes().to_vec(), encode(contact));
        outbox(batch, &IndexOp::Upsert(Document::Contact(contact_document(contact))));
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
    pub async fn contact_ids_by_address(&self, user_id: Uuid, address: &str) -> CoreResult<Vec<Uuid>> {
        let prefix = Key::new().str(&address.trim().to_lowercase()).build();
        let len = prefix.len();
        let page = self
            .stores()
            .records
            .scan(CONTACT_ADDRESSES, Scope::User(user_id), Scan::prefix(prefix, 64))
            .await?;
        Ok(page.items.iter().filter_map(|(k, _)| key_uuid(k, len)).collect())
    }

    /// The user's contacts that own `address`.
    pub async fn contacts_by_address(&self, user_id: Uuid, address: &str) -> CoreResult<Vec<Contact>> {
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
    pub async fn delete_contact(&self, user_id: Uuid, contact_id: Uuid) -> CoreResult<()> {
        let user = self.user(user_id).await?;
        if user.contact_id == contact_id {
            return Err(CoreError::Forbidden("the user's own contact card cannot be deleted".into()));
        }
        let contact = self.contact(user_id, contact_id).await?;
        let scope = Scope::User(user_id);
        let mut batch = Batch::new();
        for e in &contact.emails {
            batch.delete(CONTACT_ADDRESSES, scope, address_key(&e.address, contact.id));
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

fn address_key(address: &str, contact: Uuid) -> Vec<u8> {
    Key::new().str(&address.to_lowercase()).uuid(contact).build()
}
