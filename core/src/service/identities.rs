//! Identities: the user's local identity and remote accounts.

use caliopen_storage_traits::{Scan, Scope};
use uuid::Uuid;

use crate::Core;
use crate::codec::decode;
use crate::error::{CoreError, CoreResult};
use crate::model::{Identity, IdentityKind};
use crate::tables::IDENTITIES;

impl Core {
    /// The user's identities of one kind, oldest first.
    pub async fn identities(&self, user_id: Uuid, kind: IdentityKind) -> CoreResult<Vec<Identity>> {
        let page = self
            .stores()
            .records
            .scan(IDENTITIES, Scope::User(user_id), Scan::all(1000))
            .await?;
        let mut out = Vec::new();
        for (_, v) in &page.items {
            let identity: Identity = decode(IDENTITIES.name, v)?;
            if identity.kind == kind {
                out.push(identity);
            }
        }
        Ok(out)
    }

    /// One of the user's identities.
    pub async fn identity(&self, user_id: Uuid, identity_id: Uuid) -> CoreResult<Identity> {
        let bytes = self
            .stores()
            .records
            .get(IDENTITIES, Scope::User(user_id), identity_id.as_bytes())
            .await?
            .ok_or_else(|| CoreError::not_found("identity", identity_id))?;
        decode(IDENTITIES.name, &bytes)
    }

    /// Every address of the user: the local identity first, then remote ones.
    pub async fn user_addresses(&self, user_id: Uuid) -> CoreResult<Vec<String>> {
        let mut out: Vec<String> = self
            .identities(user_id, IdentityKind::Local)
            .await?
            .into_iter()
            .map(|i| i.identifier)
            .collect();
        out.extend(
            self.identities(user_id, IdentityKind::Remote)
                .await?
                .into_iter()
                .map(|i| i.identifier),
        );
        Ok(out)
    }
}
