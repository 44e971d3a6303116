//! Devices: list, patch, revoke, and validation of a new device by a mailed token.
//!
//! Deleting a device revokes it: the record stays with status `revoked` and its
//! token is deleted at once; logging in again from it registers it anew, as an
//! unverified device (the original deleted the record, so the same device came
//! back unverified). A new device starts unverified; the user proves it is theirs
//! with a token core creates here (an ephemeral value with a TTL, one live per
//! device, used once) and mails, as the original did, to the user's recovery
//! address: through the outbound queue, or through the delivery path when that
//! address is a mailbox of this server. Not to the user's own mailbox: the new
//! device can read it, so a token found there would prove nothing.
//! [`Core::validate_device`] checks the token. The store keeps its digest only.
//!
//! An unverified device may revoke itself but no other device (as the original web
//! client offers: revoking another device takes a verified one), so whoever logs
//! in with a stolen password cannot throw the owner's devices out.

use caliopen_storage_traits::{Batch, Scope};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::auth::{AuthContext, random_token, token_digest};
use super::patch::{self, MergePatch, field, renamed};
use super::validate;
use crate::codec::{Key, decode, encode};
use crate::error::{CoreError, CoreResult};
use crate::model::Device;
use crate::model::device::{DEVICE_KINDS, DeviceStatus};
use crate::outbound::notice::Notice;
use crate::tables::DEVICES;
use crate::{Core, now};

const NS_DEVICE_VALIDATION: &str = "device-validation";
/// (user, device) → the digest of the device's live token, so a new request
/// replaces it.
const NS_DEVICE_VALIDATION_BY_DEVICE: &str = "device-validation-device";

/// A validation token for a device, to be sent to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceValidation {
    pub token: String,
    pub device_id: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ValidationEntry {
    user_id: Uuid,
    device_id: String,
}

const DEVICE_FIELDS: &[patch::Field] = &[field("name"), renamed("type", "kind")];

impl Core {
    /// The user's devices that are not revoked, by id.
    pub async fn list_devices(&self, user_id: Uuid) -> CoreResult<Vec<Device>> {
        let mut devices = self.devices(user_id).await?;
        devices.retain(|d| d.status != DeviceStatus::Revoked);
        Ok(devices)
    }

    /// Changes a device's `name` and `type` by merge patch, checked against `current_state`.
    #[tracing::instrument(skip(self, patch))]
    pub async fn patch_device(
        &self,
        user_id: Uuid,
        device_id: &str,
        patch: &MergePatch,
    ) -> CoreResult<Device> {
        let _guard = self.lock_user(user_id).await;
        let stored = self.live_device(user_id, device_id).await?;
        if patch.changes_nothing() {
            return Ok(stored);
        }
        let mut device: Device = patch::apply(&stored, patch, DEVICE_FIELDS)?;
        device.name = device.name.trim().to_owned();
        if device.name.is_empty() {
            return Err(CoreError::invalid("name", "is required"));
        }
        validate::text("name", &device.name, 128)?;
        if !DEVICE_KINDS.contains(&device.kind.as_str()) {
            return Err(CoreError::invalid(
                "type",
                format!("must be one of {}", DEVICE_KINDS.join(", ")),
            ));
        }
        self.write_device(&device).await?;
        Ok(device)
    }

    /// Revokes a device as `caller` (`DELETE /v2/devices/{id}`): its own device, or
    /// another one when the caller's device is verified.
    pub async fn revoke_device_as(&self, caller: &AuthContext, device_id: &str) -> CoreResult<()> {
        if !caller.device_verified && device_id != caller.device_id {
            return Err(CoreError::Forbidden(
                "this device is not verified: only a verified device may revoke another \
                 one (this device may revoke itself)"
                    .into(),
            ));
        }
        self.revoke_device(caller.user_id, device_id).await
    }

    /// Revokes one of the user's devices: its token stops working at once and it
    /// cannot log in again.
    #[tracing::instrument(skip(self))]
    pub async fn revoke_device(&self, user_id: Uuid, device_id: &str) -> CoreResult<()> {
        let _guard = self.lock_user(user_id).await;
        let mut device = self.live_device(user_id, device_id).await?;
        device.status = DeviceStatus::Revoked;
        device.date_revoked = Some(now());
        self.write_device(&device).await?;
        self.logout(user_id, device_id).await
    }

