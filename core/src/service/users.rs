//! Users: signup, lookup, settings, password change. `/me`, settings patches and
//! password reset are in [`super::account`], deletion in [`super::account_deletion`].

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use caliopen_storage_traits::{Batch, Scope};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::validate;
use crate::codec::{decode, encode};
use crate::error::{CoreError, CoreResult};
use crate::model::identity::IdentityStatus;
use crate::model::tag::SYSTEM_TAGS;
use crate::model::user::UserStatus;
use crate::model::{Contact, Identity, IdentityKind, Pi, Settings, Tag, TagKind, User};
use crate::tables::{ADDRESSES, IDENTITIES, TAGS, USER_SETTINGS, USERNAMES, USERS};
use crate::{Core, now};

/// What a signup gives.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub recovery_email: String,
    pub given_name: String,
    pub family_name: String,
    pub settings: Option<Settings>,
}

/// Who receives mail for an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityRef {
    pub user_id: Uuid,
    pub identity_id: Uuid,
}

impl Core {
    /// Creates a user with their local identity, system tags, settings and own
    /// contact card, all in one batch.
    #[tracing::instrument(skip_all, fields(username = %new.username))]
    pub async fn create_user(&self, new: NewUser) -> CoreResult<User> {
        let canonical = validate::username(&new.username)?;
        validate::password("password", &new.password)?;
        let recovery_email = validate::email("recovery_email", &new.recovery_email)?;
        validate::text("given_name", &new.given_name, 256)?;
        validate::text("family_name", &new.family_name, 256)?;
        if let Some(settings) = &new.settings {
            check_settings(settings).map_err(|e| match e {
                CoreError::Invalid { field, reason } => {
                    CoreError::invalid(format!("settings.{field}"), reason)
                }
                e => e,
            })?;
        }
        let local_identity = format!("{canonical}@{}", self.config().default_domain);
        let password_hash = hash_password(new.password).await?;

        let _guard = self.inner.signup_lock.lock().await;
        if !self.username_available(&new.username).await? {
            return Err(CoreError::Conflict(format!(
                "username `{}` is taken",
                new.username
            )));
        }
        if self.resolve_address(&local_identity).await?.is_some() {
            return Err(CoreError::Conflict(format!(
                "address `{local_identity}` is taken"
            )));
        }
        let date = now();
        let user = User {
            id: Uuid::now_v7(),
            username: new.username.clone(),
            name: [new.given_name.as_str(), new.family_name.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
            given_name: new.given_name,
            family_name: new.family_name,
            recovery_email,
            password_hash,
            status: UserStatus::Active,
            local_identity: local_identity.clone(),
            contact_id: Uuid::now_v7(),
            pi: Pi::default(),
            params: Default::default(),
            date_insert: date,
        };
        let scope = Scope::User(user.id);
        let identity = Identity {
            id: Uuid::now_v7(),
            user_id: user.id,
            kind: IdentityKind::Local,
            protocol: "email".into(),
            identifier: local_identity.clone(),
            display_name: if user.name.is_empty() {
                user.username.clone()
            } else {
                user.name.clone()
            },
            status: IdentityStatus::Active,
            credentials: Default::default(),
            infos: Default::default(),
            last_check: None,
            date_insert: date,
        };
        let contact = Contact {
            id: user.contact_id,
            user_id: user.id,
            title: identity.display_name.clone(),
            given_name: user.given_name.clone(),
            family_name: user.family_name.clone(),
            emails: vec![crate::model::contact::ContactEmail {
                email_id: Uuid::now_v7(),
                address: local_identity.clone(),
                is_primary: true,
                label: String::new(),
                kind: "other".into(),
            }],
            date_insert: date,
            date_update: date,
            ..Contact::default()
        };
        let mut batch = Batch::new();
        batch
            .put(
                USERS,
                Scope::Global,
                user.id.as_bytes().to_vec(),
                encode(&user),
            )
            .put(
                USERNAMES,
                Scope::Global,
                canonical.into_bytes(),
                user.id.as_bytes().to_vec(),
            )
            .put(
                ADDRESSES,
                Scope::Global,
                local_identity.into_bytes(),
                encode(&IdentityRef {
                    user_id: user.id,
                    identity_id: identity.id,
                }),
            )
            .put(
                IDENTITIES,
                scope,
                identity.id.as_bytes().to_vec(),
                encode(&identity),
            )
            .put(
                USER_SETTINGS,
                scope,
                b"settings".to_vec(),
                encode(&new.settings.unwrap_or_default()),
            );
        for (name, importance_level) in SYSTEM_TAGS {
            let tag = Tag {
                name: (*name).into(),
                label: (*name).into(),
                kind: TagKind::System,
                importance_level: *importance_level,
                date_insert: date,
            };
            batch.put(TAGS, scope, name.as_bytes().to_vec(), encode(&tag));
        }
        self.contact_batch(&mut batch, &contact, None);
        self.stores().records.write(batch).await?;
        self.wake_indexer();
        tracing::info!(user_id = %user.id, "user created");
        Ok(user)
    }

    /// A user by id.
    pub async fn user(&self, id: Uuid) -> CoreResult<User> {
        let bytes = self
            .stores()
            .records
            .get(USERS, Scope::Global, id.as_bytes())
            .await?
            .ok_or_else(|| CoreError::not_found("user", id))?;
        decode(USERS.name, &bytes)
    }

    /// A user by username (case-insensitive), if any.
    pub async fn user_by_name(&self, username: &str) -> CoreResult<Option<User>> {
        let key = username.to_lowercase();
        match self
            .stores()
            .records
            .get(USERNAMES, Scope::Global, key.as_bytes())
            .await?
        {
            None => Ok(None),
            Some(id) => {
                let id = Uuid::from_slice(&id).map_err(|e| CoreError::Corrupt {
                    table: USERNAMES.name,
                    message: e.to_string(),
                })?;
                self.user(id).await.map(Some)
            }
        }
    }

    /// Whether a username is free (it must also be valid to be available).
    pub async fn username_available(&self, username: &str) -> CoreResult<bool> {
        let Ok(canonical) = validate::username(username) else {
            return Ok(false);
        };
        Ok(self
            .stores()
            .records
            .get(USERNAMES, Scope::Global, canonical.as_bytes())
            .await?
            .is_none())
    }

    /// Who receives mail for an address (a local or remote identity), if anyone.
    pub async fn resolve_address(&self, address: &str) -> CoreResult<Option<IdentityRef>> {
        let key = address.trim().to_lowercase();
        if key.is_empty() {
            return Ok(None);
        }
        match self
            .stores()
            .records
            .get(ADDRESSES, Scope::Global, key.as_bytes())
            .await?
        {
            None => Ok(None),
            Some(bytes) => decode(ADDRESSES.name, &bytes).map(Some),
        }
    }

    /// Every user, in id order (maintenance: reindex, CLI).
    pub async fn all_users(&self) -> CoreResult<Vec<User>> {
        self.scan_decoded(USERS, Scope::Global).await
    }

    /// The user's settings.
    pub async fn settings(&self, user_id: Uuid) -> CoreResult<Settings> {
        match self
            .stores()
            .records
            .get(USER_SETTINGS, Scope::User(user_id), b"settings")
            .await?
        {
            None => Ok(Settings::default()),
            Some(bytes) => decode(USER_SETTINGS.name, &bytes),
        }
    }

    /// Replaces the user's settings.
    #[tracing::instrument(skip(self, settings))]
    pub async fn set_settings(&self, user_id: Uuid, settings: &Settings) -> CoreResult<()> {
        check_settings(settings)?;
        let mut batch = Batch::new();
        batch.put(
            USER_SETTINGS,
            Scope::User(user_id),
            b"settings".to_vec(),
            encode(settings),
        );
        Ok(self.stores().records.write(batch).await?)
    }

    /// Checks a user's password (constant-time comparison by argon2).
    pub async fn verify_password(&self, user: &User, password: &str) -> CoreResult<bool> {
        let hash = user.password_hash.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&hash).map_err(|e| CoreError::Corrupt {
                table: USERS.name,
                message: format!("password hash: {e}"),
            })?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await
        .map_err(|e| CoreError::Corrupt {
            table: USERS.name,
            message: format!("password check task: {e}"),
        })?
    }

