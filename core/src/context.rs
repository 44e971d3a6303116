//! [`UserContext`]: everything about one user that a component may read while it
//! processes that user's message. The runtime's host functions go through it and
//! nothing else, so a component cannot reach another user's data whatever it
//! passes as arguments.

use uuid::Uuid;

use crate::Core;
use crate::error::{CoreError, CoreResult};
use crate::model::{Contact, Tag, User};

#[derive(Debug, Clone)]
pub struct UserContext {
    core: Core,
    user: User,
    addresses: Vec<String>,
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
        })
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
        Ok(self
            .core
            .contacts_by_address(self.user.id, address)
            .await?
            .into_iter()
            .next())
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
        self.core.tags(self.user.id).await
    }

    /// One setting of the user as JSON text, when the name is a setting.
    pub async fn setting(&self, name: &str) -> CoreResult<Option<String>> {
        let settings = self.core.settings(self.user.id).await?;
        let value = serde_json::to_value(&settings).map_err(|e| CoreError::Corrupt {
            table: "settings",
            message: e.to_string(),
        })?;
        Ok(value.get(name).map(|v| v.to_string()))
    }
}
