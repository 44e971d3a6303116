//! Remote identities (`/v2/identities/remotes`): the user's accounts elsewhere
//! (IMAP/SMTP), which a fetcher will poll. Their credentials are stored but never
//! answered in full: every value whose key is not a known server setting is
//! replaced by [`MASK`], and a patch that sends the mask back keeps the stored
//! secret. Secrets are sealed at rest ([`super::sealed_credentials`]) and the
//! server settings in `infos` are checked ([`super::remote_infos`]). Remote addresses are not registered for inbound delivery: mail for
//! them arrives through the fetcher, never through this server's LMTP.
//!
//! An address of this server (its domain, or any local identity) is never a
//! remote identity. A new remote identity is `pending` until the user shows the
//! address is theirs ([`super::identity_validation`]: a code is mailed to it when
//! the identity is added); only then may it send.

use std::collections::BTreeMap;

use caliopen_storage_traits::{Batch, Scope};
use uuid::Uuid;

use super::identity_validation::{OWNERSHIP_KEY, ownership};
use super::patch::{self, MergePatch, field};
use super::validate;
use super::{remote_infos, sealed_credentials};
use crate::codec::encode;
use crate::error::{CoreError, CoreResult};
use crate::model::identity::IdentityStatus;
use crate::model::{Identity, IdentityKind};
use crate::tables::IDENTITIES;
use crate::{Core, now};

/// What stands for a secret credential in answers.
pub const MASK: &str = "********";

/// Credential keys whose values are settings, not secrets, and are answered.
const PUBLIC_CREDENTIALS: &[&str] = &[
    "username",
    "inusername",
    "outusername",
    "login",
    "user",
    "server",
    "host",
    "port",
    "inserver",
    "inport",
    "outserver",
    "outport",
    "imap_server",
    "imap_port",
    "smtp_server",
    "smtp_port",
    "security",
    "tls",
];

/// Most entries in `credentials` or `infos`.
const MAX_ENTRIES: usize = 32;

/// What `POST /v2/identities/remotes` gives (the API's `NewUserIdentity`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRemoteIdentity {
    /// The account's address.
    pub identifier: String,
    /// `email` (the only protocol supported).
    pub protocol: String,
    pub display_name: String,
    /// `active` (the default) or `inactive`.
    pub status: Option<String>,
    pub credentials: BTreeMap<String, String>,
    pub infos: BTreeMap<String, String>,
}

const REMOTE_FIELDS: &[patch::Field] = &[
    field("display_name"),
    field("status"),
    field("credentials"),
    field("infos"),
];

impl Core {
    /// The user's remote identities, credentials masked.
    pub async fn remote_identities(&self, user_id: Uuid) -> CoreResult<Vec<Identity>> {
        Ok(self
            .identities(user_id, IdentityKind::Remote)
            .await?
            .into_iter()
            .map(masked)
            .collect())
    }

    /// One of the user's remote identities, credentials masked (no key needed).
    pub async fn remote_identity(&self, user_id: Uuid, identity_id: Uuid) -> CoreResult<Identity> {
        self.stored_remote_identity(user_id, identity_id)
            .await
            .map(masked)
    }

    /// One of the user's remote identities with its credentials in full, for the
    /// code that connects to the account; never for an API answer. Needs the
    /// credentials key when secrets are stored.
    pub async fn remote_identity_with_credentials(
        &self,
        user_id: Uuid,
        identity_id: Uuid,
    ) -> CoreResult<Identity> {
        let mut identity = self.stored_remote_identity(user_id, identity_id).await?;
        sealed_credentials::open(&self.config().credentials, &mut identity)?;
        Ok(identity)
    }

    /// One of the user's remote identities as stored: secrets sealed, masked in
    /// `credentials`.
    pub async fn stored_remote_identity(
        &self,
        user_id: Uuid,
        identity_id: Uuid,
    ) -> CoreResult<Identity> {
        let identity = self.identity(user_id, identity_id).await?;
        if identity.kind != IdentityKind::Remote {
            return Err(CoreError::not_found("remote identity", identity_id));
        }
        Ok(identity)
    }

    /// Adds a remote identity, pending until its address is confirmed: the
    /// confirmation code is mailed to it in the same batch. The same address twice
    /// for a user is a conflict; an address of this server is forbidden.
    #[tracing::instrument(skip(self, new), fields(identifier = %new.identifier))]
    pub async fn create_remote_identity(
        &self,
        user_id: Uuid,
        new: NewRemoteIdentity,
    ) -> CoreResult<Identity> {
        if !new.protocol.is_empty() && new.protocol != "email" {
            return Err(CoreError::invalid("protocol", "only `email` is supported"));
        }
        let identifier = validate::email("identifier", &new.identifier)?;
        let status = match new.status.as_deref() {
            None | Some("") => IdentityStatus::Active,
            Some(s) => parse_status(s)?,
        };
        let mut identity = Identity {
            id: Uuid::now_v7(),
            user_id,
            kind: IdentityKind::Remote,
            protocol: "email".into(),
            identifier,
            display_name: new.display_name,
            status,
            credentials: new.credentials,
            infos: new.infos,
            sealed_credentials: None,
            last_check: None,
            date_insert: now(),
            verified_at: None,
        };
        check_identity(&mut identity)?;
        self.seal(&mut identity)?;
        if self.is_local_address(&identity.identifier).await? {
            return Err(CoreError::Forbidden(format!(
                "`{}` is an address of this server: it belongs to one of its users and cannot \
                 be a remote identity",
                identity.identifier
            )));
        }
        let _guard = self.lock_user(user_id).await;
        let user = self.user(user_id).await?;
        if self
            .user_addresses(user_id)
            .await?
            .contains(&identity.identifier)
        {
            return Err(CoreError::Conflict(format!(
                "you already have the identity `{}`",
                identity.identifier
            )));
        }
        let mut batch = Batch::new();
        self.identity_validation_batch(&mut batch, &user, &identity)
            .await?;
        batch.put(
            IDENTITIES,
            Scope::User(user_id),
            identity.id.as_bytes().to_vec(),
            encode(&identity),
        );
        self.stores().records.write(batch).await?;
        self.wake_outbound();
        Ok(masked(identity))
    }

