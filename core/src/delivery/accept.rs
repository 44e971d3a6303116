//! Durable acceptance of inbound mail, before any acknowledgement. The raw mail comes in
//! memory or, when a protocol server spooled a large one to disk while it arrived, as a file
//! ([`BlobSource`]) that the blob store reads when it stores it.

pub use caliopen_storage_traits::BlobSource;
use caliopen_storage_traits::{Batch, BlobId, Scope};
use chrono::{DateTime, Utc};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::express::Arrival as Announced;
use super::import::ImportedMail;
use super::port::Arrival;
use crate::blob_refs::add_ref;
use crate::codec::encode;
use crate::error::{CoreError, CoreResult};
use crate::tables::DELIVERIES;
use crate::{Core, now};

/// A recipient address resolved to the user (and identity) that receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub address: String,
    pub user_id: Uuid,
    pub identity_id: Uuid,
}

/// A mail accepted for one recipient and not yet turned into a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDelivery {
    pub id: Uuid,
    pub user_id: Uuid,
    pub identity_id: Uuid,
    /// The raw mail blob.
    pub raw: BlobRef,
    pub size: u64,
    pub envelope_from: String,
    /// The SMTP client that spoke to us directly (none behind an MTA, and in
    /// records written before it was kept).
    #[serde(default)]
    pub client: Option<SmtpClient>,
    pub received_at: DateTime<Utc>,
    /// Set for mail brought in by an import, with what its source said about it.
    #[serde(default)]
    pub import: Option<ImportedMail>,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

/// The SMTP client of a mail received directly (SMTP mode), for SPF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpClient {
    pub ip: IpAddr,
    /// The EHLO/HELO name it gave, at most [`MAX_HELO`] bytes.
    pub helo: String,
}

/// Longest HELO name kept (a domain name is at most 255 octets).
pub const MAX_HELO: usize = 255;

impl PendingDelivery {
    /// How the mail arrived, for the mail processor.
    pub fn arrival(&self) -> Arrival {
        Arrival {
            // Imported mail was received when its source says (an mbox From line),
            // which the broker takes for a mail without a Date.
            received_at: self
                .import
                .as_ref()
                .and_then(|i| i.source_date)
                .unwrap_or(self.received_at),
            mail_from: self.envelope_from.clone(),
            client: self.client.as_ref().map(|c| (c.ip, c.helo.clone())),
            imported: self.import.is_some(),
        }
    }
}

/// A blob id in records (hex).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlobRef(pub BlobId);

impl Serialize for BlobRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for BlobRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map(BlobRef).map_err(serde::de::Error::custom)
    }
}

impl Core {
    /// The user that receives mail for `address`, if any.
    pub async fn resolve_recipient(&self, address: &str) -> CoreResult<Option<Recipient>> {
        // No identity has a longer address: unknown, without a read.
        if address.trim().len() > crate::limits::MAX_ADDRESS_BYTES {
            return Ok(None);
        }
        Ok(self.resolve_address(address).await?.map(|r| Recipient {
            address: address.trim().to_lowercase(),
            user_id: r.user_id,
            identity_id: r.identity_id,
        }))
    }

    /// Stores a raw mail and one pending delivery per recipient, durably. When this
    /// returns `Ok`, the mail may be acknowledged: it will become a message for
    /// every recipient, or be quarantined with its reason, even across a crash.
    pub async fn accept_mail(
        &self,
        raw: &[u8],
        envelope_from: &str,
        recipients: &[Recipient],
    ) -> CoreResult<Vec<Uuid>> {
        self.accept_mail_from(
            BlobSource::Memory(raw.to_vec()),
            envelope_from,
            None,
            recipients,
        )
        .await
    }

    /// [`Core::accept_mail`] with the raw mail in memory or in a spool file (same
    /// checks, same durability), and the SMTP client that spoke to us directly when
    /// there is one, kept with the deliveries for SPF (checked at delivery, not
    /// before the 250).
    #[tracing::instrument(skip(self, raw, recipients), fields(size = raw.len(), recipients = recipients.len()))]
    pub async fn accept_mail_from(
        &self,
        raw: BlobSource,
        envelope_from: &str,
        client: Option<SmtpClient>,
        recipients: &[Recipient],
    ) -> CoreResult<Vec<Uuid>> {
        self.accept(raw, envelope_from, client, recipients, None)
            .await
    }

    /// The one acceptance: the raw mail and its pending deliveries, durably, then the
    /// workers are woken. `import` marks mail brought in by an import.
    pub(crate) async fn accept(
        &self,
        raw: BlobSource,
        envelope_from: &str,
        client: Option<SmtpClient>,
        recipients: &[Recipient],
        import: Option<ImportedMail>,
    ) -> CoreResult<Vec<Uuid>> {
        let client = client.map(|mut c| {
            if c.helo.len() > MAX_HELO {
                let mut end = MAX_HELO;
                while !c.helo.is_char_boundary(end) {
                    end -= 1;
                }
                c.helo.truncate(end);
            }
            c
        });
        if recipients.is_empty() {
            return Err(CoreError::invalid(
                "recipients",
                "at least one recipient is needed",
            ));
        }
        if raw.is_empty() {
            return Err(CoreError::invalid("message", "the mail is empty"));
        }
        let received_at = now();
        let mut targets = Vec::with_capacity(recipients.len());
        for r in recipients {
            // Two addresses of the same user give one delivery.
            if targets.iter().all(|&(_, user, _)| user != r.user_id) {
                targets.push((Uuid::now_v7(), r.user_id, r.identity_id));
            }
        }
        let ids = targets.iter().map(|&(id, _, _)| id).collect();
        let arrivals: Vec<Announced> = targets
            .iter()
            .map(|&(id, user, _)| Announced { id, user })
            .collect();
        let (size, envelope_from) = (raw.len(), envelope_from.to_owned());
        let deliveries = move |blob| {
            let mut batch = Batch::new();
            for (id, user_id, identity_id) in targets {
                let pending = PendingDelivery {
                    id,
                    user_id,
                    identity_id,
                    raw: BlobRef(blob),
                    size,
                    envelope_from: envelope_from.clone(),
                    client: client.clone(),
                    received_at,
                    import: import.clone(),
                    attempts: 0,
                    next_attempt_at: received_at,
                    last_error: None,
                };
                batch.put(
                    DELIVERIES,
                    Scope::Global,
                    id.as_bytes().to_vec(),
                    encode(&pending),
                );
                add_ref(&mut batch, blob);
            }
            batch
        };
        // The deliveries are never durable without the raw mail they point at (one
        // write where the store allows it, else the blob first).
        let stores = self.stores();
        stores
            .blobs
            .put_source_then_write(raw, stores.records.as_ref(), Box::new(deliveries))
            .await?;
        self.inner.arrivals.announce(arrivals);
        self.inner.delivery_wake.notify_one();
        Ok(ids)
    }

    /// How many deliveries are waiting to be processed.
    pub async fn pending_deliveries(&self) -> CoreResult<Vec<PendingDelivery>> {
        self.scan_decoded(DELIVERIES, Scope::Global).await
    }
}
