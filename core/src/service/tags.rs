//! Tags of a user.

use caliopen_storage_traits::{Scan, Scope};
use uuid::Uuid;

use crate::codec::decode;
use crate::error::{CoreError, CoreResult};
use crate::model::Tag;
use crate::tables::TAGS;
use crate::Core;

impl Core {
    /// The user's tags, by name.
    pub async fn tags(&self, user_id: Uuid) -> CoreResult<Vec<Tag>> {
        let page = self
            .stores()
            .records
            .scan(TAGS, Scope::User(user_id), Scan::all(10_000))
            .await?;
        page.items.iter().map(|(_, v)| decode(TAGS.name, v)).collect()
    }

    /// One of the user's tags by name.
    pub async fn tag(&self, user_id: Uuid, name: &str) -> CoreResult<Tag> {
        let bytes = self
            .stores()
            .records
            .get(TAGS, Scope::User(user_id), name.as_bytes())
            .await?
            .ok_or_else(|| CoreError::not_found("tag", name))?;
        decode(TAGS.name, &bytes)
    }
}
