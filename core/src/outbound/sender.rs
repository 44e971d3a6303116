//! Who may send what: the sender check and the per-user sending limit, applied to
//! every message that enters the outbound queue.
//!
//! A local identity sends only as its own user's address on this server. A remote
//! identity sends only once the user showed the address is theirs
//! (`service::identity_validation`), and never as an address of this server's
//! domain or one a local user receives, whoever claimed it and whenever.

use uuid::Uuid;

use crate::Core;
use crate::error::{CoreError, CoreResult};
use crate::model::{Identity, IdentityKind};
use crate::service::throttle::Subject;

impl Core {
    /// Takes one message to `recipients` envelope recipients from the user's
    /// sending allowance (`[core.send_limits]`), or answers why not.
    pub(crate) async fn take_send(&self, user_id: Uuid, recipients: usize) -> CoreResult<()> {
        let limits = &self.config().send_limits;
        if recipients > limits.recipients {
            return Err(CoreError::invalid(
                "participants",
                format!(
                    "a message goes to at most {} recipients (To, Cc and Bcc together)",
                    limits.recipients
                ),
            ));
        }
        self.take(Subject::Sent(user_id), limits.messages, limits.window)
            .await
    }

    /// Whether `address` belongs to this server: its domain, or a local identity.
    pub(crate) async fn is_local_address(&self, address: &str) -> CoreResult<bool> {
        let domain = &self.config().default_domain;
        let in_domain = address
            .rsplit_once('@')
            .is_some_and(|(_, d)| d.eq_ignore_ascii_case(domain));
        Ok(in_domain || self.resolve_address(address).await?.is_some())
    }

    /// Refuses to send as `identity` (one of `user_id`'s) unless it may, naming why.
    pub(crate) async fn check_sender(&self, user_id: Uuid, identity: &Identity) -> CoreResult<()> {
        let address = &identity.identifier;
        match identity.kind {
            IdentityKind::Local => match self.resolve_address(address).await? {
                Some(owner) if owner.user_id == user_id => Ok(()),
                _ => Err(CoreError::Forbidden(format!(
                    "`{address}` is not your address on this server"
                ))),
            },
            IdentityKind::Remote if self.is_local_address(address).await? => {
                Err(CoreError::Forbidden(format!(
                    "`{address}` is an address of this server: only its own user sends as it"
                )))
            }
            IdentityKind::Remote if identity.verified_at.is_none() => {
                Err(CoreError::Forbidden(format!(
                    "the identity `{address}` is not verified yet: confirm it with the code \
                     mailed to it (`GET /api/v2/validate-identity/{{code}}`; the \
                     `identity-validation` action of the identity mails a new one)"
                )))
            }
            IdentityKind::Remote => Ok(()),
        }
    }
}
