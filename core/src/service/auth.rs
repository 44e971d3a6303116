//! Login, tokens bound to (user, device), authentication of requests, refresh,
//! logout.
//!
//! Tokens are 32 random bytes; the store keeps only their SHA-256 (as keys and as
//! the per-device pointers), so whoever reads the store or a backup of it holds
//! no usable token. A login or a refresh gives a device one access token and one
//! refresh token, replacing the previous ones; a refresh token works once.
//! Password checks are throttled (see [`super::throttle`]), before any hash.

use std::net::IpAddr;

use base64::Engine as _;
use caliopen_storage_traits::{Batch, Scope};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::validate;
use crate::codec::{Key, decode, encode};
use crate::error::{CoreError, CoreResult};
use crate::model::device::DeviceStatus;
use crate::model::user::UserStatus;
use crate::model::{Device, User};
use crate::tables::DEVICES;
use crate::{Core, now};

const NS_ACCESS: &str = "access";
const NS_DEVICE_TOKEN: &str = "device-token";
const NS_REFRESH: &str = "refresh";
const NS_DEVICE_REFRESH: &str = "device-refresh";

/// Most bytes of a device id (chosen by the client).
pub const MAX_DEVICE_ID: usize = 128;

/// The device a client logs in from, and the address it calls from.
#[derive(Debug, Clone, Default)]
pub struct DeviceInfo {
    pub device_id: String,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub user_agent: String,
    /// The client's address as the protocol server sees it (behind a trusted
    /// proxy, the address the proxy names); throttles count by it.
    pub client: Option<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub user: User,
    pub tokens: Tokens,
    pub device: Device,
}

/// Who is calling, once a request's token checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthContext {
    pub user_id: Uuid,
    pub device_id: String,
    /// Whether the calling device is verified: an unverified one may not act on
    /// the user's other devices.
    pub device_verified: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct AccessEntry {
    device_id: String,
    expires_at: DateTime<Utc>,
}