    /// Changes a remote identity (`display_name`, `status`, `credentials`,
    /// `infos`) by merge patch, checked against `current_state` as the client saw
    /// it (credentials masked).
    #[tracing::instrument(skip(self, patch))]
    pub async fn patch_remote_identity(
        &self,
        user_id: Uuid,
        identity_id: Uuid,
        patch: &MergePatch,
    ) -> CoreResult<Identity> {
        let _guard = self.lock_user(user_id).await;
        let stored = self
            .remote_identity_with_credentials(user_id, identity_id)
            .await?;
        if patch.changes_nothing() {
            return Ok(masked(stored));
        }
        patch::check_state(
            patch,
            &patch::to_object(&masked(stored.clone()))?,
            REMOTE_FIELDS,
        )?;
        let mut identity: Identity = patch::merge_into(&stored, patch, REMOTE_FIELDS)?;
        // A client that sends a masked value back did not change that secret.
        for (key, value) in &mut identity.credentials {
            if value == MASK
                && let Some(old) = stored.credentials.get(key)
            {
                value.clone_from(old);
            }
        }
        if identity.status == IdentityStatus::Deleted {
            return Err(CoreError::invalid(
                "status",
                "must be `active` or `inactive` (delete the identity instead)",
            ));
        }
        check_identity(&mut identity)?;
        self.seal(&mut identity)?;
        self.write_identity(&identity).await?;
        Ok(masked(identity))
    }

    /// Deletes one of the user's remote identities.
    #[tracing::instrument(skip(self))]
    pub async fn delete_remote_identity(&self, user_id: Uuid, identity_id: Uuid) -> CoreResult<()> {
        let _guard = self.lock_user(user_id).await;
        self.stored_remote_identity(user_id, identity_id).await?;
        let mut batch = Batch::new();
        batch.delete(
            IDENTITIES,
            Scope::User(user_id),
            identity_id.as_bytes().to_vec(),
        );
        Ok(self.stores().records.write(batch).await?)
    }

    fn seal(&self, identity: &mut Identity) -> CoreResult<()> {
        sealed_credentials::seal(&self.config().credentials, identity, is_secret, MASK)
    }

    async fn write_identity(&self, identity: &Identity) -> CoreResult<()> {
        let mut batch = Batch::new();
        batch.put(
            IDENTITIES,
            Scope::User(identity.user_id),
            identity.id.as_bytes().to_vec(),
            encode(identity),
        );
        Ok(self.stores().records.write(batch).await?)
    }
}

/// An identity as answered: secret credentials replaced by [`MASK`], and whether
/// its address is proven the user's under `infos.ownership`.
pub fn masked(mut identity: Identity) -> Identity {
    identity.sealed_credentials = None;
    for (key, value) in &mut identity.credentials {
        if is_secret(key) {
            *value = MASK.to_owned();
        }
    }
    let state = ownership(&identity);
    identity
        .infos
        .insert(OWNERSHIP_KEY.to_owned(), state.to_owned());
    identity
}

/// Whether a credential is a secret (masked in answers, sealed at rest).
fn is_secret(key: &str) -> bool {
    !PUBLIC_CREDENTIALS.contains(&key.to_ascii_lowercase().as_str())
}

fn parse_status(s: &str) -> CoreResult<IdentityStatus> {
    match s {
        "active" => Ok(IdentityStatus::Active),
        "inactive" => Ok(IdentityStatus::Inactive),
        _ => Err(CoreError::invalid(
            "status",
            "must be `active` or `inactive`",
        )),
    }
}

/// Validates what a user gives of a remote identity (the server's own `infos`
/// keys are dropped: the server sets them).
fn check_identity(identity: &mut Identity) -> CoreResult<()> {
    identity.infos.remove(OWNERSHIP_KEY);
    identity.display_name = identity.display_name.trim().to_owned();
    validate::text("display_name", &identity.display_name, 256)?;
    for (name, map) in [
        ("credentials", &identity.credentials),
        ("infos", &identity.infos),
    ] {
        if map.len() > MAX_ENTRIES {
            return Err(CoreError::invalid(
                name,
                format!("at most {MAX_ENTRIES} entries"),
            ));
        }
        for (k, v) in map {
            if k.is_empty() || k.len() > 64 {
                return Err(CoreError::invalid(
                    name,
                    format!("key `{k}` must be 1 to 64 characters long"),
                ));
            }
            validate::text(&format!("{name}.{k}"), v, 4096)?;
        }
    }
    remote_infos::check(&identity.infos)
}
