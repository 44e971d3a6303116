//! Mail brought in from a mailbox export (`caliopen import`): the same durable
//! acceptance and the same processing as delivered mail, with what the source said
//! about each mail (read, answered, flagged, its date) kept with the pending delivery.
//!
//! Idempotence comes from the one dedup of the pipeline: a mail is its raw bytes
//! (the blob id is their SHA-256), and the same (user, raw mail) gives one message.
//! [`Core::import_mail`] answers [`ImportOutcome::AlreadyPresent`] without storing
//! anything when the user has the message already; a mail accepted by an import
//! that was stopped before its delivery was processed is accepted again, and the
//! second delivery folds into the first message when processed.
//!
//! Imported mail, like delivered mail, is ordered by its own date (see [`Placed`]).

use caliopen_storage_traits::{BlobId, BlobSource};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::{NoContext, Timestamp, Uuid};

use super::PendingDelivery;
use super::accept::Recipient;
use crate::Core;
use crate::error::{CoreError, CoreResult};

/// What the source of an imported mail said about it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedMail {
    /// The date the source gave (an mbox `From ` line), used when the mail has no
    /// usable `Date`.
    #[serde(default)]
    pub source_date: Option<DateTime<Utc>>,
    /// Read already (maildir `S`, mbox `Status: R`): stored as read.
    #[serde(default)]
    pub read: bool,
    /// Answered (maildir `R`, mbox `X-Status: A`): stored as answered.
    #[serde(default)]
    pub answered: bool,
    /// Flagged (maildir `F`, mbox `X-Status: F`): stored with the `important` tag.
    #[serde(default)]
    pub flagged: bool,
}

/// What became of one imported mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Stored durably and queued for processing (the delivery's id).
    Accepted(Uuid),
    /// The user already has a message made of these bytes (its id).
    AlreadyPresent(Uuid),
}

/// Where a delivered message goes: its id, dates and state.
///
/// A received mail is ordered by the date it carries: `date_sort` (what lists and
/// discussions are ordered and dated by) and the message id (a UUID v7 of that
/// instant, so storage order is date order) come from its `Date`; for imported
/// mail without one, from the date its source gave (an mbox `From ` line); else
/// from its reception. The broker already takes the reception time for a missing
/// or unparsable `Date`, as the original's parser did (`caliopen_main/message/
/// parsers/mail.py`, `date`). The original itself sorted received mail by its
/// reception (`caliopen_nats/delivery.py`: `date_sort = date_insert`), which puts
/// a whole import at "now": a deliberate difference (docs/api-compatibility.md
/// D7). The date is bounded: never after the reception (a `Date` in the future,
/// a sender's wish or a wrong clock, would otherwise pin its discussion to the
/// top of the inbox until then) and never before the Unix epoch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placed {
    pub id: Uuid,
    pub date: DateTime<Utc>,
    pub date_sort: DateTime<Utc>,
    pub unread: bool,
    pub answered: bool,
    pub flagged: bool,
}

impl Placed {
    /// Where `pending` goes, its mail carrying `header_date` (see the type's docs).
    pub(crate) fn of(pending: &PendingDelivery, header_date: Option<DateTime<Utc>>) -> Self {
        let import = pending.import.as_ref();
        let date = header_date
            .or(import.and_then(|i| i.source_date))
            .unwrap_or(pending.received_at);
        let date_sort = sort_date(date, pending.received_at);
        Self {
            id: id_at(date_sort),
            date,
            date_sort,
            unread: import.is_none_or(|i| !i.read),
            answered: import.is_some_and(|i| i.answered),
            flagged: import.is_some_and(|i| i.flagged),
        }
    }
}

/// `date` bounded to the Unix epoch .. `received_at` (see [`Placed`]).
fn sort_date(date: DateTime<Utc>, received_at: DateTime<Utc>) -> DateTime<Utc> {
    date.min(received_at).max(DateTime::UNIX_EPOCH)
}

/// A fresh UUID v7 of the instant `at` (at or after the epoch).
fn id_at(at: DateTime<Utc>) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    let ts = Timestamp::from_unix(
        NoContext,
        millis / 1000,
        u32::try_from(millis % 1000).unwrap_or(0) * 1_000_000,
    );
    Uuid::new_v7(ts)
}

impl Core {
    /// The recipient an import for `username` delivers to: the user's local identity.
    pub async fn import_recipient(&self, username: &str) -> CoreResult<Recipient> {
        let user = self
            .user_by_name(username)
            .await?
            .ok_or_else(|| CoreError::not_found("user", username))?;
        self.resolve_recipient(&user.local_identity)
            .await?
            .ok_or_else(|| CoreError::not_found("identity", &user.local_identity))
    }

    /// Imports one raw mail (at most the listener's message size: the caller checks)
    /// for `recipient` (see [`Core::import_recipient`]): nothing
    /// is stored when the user has it already; otherwise the mail is accepted as
    /// delivered mail is, and processed by the delivery workers.
    #[tracing::instrument(skip_all, fields(user = %recipient.user_id, size = raw.len()))]
    pub async fn import_mail(
        &self,
        recipient: &Recipient,
        raw: Vec<u8>,
        envelope_from: &str,
        imported: ImportedMail,
    ) -> CoreResult<ImportOutcome> {
        let blob = BlobId::of(&raw);
        if let Some(existing) = self.message_for_blob(recipient.user_id, &blob).await? {
            return Ok(ImportOutcome::AlreadyPresent(existing));
        }
        let ids = self
            .accept(
                BlobSource::Memory(raw),
                envelope_from,
                None,
                std::slice::from_ref(recipient),
                Some(imported),
            )
            .await?;
        Ok(ImportOutcome::Accepted(
            ids.first().copied().unwrap_or_default(),
        ))
    }
}
