//! [`UserContext`]: everything about one user that a component may read while it
//! processes that user's message. The runtime's host functions go through it and
//! nothing else, so a component cannot reach another user's data whatever it
//! passes as arguments.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::Core;
use crate::error::{CoreError, CoreResult};
use crate::model::{Contact, Tag, User};

#[derive(Debug, Clone)]
pub struct UserContext {
    core: Core,
    user: User,
    addresses: Vec<String>,
    /// Reads remembered for the processing of one message; see [`UserContext::memoized`].
    memo: Option<Arc<Memo>>,
}

/// What a memoized context has read: the user's tags and settings, and the contact
/// lookups by address. Errors are not remembered.
#[derive(Debug, Default)]
struct Memo {
    tags: Mutex<Option<Vec<Tag>>>,
    settings: Mutex<Option<serde_json::Value>>,
    contacts: Mutex<HashMap<String, Option<Contact>>>,
}

impl Memo {
    fn get<T: Clone>(slot: &Mutex<T>) -> T {
        slot.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn put<T>(slot: &Mutex<T>, value: T) {
        *slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = value;
    }
}

impl UserContext {
    /// The context of one user.
    pub async fn for_user(core: &Core, user_id: Uuid) -> CoreResult<Self> {
        let user = core.user(user_id).await?;
        let addresses = core.user_addresses(user_id).await?;
        Ok(Self {
            core: core.clone(),
            user,
            addresses,
            memo: None,
        })
    }

    /// The same context, remembering what it reads from now on (tags, settings,
    /// contact lookups) so that every component processing one message sees one
    /// snapshot and the store is asked once. Meant for the processing of one
    /// message: a change made meanwhile is seen by the next message, not this one.
    #[must_use]
    pub fn memoized(&self) -> Self {
        Self {
            memo: Some(Arc::default()),
            ..self.clone()
        }
    }

    pub fn user_id(&self) -> Uuid {
        self.user.id
    }

    pub fn username(&self) -> &str {
        &self.user.username
    }

    /// The domain of local identities.
    pub fn local_domain(&self) -> &str {
        &self.core.config().default_domain
    }

    /// The user's addresses, local identity first.
    pub fn addresses(&self) -> &[String] {
        &self.addresses
    }

    /// The user's first contact owning `address`.
    #[tracing::instrument(skip(self), fields(user = %self.user.id))]
    pub async fn contact_by_address(&self, address: &str) -> CoreResult<Option<Contact>> {
        let key = address.trim().to_lowercase();
        if let Some(memo) = &self.memo
            && let Some(found) = memo
                .contacts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&key)
        {
            return Ok(found.clone());
        }
        let found = self
            .core
            .contacts_by_address(self.user.id, address)
            .await?
            .into_iter()
            .next();
        if let Some(memo) = &self.memo {
            memo.contacts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(key, found.clone());
        }
        Ok(found)
    }

    /// One of the user's contacts; none for an id that is not theirs.
    #[tracing::instrument(skip(self), fields(user = %self.user.id))]
    pub async fn contact(&self, contact_id: Uuid) -> CoreResult<Option<Contact>> {
        match self.core.contact(self.user.id, contact_id).await {
            Ok(c) => Ok(Some(c)),
            Err(CoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The user's tags.
    pub async fn tags(&self) -> CoreResult<Vec<Tag>> {
        if let Some(tags) = self.memo.as_ref().and_then(|m| Memo::get(&m.tags)) {
            return Ok(tags);
        }
        let tags = self.core.tags(self.user.id).await?;
        if let Some(memo) = &self.memo {
            Memo::put(&memo.tags, Some(tags.clone()));
        }
        Ok(tags)
    }

    /// One setting of the user as JSON text, when the name is a setting.
    pub async fn setting(&self, name: &str) -> CoreResult<Option<String>> {
        let value = match self.memo.as_ref().and_then(|m| Memo::get(&m.settings)) {
            Some(value) => value,
            None => {
                let settings = self.core.settings(self.user.id).await?;
                let value = serde_json::to_value(&settings).map_err(|e| CoreError::Corrupt {
                    table: "settings",
                    message: e.to_string(),
                })?;
                if let Some(memo) = &self.memo {
                    Memo::put(&memo.settings, Some(value.clone()));
                }
                value
            }
        };
        Ok(value.get(name).map(|v| v.to_string()))
    }
}