/// SHA-256 of a token: what the store keeps instead of the token.
pub(crate) fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Core {
    /// Checks credentials and opens a session on a device. Password checks are
    /// throttled per account, per client address and per (account, address); an
    /// unknown username costs the same time and gets the same answer as a wrong
    /// password. A locked user cannot log in.
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        device: DeviceInfo,
    ) -> CoreResult<LoginOutcome> {
        let account = validate::username_input(username)?;
        validate::password_input("password", password)?;
        if device.device_id.len() > MAX_DEVICE_ID {
            return Err(CoreError::invalid(
                "device.device_id",
                format!("must be at most {MAX_DEVICE_ID} bytes long"),
            ));
        }
        let wrong = || CoreError::Unauthenticated("wrong username or password".into());
        let user = self.user_by_name(&account).await?;
        self.check_password(&account, device.client, user.as_ref(), password, wrong())
            .await?;
        let user = user.ok_or_else(wrong)?;
        if user.status != UserStatus::Active {
            return Err(CoreError::Unauthenticated("this account is locked".into()));
        }
        let device = self.register_device(&user, device).await?;
        let tokens = self.issue_tokens(user.id, &device.device_id).await?;
        Ok(LoginOutcome {
            user,
            tokens,
            device,
        })
    }

    /// The caller of a request, when `access_token` is a live token of `user_id`
    /// issued to `device_id`.
    pub async fn authenticate(
        &self,
        user_id: Uuid,
        access_token: &str,
        device_id: &str,
    ) -> CoreResult<AuthContext> {
        let unknown = || CoreError::Unauthenticated("unknown or expired token".into());
        if access_token.len() > validate::MAX_TOKEN {
            return Err(unknown());
        }
        let key = Key::new()
            .uuid(user_id)
            .bytes(&token_digest(access_token))
            .build();
        let entry = self
            .stores()
            .ephemeral
            .get(NS_ACCESS, &key)
            .await?
            .ok_or_else(unknown)?;
        let entry: AccessEntry = decode("ephemeral:access", &entry)?;
        if entry.device_id != device_id {
            return Err(CoreError::Unauthenticated(
                "token was issued to another device".into(),
            ));
        }
        if entry.expires_at <= now() {
            return Err(CoreError::Unauthenticated("token expired".into()));
        }
        let device = self.session_device(user_id, &entry.device_id).await?;
        Ok(AuthContext {
            user_id,
            device_verified: device.status == DeviceStatus::Verified,
            device_id: entry.device_id,
        })
    }

    /// Trades a refresh token for new tokens on the device it was issued to (the
    /// refresh token is used up). Answers as a login does.
    #[tracing::instrument(skip(self, refresh_token))]
    pub async fn refresh(
        &self,
        user_id: Uuid,
        refresh_token: &str,
        device_id: Option<&str>,
    ) -> CoreResult<LoginOutcome> {
        let unknown = || CoreError::Unauthenticated("unknown or expired refresh token".into());
        if refresh_token.is_empty() || refresh_token.len() > validate::MAX_TOKEN {
            return Err(unknown());
        }
        let eph = &self.stores().ephemeral;
        let key = Key::new()
            .uuid(user_id)
            .bytes(&token_digest(refresh_token))
            .build();
        let entry: AccessEntry = match eph.get(NS_REFRESH, &key).await? {
            Some(bytes) => decode("ephemeral:refresh", &bytes)?,
            None => return Err(unknown()),
        };
        if entry.expires_at <= now() {
            return Err(unknown());
        }
        if device_id.is_some_and(|d| d != entry.device_id) {
            return Err(CoreError::Unauthenticated(
                "refresh token was issued to another device".into(),
            ));
        }
        // Used once: deleted before new tokens exist, so two concurrent uses cannot
        // both find it live for long (and `issue_tokens` replaces the pair anyway).
        eph.delete(NS_REFRESH, &key).await?;
        let device = self.session_device(user_id, &entry.device_id).await?;
        let user = self.user(user_id).await?;
        let tokens = self.issue_tokens(user_id, &device.device_id).await?;
        Ok(LoginOutcome {
            user,
            tokens,
            device,
        })
    }

    /// The device of a session, when the user is active and the device not revoked.
    async fn session_device(&self, user_id: Uuid, device_id: &str) -> CoreResult<Device> {
        let user = self.user(user_id).await.map_err(|e| match e {
            CoreError::NotFound { .. } => CoreError::Unauthenticated("unknown user".into()),
            e => e,
        })?;
        if user.status != UserStatus::Active {
            return Err(CoreError::Unauthenticated("this account is locked".into()));
        }
        // A revoked device's tokens are deleted at revocation; this also covers a
        // revocation whose token deletion failed.
        match self.device(user_id, device_id).await {
            Ok(d) if d.status != DeviceStatus::Revoked => Ok(d),
            Ok(_) => Err(CoreError::Unauthenticated("this device was revoked".into())),
            Err(CoreError::NotFound { .. }) => {
                Err(CoreError::Unauthenticated("unknown device".into()))
            }
            Err(e) => Err(e),
        }
    }

    /// Ends the session of a device: its access and refresh tokens stop working at
    /// once.
    #[tracing::instrument(skip(self))]
    pub async fn logout(&self, user_id: Uuid, device_id: &str) -> CoreResult<()> {
        let eph = &self.stores().ephemeral;
        let device_key = Key::new().uuid(user_id).str(device_id).build();
        for (pointer, tokens) in [
            (NS_DEVICE_TOKEN, NS_ACCESS),
            (NS_DEVICE_REFRESH, NS_REFRESH),
        ] {
            if let Some(digest) = eph.get(pointer, &device_key).await? {
                eph.delete(tokens, &Key::new().uuid(user_id).bytes(&digest).build())
                    .await?;
            }
            eph.delete(pointer, &device_key).await?;
        }
        Ok(())
    }

    /// Ends the sessions of every device of the user but `keep`.
    pub(crate) async fn end_sessions(&self, user_id: Uuid, keep: Option<&str>) -> CoreResult<()> {
        for device in self.devices(user_id).await? {
            if Some(device.device_id.as_str()) != keep {
                self.logout(user_id, &device.device_id).await?;
            }
        }
        Ok(())
    }

    async fn issue_tokens(&self, user_id: Uuid, device_id: &str) -> CoreResult<Tokens> {
        // One live pair per device: logging in again replaces the previous one.
        self.logout(user_id, device_id).await?;
        let cfg = self.config();
        let access_token = random_token();
        let refresh_token = random_token();
        let expiry =
            |ttl| now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(1));
        let expires_at = expiry(cfg.token_ttl);
        let eph = &self.stores().ephemeral;
        let device_key = Key::new().uuid(user_id).str(device_id).build();
        for (token, ttl, expires_at, tokens, pointer) in [
            (
                &access_token,
                cfg.token_ttl,
                expires_at,
                NS_ACCESS,
                NS_DEVICE_TOKEN,
            ),
            (
                &refresh_token,
                cfg.auth.refresh_token_ttl,
                expiry(cfg.auth.refresh_token_ttl),
                NS_REFRESH,
                NS_DEVICE_REFRESH,
            ),
        ] {
            let digest = token_digest(token);
            let entry = AccessEntry {
                device_id: device_id.to_owned(),
                expires_at,
            };
            eph.put(
                tokens,
                &Key::new().uuid(user_id).bytes(&digest).build(),
                &encode(&entry),
                ttl,
            )
            .await?;
            eph.put(pointer, &device_key, &digest, ttl).await?;
        }
        Ok(Tokens {
            access_token,
            refresh_token,
            expires_in: cfg.token_ttl.as_secs(),
            expires_at,
        })
    }

    /// The device with this id, registered now if the user never used it or
    /// revoked it: the first device of a user (no other live one) is verified,
    /// later ones start unverified (`py/user/user.py` `AuthenticationAPI`, where a
    /// deleted device was simply created again). A login names its device: none
    /// is refused, as the original refused it ("No device informations").
    async fn register_device(&self, user: &User, info: DeviceInfo) -> CoreResult<Device> {
        let device_id = info.device_id;
        if device_id.is_empty() {
            return Err(CoreError::invalid(
                "device",
                "is required: a login names the device it is made on (`device.device_id`)",
            ));
        }
        validate::text("device.device_id", &device_id, MAX_DEVICE_ID)?;
        // It comes back in the `X-Caliopen-Device-ID` header: no line breaks.
        if device_id.chars().any(char::is_control) {
            return Err(CoreError::invalid(
                "device.device_id",
                "must not contain control characters",
            ));
        }
        let _guard = self.lock_user(user.id).await;
        let devices = self.devices(user.id).await?;
        if let Some(existing) = devices.iter().find(|d| d.device_id == device_id)
            && existing.status != DeviceStatus::Revoked
        {
            return Ok(existing.clone());
        }
        let first = devices.iter().all(|d| d.status == DeviceStatus::Revoked);
        let device = Device {
            device_id: device_id.clone(),
            user_id: user.id,
            name: info.name.unwrap_or_else(|| {
                if first {
                    "default".into()
                } else {
                    format!("device {device_id}")
                }
            }),
            kind: info.kind.unwrap_or_else(|| "other".into()),
            status: if first {
                DeviceStatus::Verified
            } else {
                DeviceStatus::Unverified
            },
            ip_creation: info.client.map(|ip| ip.to_string()).unwrap_or_default(),
            user_agent: info.user_agent,
            locations: Vec::new(),
            pi: Default::default(),
            date_insert: now(),
            date_revoked: None,
        };
        let mut batch = Batch::new();
        batch.put(
            DEVICES,
            Scope::User(user.id),
            device_id.into_bytes(),
            encode(&device),
        );
        self.stores().records.write(batch).await?;
        Ok(device)
    }

    /// One of the user's devices.
    pub async fn device(&self, user_id: Uuid, device_id: &str) -> CoreResult<Device> {
        if device_id.len() > MAX_DEVICE_ID {
            return Err(CoreError::not_found("device", "(too long an id)"));
        }
        let bytes = self
            .stores()
            .records
            .get(DEVICES, Scope::User(user_id), device_id.as_bytes())
            .await?
            .ok_or_else(|| CoreError::not_found("device", device_id))?;
        decode(DEVICES.name, &bytes)
    }

    /// The user's devices, by id.
    pub async fn devices(&self, user_id: Uuid) -> CoreResult<Vec<Device>> {
        let page = self
            .stores()
            .records
            .scan(
                DEVICES,
                Scope::User(user_id),
                caliopen_storage_traits::Scan::all(1000),
            )
            .await?;
        page.items
            .iter()
            .map(|(_, v)| decode(DEVICES.name, v))
            .collect()
    }
}

/// 32 random bytes, URL-safe base64 without padding.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
