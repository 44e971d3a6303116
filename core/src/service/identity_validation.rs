//! Proof that a remote identity's address is the user's: a confirmation code
//! mailed to the address (through the outbound queue), which the user gives back
//! while logged in (`GET /api/v2/validate-identity/{code}`). Until then the
//! identity is `pending` (its `infos.ownership`, see [`OWNERSHIP_KEY`]) and
//! cannot send. A later check by logging in to the account's own server (IMAP or
//! SMTP with its credentials) is meant to set the same mark.
//!
//! The code is bound to the user who asked for it: whoever else receives the mail
//! and follows it validates nothing. It is kept as its digest, works once, and
//! lives `identity_validation_ttl`.

use caliopen_storage_traits::{Batch, Scope};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::auth::{random_token, token_digest};
use super::validate;
use crate::codec::{decode, encode};
use crate::error::{CoreError, CoreResult};
use crate::model::{Identity, User};
use crate::outbound::notice::Notice;
use crate::tables::IDENTITIES;
use crate::{Core, now};

const NS_IDENTITY_VALIDATION: &str = "identity-validation";

/// The `infos` key that answers whether a remote identity's address is proven
/// the user's (`verified`) or not yet (`pending`). Set by the server only: a value
/// a client sends for it is ignored.
pub const OWNERSHIP_KEY: &str = "ownership";

#[derive(Debug, Serialize, Deserialize)]
struct ValidationEntry {
    user_id: Uuid,
    identity_id: Uuid,
}

/// The value of [`OWNERSHIP_KEY`] for an identity.
pub fn ownership(identity: &Identity) -> &'static str {
    if identity.verified_at.is_some() {
        "verified"
    } else {
        "pending"
    }
}

impl Core {
    /// Adds to `batch` what mails a new confirmation code for `identity` (one of
    /// `user`'s, unverified): the code and the mail's outbound job.
    pub(crate) async fn identity_validation_batch(
        &self,
        batch: &mut Batch,
        user: &User,
        identity: &Identity,
    ) -> CoreResult<()> {
        let ttl = self.config().identity_validation_ttl;
        let code = random_token();
        let entry = ValidationEntry {
            user_id: user.id,
            identity_id: identity.id,
        };
        let hours = ttl.as_secs().div_ceil(3600);
        let domain = &self.config().default_domain;
        let body = format!(
            "The account `{username}` on {domain} asked to send mail as {address}.\n\n\
             If that is you, confirm it while logged in to that account with this code\n\
             (GET /api/v2/validate-identity/<code>), within {hours} hours:\n\n    {code}\n\n\
             If it is not you, ignore this mail: nothing is sent as {address} from\n\
             {domain} until the address is confirmed.\n",
            username = user.username,
            address = identity.identifier,
        );
        let notice = Notice {
            user_id: user.id,
            to: identity.identifier.clone(),
            subject: format!("Confirm that {} is your address", identity.identifier),
            body,
        };
        self.queue_notice(batch, notice).await?;
        self.stores()
            .ephemeral
            .put(
                NS_IDENTITY_VALIDATION,
                &token_digest(&code),
                &encode(&entry),
                ttl,
            )
            .await?;
        Ok(())
    }

    /// Mails a new confirmation code to one of the user's remote identities that is
    /// not verified yet (`identity-validation` action); earlier codes keep working
    /// until they expire.
    #[tracing::instrument(skip(self))]
    pub async fn request_identity_validation(
        &self,
        user_id: Uuid,
        identity_id: Uuid,
    ) -> CoreResult<()> {
        let _guard = self.lock_user(user_id).await;
        let user = self.user(user_id).await?;
        let identity = self.stored_remote_identity(user_id, identity_id).await?;
        if identity.verified_at.is_some() {
            return Err(CoreError::Conflict(format!(
                "the identity `{}` is already verified",
                identity.identifier
            )));
        }
        let mut batch = Batch::new();
        self.identity_validation_batch(&mut batch, &user, &identity)
            .await?;
        self.stores().records.write(batch).await?;
        self.wake_outbound();
        Ok(())
    }

    /// Marks the remote identity a code was mailed for as the user's, when the
    /// code is live and was created for `user_id`; else not found. The code works
    /// once.
    #[tracing::instrument(skip(self, code))]
    pub async fn validate_identity(&self, user_id: Uuid, code: &str) -> CoreResult<Identity> {
        validate::token("code", code)?;
        let not_found = || CoreError::not_found("identity validation code", "(given)");
        let eph = &self.stores().ephemeral;
        let key = token_digest(code);
        let entry: ValidationEntry = match eph.get(NS_IDENTITY_VALIDATION, &key).await? {
            Some(bytes) => decode("ephemeral:identity-validation", &bytes)?,
            None => return Err(not_found()),
        };
        if entry.user_id != user_id {
            return Err(not_found());
        }
        let _guard = self.lock_user(user_id).await;
        let mut identity = match self
            .stored_remote_identity(user_id, entry.identity_id)
            .await
        {
            Err(CoreError::NotFound { .. }) => return Err(not_found()),
            other => other?,
        };
        if self.is_local_address(&identity.identifier).await? {
            return Err(CoreError::Forbidden(format!(
                "`{}` is an address of this server: it cannot be a remote identity",
                identity.identifier
            )));
        }
        identity.verified_at.get_or_insert_with(now);
        let mut batch = Batch::new();
        batch.put(
            IDENTITIES,
            Scope::User(user_id),
            identity.id.as_bytes().to_vec(),
            encode(&identity),
        );
        self.stores().records.write(batch).await?;
        eph.delete(NS_IDENTITY_VALIDATION, &key).await?;
        tracing::info!(identity = %identity.id, "remote identity verified");
        Ok(super::remote_identities::masked(identity))
    }
}
