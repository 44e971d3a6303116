//! Secondary indexes core keeps beside its records, written in the batches that
//! write the records, and back-filled once for stores written before they existed.
//!
//! - [`MESSAGES_BY_DATE`]: a user's messages by `date_sort` then id, so that the
//!   unfiltered message list pages (offset, limit) newest first without reading
//!   every message (the original's `Sort("date_sort", false)`, `idx/messages.go`).
//!   Every write of a message goes through [`put_message`] or [`delete_message`].
//! - [`RECOVERY_ADDRESSES`]: users by lower-case recovery address, so that a
//!   password reset asked with only that address finds its account with one
//!   prefix scan (the original's `user_recovery_email` table).
//!
//! [`Core::prepare_indexes`] back-fills both at start, before anything else runs:
//! one user at a time, their messages a page at a time (pages sized as the message
//! list sizes them, so memory is bounded by a few records),
//! with a cursor in the `system` table after each user so that an interrupted
//! back-fill resumes where it stopped, and progress logged.

use caliopen_storage_traits::{Batch, Scan, Scope, ordered_i64};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::Core;
use crate::codec::{self, decode, encode};
use crate::error::CoreResult;
use crate::model::user::UserStatus;
use crate::model::{Message, User};
use crate::service::messages::next_chunk;
use crate::tables::{MESSAGES, MESSAGES_BY_DATE, RECOVERY_ADDRESSES, SYSTEM, USERS};

/// The `system` record saying the indexes are complete.
const BACKFILLED: &[u8] = b"indexes_backfilled";
/// The `system` record holding the last user the back-fill finished.
const CURSOR: &[u8] = b"indexes_backfill_cursor";
/// Users read per page of the back-fill.
const USER_PAGE: usize = 100;

/// The key of a message in [`MESSAGES_BY_DATE`]: `date_sort` in microseconds,
/// ordered, then the id.
pub(crate) fn message_date_key(date_sort: DateTime<Utc>, id: Uuid) -> Vec<u8> {
    let mut key = ordered_i64(date_sort.timestamp_micros()).to_vec();
    key.extend_from_slice(id.as_bytes());
    key
}

/// The message id at the end of a [`MESSAGES_BY_DATE`] key.
pub(crate) fn message_of_date_key(key: &[u8]) -> Option<Uuid> {
    key.get(8..24).and_then(|id| Uuid::from_slice(id).ok())
}

/// Writes `message` in `batch` with its by-date entry. `stored_date` is the
/// `date_sort` of the record it replaces (`None` for a new message): when it is
/// the same, the entry stands as it is; when not, it moves.
pub(crate) fn put_message(
    batch: &mut Batch,
    scope: Scope,
    stored_date: Option<DateTime<Utc>>,
    message: &Message,
) {
    batch.put(
        MESSAGES,
        scope,
        message.id.as_bytes().to_vec(),
        encode(message),
    );
    let key = message_date_key(message.date_sort, message.id);
    match stored_date.map(|old| message_date_key(old, message.id)) {
        Some(old) if old == key => {}
        Some(old) => {
            batch.delete(MESSAGES_BY_DATE, scope, old);
            batch.put(MESSAGES_BY_DATE, scope, key, Vec::new());
        }
        None => {
            batch.put(MESSAGES_BY_DATE, scope, key, Vec::new());
        }
    }
}

/// Deletes `message` (as stored) and its by-date entry in `batch`.
pub(crate) fn delete_message(batch: &mut Batch, scope: Scope, message: &Message) {
    batch.delete(MESSAGES, scope, message.id.as_bytes().to_vec());
    batch.delete(
        MESSAGES_BY_DATE,
        scope,
        message_date_key(message.date_sort, message.id),
    );
}

/// The prefix of a recovery address's entries in [`RECOVERY_ADDRESSES`]: the
/// lower-case address, then a NUL (which no address holds), so that `a@b.c` is
/// not a prefix of `a@b.cd`.
pub(crate) fn recovery_prefix(address: &str) -> Vec<u8> {
    let mut key = address.trim().to_lowercase().into_bytes();
    key.push(0);
    key
}

/// The entry of `user` under its recovery address (none for an empty address).
pub(crate) fn recovery_key(user: &User) -> Option<Vec<u8>> {
    if user.recovery_email.trim().is_empty() {
        return None;
    }
    let mut key = recovery_prefix(&user.recovery_email);
    key.extend_from_slice(user.id.as_bytes());
    Some(key)
}