    /// Creates the token that validates one of the user's unverified devices and
    /// mails it to the user's recovery address (see the module docs); a new
    /// request replaces the device's previous token (as the original's did), each
    /// token works once until it expires. The answer carries the token for the
    /// caller's logs of what was sent, never for a client.
    #[tracing::instrument(skip(self))]
    pub async fn request_device_validation(
        &self,
        user_id: Uuid,
        device_id: &str,
    ) -> CoreResult<DeviceValidation> {
        let _guard = self.lock_user(user_id).await;
        let user = self.user(user_id).await?;
        let device = self.live_device(user_id, device_id).await?;
        if device.status == DeviceStatus::Verified {
            return Err(CoreError::Conflict(format!(
                "device `{device_id}` is already verified"
            )));
        }
        let ttl = self.config().device_validation_ttl;
        let token = random_token();
        let digest = token_digest(&token);
        let entry = ValidationEntry {
            user_id,
            device_id: device_id.to_owned(),
        };
        let eph = &self.stores().ephemeral;
        let pointer = Key::new().uuid(user_id).str(device_id).build();
        if let Some(previous) = eph.get(NS_DEVICE_VALIDATION_BY_DEVICE, &pointer).await? {
            eph.delete(NS_DEVICE_VALIDATION, &previous).await?;
        }
        eph.put(NS_DEVICE_VALIDATION, &digest, &encode(&entry), ttl)
            .await?;
        eph.put(NS_DEVICE_VALIDATION_BY_DEVICE, &pointer, &digest, ttl)
            .await?;
        let hours = ttl.as_secs().div_ceil(3600);
        let domain = &self.config().default_domain;
        let body = format!(
            "A new device, `{name}`, signed in to the account `{username}` on {domain}.\n\n\
             If that is you, confirm the device within {hours} hours: open\n\
             /validate-device/<token> in your Caliopen web client while signed in to\n\
             that account (GET /api/v2/validate-device/<token>), with this token:\n\n    {token}\n\n\
             If it is not you, someone knows your password: change it, and delete the\n\
             device `{name}` from the devices of your account.\n",
            name = device.name,
            username = user.username,
        );
        self.send_notice(Notice {
            user_id,
            to: user.recovery_email.clone(),
            subject: format!("Confirm the new device of {}", user.username),
            body,
        })
        .await?;
        tracing::info!(device_id, "device validation token mailed");
        Ok(DeviceValidation {
            token,
            device_id: device_id.to_owned(),
            expires_at: now()
                + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(1)),
        })
    }

    /// Validates the device a token was created for (`GET /v2/validate-device/{token}`),
    /// when it is one of `user_id`'s (as the original bound a token to its user).
    /// The token works once; an unknown, expired or another user's one is not found.
    #[tracing::instrument(skip(self, token))]
    pub async fn validate_device(&self, user_id: Uuid, token: &str) -> CoreResult<Device> {
        validate::token("token", token)?;
        let not_found = || CoreError::not_found("device validation token", "(given)");
        let eph = &self.stores().ephemeral;
        let key = token_digest(token);
        let entry: ValidationEntry = match eph.get(NS_DEVICE_VALIDATION, &key).await? {
            Some(bytes) => decode("ephemeral:device-validation", &bytes)?,
            None => return Err(not_found()),
        };
        if entry.user_id != user_id {
            return Err(not_found());
        }
        let _guard = self.lock_user(entry.user_id).await;
        let mut device = match self.live_device(entry.user_id, &entry.device_id).await {
            Err(CoreError::NotFound { .. }) => return Err(not_found()),
            other => other?,
        };
        device.status = DeviceStatus::Verified;
        self.write_device(&device).await?;
        eph.delete(NS_DEVICE_VALIDATION, &key).await?;
        let pointer = Key::new().uuid(user_id).str(&entry.device_id).build();
        eph.delete(NS_DEVICE_VALIDATION_BY_DEVICE, &pointer).await?;
        Ok(device)
    }

    /// One of the user's devices that is not revoked (what `GET /v2/devices/{id}`
    /// answers; [`Core::device`] also answers revoked ones).
    pub async fn live_device(&self, user_id: Uuid, device_id: &str) -> CoreResult<Device> {
        let device = self.device(user_id, device_id).await?;
        if device.status == DeviceStatus::Revoked {
            return Err(CoreError::not_found("device", device_id));
        }
        Ok(device)
    }

    async fn write_device(&self, device: &Device) -> CoreResult<()> {
        let mut batch = Batch::new();
        batch.put(
            DEVICES,
            Scope::User(device.user_id),
            device.device_id.as_bytes().to_vec(),
            encode(device),
        );
        Ok(self.stores().records.write(batch).await?)
    }
}
