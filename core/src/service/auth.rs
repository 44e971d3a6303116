//! Login, tokens bound to (user, device), authentication of requests, logout.

use base64::Engine as _;
use caliopen_storage_traits::{Batch, Scope};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
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
const NS_LOGIN_RATE: &str = "login-failures";
pub(crate) const NS_LOGIN_BLOCK: &str = "login-blocked";

/// The device a client logs in from.
#[derive(Debug, Clone, Default)]
pub struct DeviceInfo {
    pub device_id: String,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub user_agent: String,
    pub ip: String,
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
}

#[derive(Debug, Serialize, Deserialize)]
struct AccessEntry {
    device_id: String,
    expires_at: DateTime<Utc>,
}

impl Core {
    /// Checks credentials and opens a session on a device. Failed attempts per
    /// username are rate-limited; a locked user cannot log in.
    #[tracing::instrument(skip_all, fields(username = %username))]
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        device: DeviceInfo,
    ) -> CoreResult<LoginOutcome> {
        let rate_key = username.to_lowercase();
        let eph = &self.stores().ephemeral;
        let cfg = self.config();
        if eph
            .get(NS_LOGIN_BLOCK, rate_key.as_bytes())
            .await?
            .is_some()
        {
            return Err(CoreError::RateLimited {
                retry_after_secs: cfg.login_window.as_secs(),
            });
        }
        let user = match self.user_by_name(username).await? {
            Some(user) if self.verify_password(&user, password).await? => user,
            _ => {
                let n = eph
                    .increment(NS_LOGIN_RATE, rate_key.as_bytes(), cfg.login_window)
                    .await?;
                if n >= cfg.login_attempts {
                    eph.put(NS_LOGIN_BLOCK, rate_key.as_bytes(), b"1", cfg.login_window)
                        .await?;
                    return Err(CoreError::RateLimited {
                        retry_after_secs: cfg.login_window.as_secs(),
                    });
                }
                return Err(CoreError::Unauthenticated(
                    "wrong username or password".into(),
                ));
            }
        };
        if user.status != UserStatus::Active {
            return Err(CoreError::Unauthenticated("this account is locked".into()));
        }
        let device = self.register_device(&user, device).await?;
        if device.status == DeviceStatus::Revoked {
            return Err(CoreError::Unauthenticated("this device was revoked".into()));
        }
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
        let key = Key::new()
            .uuid(user_id)
            .bytes(access_token.as_bytes())
            .build();
        let entry = self
            .stores()
            .ephemeral
            .get(NS_ACCESS, &key)
            .await?
            .ok_or_else(|| CoreError::Unauthenticated("unknown or expired token".into()))?;
        let entry: AccessEntry = decode("ephemeral:access", &entry)?;
        if entry.device_id != device_id {
            return Err(CoreError::Unauthenticated(
                "token was issued to another device".into(),
            ));
        }
        if entry.expires_at <= now() {
            return Err(CoreError::Unauthenticated("token expired".into()));
        }
        let user = self.user(user_id).await.map_err(|e| match e {
            CoreError::NotFound { .. } => CoreError::Unauthenticated("unknown user".into()),
            e => e,
        })?;
        if user.status != UserStatus::Active {
            return Err(CoreError::Unauthenticated("this account is locked".into()));
        }
        // A revoked device's token is deleted at revocation; this also covers a
        // revocation whose token deletion failed.
        match self.device(user_id, &entry.device_id).await {
            Ok(d) if d.status != DeviceStatus::Revoked => {}
            Ok(_) => return Err(CoreError::Unauthenticated("this device was revoked".into())),
            Err(CoreError::NotFound { .. }) => {
                return Err(CoreError::Unauthenticated("unknown device".into()));
            }
            Err(e) => return Err(e),
        }
        Ok(AuthContext {
            user_id,
            device_id: entry.device_id,
        })
    }

    /// Ends the session of a device: its token stops working at once.
    #[tracing::instrument(skip(self))]
    pub async fn logout(&self, user_id: Uuid, device_id: &str) -> CoreResult<()> {
        let eph = &self.stores().ephemeral;
        let device_key = Key::new().uuid(user_id).str(device_id).build();
        if let Some(token) = eph.get(NS_DEVICE_TOKEN, &device_key).await? {
            eph.delete(NS_ACCESS, &Key::new().uuid(user_id).bytes(&token).build())
                .await?;
        }
        eph.delete(NS_DEVICE_TOKEN, &device_key).await?;
        Ok(())
    }

    async fn issue_tokens(&self, user_id: Uuid, device_id: &str) -> CoreResult<Tokens> {
        // One live token per device: logging in again replaces the previous one.
        self.logout(user_id, device_id).await?;
        let ttl = self.config().token_ttl;
        let access_token = random_token();
        let expires_at =
            now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(1));
        let eph = &self.stores().ephemeral;
        let entry = AccessEntry {
            device_id: device_id.to_owned(),
            expires_at,
        };
        eph.put(
            NS_ACCESS,
            &Key::new()
                .uuid(user_id)
                .bytes(access_token.as_bytes())
                .build(),
            &encode(&entry),
            ttl,
        )
        .await?;
        eph.put(
            NS_DEVICE_TOKEN,
            &Key::new().uuid(user_id).str(device_id).build(),
            access_token.as_bytes(),
            ttl,
        )
        .await?;
        Ok(Tokens {
            access_token,
            refresh_token: random_token(),
            expires_in: ttl.as_secs(),
            expires_at,
        })
    }

    /// The device with this id, registered now if the user never used it: the
    /// first device of a user is verified, later ones start unverified.
    async fn register_device(&self, user: &User, info: DeviceInfo) -> CoreResult<Device> {
        let device_id = if info.device_id.is_empty() {
            "default".to_owned()
        } else {
            info.device_id
        };
        validate::text("device_id", &device_id, 128)?;
        if let Ok(existing) = self.device(user.id, &device_id).await {
            return Ok(existing);
        }
        let first = self.devices(user.id).await?.is_empty();
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
            ip_creation: info.ip,
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