/// Where a back-fill stands, logged as it goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackfillProgress {
    pub users: usize,
    pub messages: usize,
}

impl Core {
    /// Back-fills the secondary indexes when the store was written by a version
    /// without them (see the module docs); answers what it did (nothing when they
    /// are complete). Call at start, before requests and deliveries run.
    #[tracing::instrument(skip(self))]
    pub async fn prepare_indexes(&self) -> CoreResult<BackfillProgress> {
        let records = &self.stores().records;
        let mut done = BackfillProgress::default();
        if records
            .get(SYSTEM, Scope::Global, BACKFILLED)
            .await?
            .is_some()
        {
            return Ok(done);
        }
        let mut after = records.get(SYSTEM, Scope::Global, CURSOR).await?;
        if after.is_some() {
            tracing::info!("resuming the back-fill of the message and recovery indexes");
        }
        loop {
            let page = records
                .scan(USERS, Scope::Global, Scan::all(USER_PAGE).after(after))
                .await?;
            for (key, value) in &page.items {
                let user: User = decode(USERS.name, value)?;
                done.messages += self.backfill_user(&user, key).await?;
                done.users += 1;
            }
            tracing::info!(
                users = done.users,
                messages = done.messages,
                "back-filling the message and recovery indexes"
            );
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let mut batch = Batch::new();
        batch.put(
            SYSTEM,
            Scope::Global,
            BACKFILLED.to_vec(),
            codec::encode(&1u32),
        );
        batch.delete(SYSTEM, Scope::Global, CURSOR.to_vec());
        records.write(batch).await?;
        tracing::info!(
            users = done.users,
            messages = done.messages,
            "message and recovery indexes complete"
        );
        Ok(done)
    }

    /// Indexes one user's messages a page at a time, then its recovery address
    /// with the cursor past it. Answers how many messages it indexed.
    async fn backfill_user(&self, user: &User, user_key: &[u8]) -> CoreResult<usize> {
        let records = &self.stores().records;
        let scope = Scope::User(user.id);
        let deleting = user.status == UserStatus::Deleting;
        let mut indexed = 0;
        let mut after = None;
        let mut chunk = 1;
        // A user being deleted has nothing to index: its records are going.
        let mut more = !deleting;
        while more {
            // Message records hold their bodies: pages grow only while they are
            // small, as the message list reads them.
            let page = records
                .scan(MESSAGES, scope, Scan::all(chunk).after(after.take()))
                .await?;
            let bytes = page.items.iter().map(|(_, v)| v.len()).sum();
            chunk = next_chunk(chunk, page.items.len(), bytes);
            let mut batch = Batch::new();
            for (_, value) in &page.items {
                let m: Message = decode(MESSAGES.name, value)?;
                batch.put(
                    MESSAGES_BY_DATE,
                    scope,
                    message_date_key(m.date_sort, m.id),
                    Vec::new(),
                );
            }
            indexed += page.items.len();
            if !batch.is_empty() {
                records.write(batch).await?;
            }
            after = page.next;
            more = after.is_some();
        }
        let mut batch = Batch::new();
        if !deleting && let Some(key) = recovery_key(user) {
            batch.put(RECOVERY_ADDRESSES, Scope::Global, key, Vec::new());
        }
        batch.put(SYSTEM, Scope::Global, CURSOR.to_vec(), user_key.to_vec());
        records.write(batch).await?;
        Ok(indexed)
    }

    /// The newest account whose recovery address is `address` (several accounts
    /// may share one; the original kept the last one registered with it).
    pub(crate) async fn user_by_recovery_address(&self, address: &str) -> CoreResult<Option<User>> {
        let page = self
            .stores()
            .records
            .scan(
                RECOVERY_ADDRESSES,
                Scope::Global,
                Scan::prefix(recovery_prefix(address), 1).reversed(),
            )
            .await?;
        let Some((key, _)) = page.items.first() else {
            return Ok(None);
        };
        let Some(id) = key
            .len()
            .checked_sub(16)
            .and_then(|at| Uuid::from_slice(&key[at..]).ok())
        else {
            return Ok(None);
        };
        match self.user(id).await {
            Ok(user) => Ok(Some(user)),
            Err(crate::CoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
