//! Deleting an account and everything of it.
//!
//! A user's records can outnumber what one batch may carry, so deletion goes in
//! steps that each leave a consistent state, and can be run again to finish
//! after a crash:
//! 1. one batch makes the account unreachable: the user is marked `deleting`
//!    (no login, no token accepted, no delivery stored), its username and
//!    addresses are freed, and a `DeleteUser` outbox entry removes its search
//!    documents;
//! 2. every session and reset token of the user is deleted;
//! 3. every per-user table ([`crate::tables::USER_TABLES`]) is emptied, in
//!    batches (each message's blob references dropped in the batch deleting it);
//! 4. the user's pending and quarantined deliveries (with their references),
//!    then the user record, go.
//!
//! Blobs (raw mail, attachments) go with the last reference to them: a mail the
//! user shared with others stays for them (`crate::blob_refs`).

use caliopen_storage_traits::search::IndexOp;
use caliopen_storage_traits::{Batch, BlobId, Scan, Scope, Table};
use uuid::Uuid;

use super::account::{NS_RESET, NS_RESET_BY_USER};
use super::attachments::MAX_ATTACHMENTS;
use crate::Core;
use crate::blob_refs::{Releases, message_blobs};
use crate::codec::{decode, encode};
use crate::delivery::{PendingDelivery, QuarantinedDelivery};
use crate::error::CoreResult;
use crate::index::outbox;
use crate::model::user::UserStatus;
use crate::model::{Identity, Message};
use crate::tables::{
    ADDRESSES, DELIVERIES, IDENTITIES, MESSAGES, QUARANTINE, USER_TABLES, USERNAMES, USERS,
};

impl Core {
    /// Deletes a user and everything of theirs (see the module docs). The caller
    /// has checked that the user wants it (password confirmation is the REST
    /// layer's, or an operator's decision).
    #[tracing::instrument(skip(self))]
    pub async fn delete_account(&self, user_id: Uuid) -> CoreResult<()> {
        let _guard = self.lock_user(user_id).await;
        let mut user = self.user(user_id).await?;

        user.status = UserStatus::Deleting;
        let mut batch = Batch::new();
        batch
            .put(
                USERS,
                Scope::Global,
                user.id.as_bytes().to_vec(),
                encode(&user),
            )
            .delete(
                USERNAMES,
                Scope::Global,
                user.username.to_lowercase().into_bytes(),
            );
        if let Some(key) = crate::indexes::recovery_key(&user) {
            batch.delete(crate::tables::RECOVERY_ADDRESSES, Scope::Global, key);
        }
        let mut addresses = vec![user.local_identity.to_lowercase()];
        for identity in self.scan_all::<Identity>(user_id, IDENTITIES).await? {
            addresses.push(identity.identifier.to_lowercase());
        }
        addresses.sort();
        addresses.dedup();
        // Only an address short enough for an identity can be in the table.
        addresses.retain(|a| a.len() <= crate::limits::MAX_ADDRESS_BYTES);
        for address in addresses {
            if self
                .resolve_address(&address)
                .await?
                .is_some_and(|r| r.user_id == user_id)
            {
                batch.delete(ADDRESSES, Scope::Global, address.into_bytes());
            }
        }
        outbox(&mut batch, &IndexOp::DeleteUser { user: user_id });
        self.stores().records.write(batch).await?;
        self.wake_indexer();

        for device in self.devices(user_id).await? {
            self.logout(user_id, &device.device_id).await?;
        }
        let eph = &self.stores().ephemeral;
        if let Some(token) = eph.get(NS_RESET_BY_USER, user_id.as_bytes()).await? {
            eph.delete(NS_RESET, &token).await?;
        }
        eph.delete(NS_RESET_BY_USER, user_id.as_bytes()).await?;

        for table in USER_TABLES {
            self.empty_user_table(*table, user_id).await?;
        }

        let pending = self
            .global_keys(DELIVERIES, |v| {
                let d = decode::<PendingDelivery>(DELIVERIES.name, v)?;
                Ok((d.user_id == user_id).then_some(d.raw.0))
            })
            .await?;
        let quarantined = self
            .global_keys(QUARANTINE, |v| {
                let q = decode::<QuarantinedDelivery>(QUARANTINE.name, v)?;
                Ok((q.delivery.user_id == user_id).then_some(q.delivery.raw.0))
            })
            .await?;
        let mut keys: Vec<(Table, Vec<u8>, Option<BlobId>)> = pending
            .into_iter()
            .map(|(k, raw)| (DELIVERIES, k, Some(raw)))
            .collect();
        keys.extend(
            quarantined
                .into_iter()
                .map(|(k, raw)| (QUARANTINE, k, Some(raw))),
        );
        keys.push((USERS, user_id.as_bytes().to_vec(), None));
        // Each key with its reference: a deletion and two operations.
        for chunk in keys.chunks(Batch::MAX_OPS / 3) {
            let mut batch = Batch::new();
            let mut releases = Releases::default();
            for (table, key, raw) in chunk {
                batch.delete(*table, Scope::Global, key.clone());
                if let Some(raw) = raw {
                    releases.drop_ref(&mut batch, *raw);
                }
            }
            self.stores().records.write(batch).await?;
            releases.release(self).await;
        }
        tracing::info!(%user_id, "account deleted");
        Ok(())
    }

    /// Deletes every record of one user table, a batch at a time; a message's
    /// blob references go in the batch that deletes it.
    async fn empty_user_table(&self, table: Table, user_id: Uuid) -> CoreResult<()> {
        let scope = Scope::User(user_id);
        let mut previous_first: Option<Vec<u8>> = None;
        // A message may count up to 1 + MAX_ATTACHMENTS blobs, two operations each.
        let page_size = if table == MESSAGES {
            Batch::MAX_OPS / (1 + 2 * (1 + MAX_ATTACHMENTS))
        } else {
            Batch::MAX_OPS
        };
        loop {
            let page = self
                .stores()
                .records
                .scan(table, scope, Scan::all(page_size))
                .await?;
            let Some((first, _)) = page.items.first() else {
                return Ok(());
            };
            if previous_first.as_ref() == Some(first) {
                return Err(crate::CoreError::Corrupt {
                    table: table.name,
                    message: "records survived their deletion".into(),
                });
            }
            previous_first = Some(first.clone());
            let mut batch = Batch::new();
            let mut releases = Releases::default();
            for (key, value) in page.items {
                if table == MESSAGES {
                    let message: Message = decode(MESSAGES.name, &value)?;
                    for blob in message_blobs(&message) {
                        releases.drop_ref(&mut batch, blob);
                    }
                }
                batch.delete(table, scope, key);
            }
            self.stores().records.write(batch).await?;
            releases.release(self).await;
        }
    }

    /// The keys of a global table whose records `pick` selects, with what it
    /// picked of them.
    async fn global_keys<T>(
        &self,
        table: Table,
        pick: impl Fn(&[u8]) -> CoreResult<Option<T>>,
    ) -> CoreResult<Vec<(Vec<u8>, T)>> {
        let mut out = Vec::new();
        self.visit_records(table, Scope::Global, Scan::all(1000), |key, value| {
            if let Some(picked) = pick(value)? {
                out.push((key.to_vec(), picked));
            }
            Ok(())
        })
        .await?;
        Ok(out)
    }
}
