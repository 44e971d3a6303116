//! Notifications: persisted events the user's clients poll for. Each has a TTL
//! class ([`TtlClass`]); an expired notification is never answered, and is
//! removed by the next deletion that passes over it.

use caliopen_storage_traits::{Batch, Scan, Scope};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::validate;
use crate::codec::{decode, encode};
use crate::error::{CoreError, CoreResult};
use crate::model::Notification;
use crate::model::notification::TtlClass;
use crate::tables::NOTIFICATIONS;
use crate::{Core, now};

/// A notification another part of Caliopen emits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    /// `delivery`, `outbound`, `devices`, ...
    pub emitter: String,
    /// `event`, `info`, `alert`, ...
    pub kind: String,
    pub reference: String,
    pub body: String,
    pub ttl: TtlClass,
}

impl Core {
    /// Stores a notification for a user.
    #[tracing::instrument(skip(self, new), fields(emitter = %new.emitter))]
    pub async fn notify(&self, user_id: Uuid, new: NewNotification) -> CoreResult<Notification> {
        self.user(user_id).await?;
        let notification = notification(user_id, new)?;
        let mut batch = Batch::new();
        put_notification(&mut batch, &notification);
        self.stores().records.write(batch).await?;
        Ok(notification)
    }

    /// The user's live notifications, newest first: a page and how many there are.
    pub async fn list_notifications(
        &self,
        user_id: Uuid,
        limit: usize,
        offset: usize,
    ) -> CoreResult<(u64, Vec<Notification>)> {
        let date = now();
        let mut live: Vec<Notification> = self
            .scan_all::<Notification>(user_id, NOTIFICATIONS)
            .await?
            .into_iter()
            .filter(|n| n.expires_at > date)
            .collect();
        live.reverse();
        let total = live.len() as u64;
        Ok((total, live.into_iter().skip(offset).take(limit).collect()))
    }

    /// One of the user's live notifications.
    pub async fn notification(
        &self,
        user_id: Uuid,
        notification_id: Uuid,
    ) -> CoreResult<Notification> {
        let bytes = self
            .stores()
            .records
            .get(
                NOTIFICATIONS,
                Scope::User(user_id),
                notification_id.as_bytes(),
            )
            .await?
            .ok_or_else(|| CoreError::not_found("notification", notification_id))?;
        let n: Notification = decode(NOTIFICATIONS.name, &bytes)?;
        if n.expires_at <= now() {
            return Err(CoreError::not_found("notification", notification_id));
        }
        Ok(n)
    }

    /// Deletes one of the user's notifications.
    #[tracing::instrument(skip(self))]
    pub async fn delete_notification(
        &self,
        user_id: Uuid,
        notification_id: Uuid,
    ) -> CoreResult<()> {
        self.notification(user_id, notification_id).await?;
        let mut batch = Batch::new();
        batch.delete(
            NOTIFICATIONS,
            Scope::User(user_id),
            notification_id.as_bytes().to_vec(),
        );
        Ok(self.stores().records.write(batch).await?)
    }

    /// Deletes the user's notifications inserted before `until` (all when none),
    /// expired ones included; answers how many live ones were deleted. Large
    /// sets go in several batches: each leaves a consistent state.
    #[tracing::instrument(skip(self))]
    pub async fn delete_notifications(
        &self,
        user_id: Uuid,
        until: Option<DateTime<Utc>>,
    ) -> CoreResult<u64> {
        let scope = Scope::User(user_id);
        let date = now();
        let mut deleted = 0u64;
        let mut after = None;
        loop {
            let page = self
                .stores()
                .records
                .scan(NOTIFICATIONS, scope, Scan::all(Batch::MAX_OPS).after(after))
                .await?;
            let mut batch = Batch::new();
            for (key, value) in &page.items {
                let n: Notification = decode(NOTIFICATIONS.name, value)?;
                if until.is_some_and(|u| n.date_insert >= u) {
                    continue;
                }
                if n.expires_at > date {
                    deleted += 1;
                }
                batch.delete(NOTIFICATIONS, scope, key.clone());
            }
            if !batch.is_empty() {
                self.stores().records.write(batch).await?;
            }
            match page.next {
                Some(n) => after = Some(n),
                None => return Ok(deleted),
            }
        }
    }
}

/// A validated notification of `user_id`, not written yet (see [`put_notification`]).
pub(crate) fn notification(user_id: Uuid, new: NewNotification) -> CoreResult<Notification> {
    for (field, value, max) in [
        ("emitter", &new.emitter, 64),
        ("type", &new.kind, 64),
        ("reference", &new.reference, 256),
        ("body", &new.body, 4096),
    ] {
        validate::text(field, value, max)?;
    }
    if new.emitter.is_empty() {
        return Err(CoreError::invalid("emitter", "is required"));
    }
    let date = now();
    Ok(Notification {
        id: Uuid::now_v7(),
        user_id,
        emitter: new.emitter,
        kind: new.kind,
        reference: new.reference,
        body: new.body,
        date_insert: date,
        expires_at: date + new.ttl.duration(),
        ttl_class: new.ttl,
    })
}

/// Adds `notification` to `batch`, so that it is written with what it reports.
pub(crate) fn put_notification(batch: &mut Batch, notification: &Notification) {
    batch.put(
        NOTIFICATIONS,
        Scope::User(notification.user_id),
        notification.id.as_bytes().to_vec(),
        encode(notification),
    );
}