    /// Changes a user's password after checking the current one.
    #[tracing::instrument(skip(self, current, new))]
    pub async fn change_password(&self, user_id: Uuid, current: &str, new: &str) -> CoreResult<()> {
        let mut user = self.user(user_id).await?;
        if !self.verify_password(&user, current).await? {
            return Err(CoreError::Unauthenticated(
                "current password is wrong".into(),
            ));
        }
        validate::password("new_password", new)?;
        user.password_hash = hash_password(new.to_owned()).await?;
        let mut batch = Batch::new();
        batch.put(
            USERS,
            Scope::Global,
            user.id.as_bytes().to_vec(),
            encode(&user),
        );
        Ok(self.stores().records.write(batch).await?)
    }
}

/// The rules every stored settings value satisfies (at signup and on change).
fn check_settings(settings: &Settings) -> CoreResult<()> {
    if !matches!(
        settings.message_display_format.as_str(),
        "rich_text" | "plain_text"
    ) {
        return Err(CoreError::invalid(
            "message_display_format",
            "must be `rich_text` or `plain_text`",
        ));
    }
    if !matches!(
        settings.contact_display_order.as_str(),
        "given_name" | "family_name"
    ) {
        return Err(CoreError::invalid(
            "contact_display_order",
            "must be `given_name` or `family_name`",
        ));
    }
    if !(0..=3600).contains(&settings.notification_delay_disappear) {
        return Err(CoreError::invalid(
            "notification_delay_disappear",
            "must be 0 to 3600 seconds",
        ));
    }
    validate::text("default_locale", &settings.default_locale, 35)?;
    validate::text(
        "contact_display_format",
        &settings.contact_display_format,
        64,
    )?;
    validate::text(
        "notification_message_preview",
        &settings.notification_message_preview,
        32,
    )?;
    Ok(())
}

/// Argon2id with the crate's defaults (19 MiB, 2 passes), off the async threads.
pub(crate) async fn hash_password(password: String) -> CoreResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| CoreError::invalid("password", e.to_string()))
    })
    .await
    .map_err(|e| CoreError::invalid("password", format!("hashing task failed: {e}")))?
}
