//! Users: signup, lookup, settings. Passwords are in [`super::passwords`]; `/me`,
//! settings patches and password reset in [`super::account`], deletion in
//! [`super::account_deletion`].
//!
//! A public signup ([`Core::signup`]) may be closed by the configuration (invite
//! only: the operator creates users with [`Core::create_user`]) and is limited per
//! client address; both check every input and that the name is free before the
//! password is hashed, so a refused signup costs no hash.

use std::net::IpAddr;

use caliopen_storage_traits::{Batch, Scope};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::throttle::Subject;
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
    /// A signup by anyone (`POST /api/v1/users`): refused when signups are closed
    /// (`auth.signup_open`), limited per client address, else as [`Core::create_user`].
    #[tracing::instrument(skip_all)]
    pub async fn signup(&self, new: NewUser, client: Option<IpAddr>) -> CoreResult<User> {
        if !self.config().auth.signup_open {
            return Err(CoreError::Forbidden(
                "signup is closed on this server: ask its operator for an account".into(),
            ));
        }
        self.create(new, Some(client)).await
    }

    /// Creates a user (the operator's way, never limited) with their local identity,
    /// system tags, settings and own contact card, all in one batch.
    pub async fn create_user(&self, new: NewUser) -> CoreResult<User> {
        self.create(new, None).await
    }

    /// `public`: the address of a public signup, counted.
    #[tracing::instrument(skip_all, fields(username = %new.username.chars().take(64).collect::<String>()))]
    async fn create(&self, new: NewUser, public: Option<Option<IpAddr>>) -> CoreResult<User> {
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
        let auth = &self.config().auth;
        // Checked before hashing (and again under the lock, before writing).
        if let Err(taken) = self.name_free(&new.username, &local_identity).await {
            if let Some(client) = public {
                let lookups = Subject::Lookups(client);
                self.take(
                    lookups,
                    auth.lookups_per_address,
                    self.config().login_window,
                )
                .await?;
            }
            return Err(taken);
        }
        if let Some(client) = public {
            self.take(
                Subject::Signups(client),
                auth.signups_per_address,
                auth.signup_window,
            )
            .await?;
        }
        let hints = vec![
            new.username.clone(),
            new.given_name.clone(),
            new.family_name.clone(),
            recovery_email.clone(),
            local_identity.clone(),
        ];
        let password_strength = self.score_password(&new.password, hints).await?;
        let password_hash = self.hash_password(new.password).await?;

        let _guard = self.inner.signup_lock.lock().await;
        self.name_free(&new.username, &local_identity).await?;
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
            password_strength: Some(password_strength),
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
            sealed_credentials: None,
            last_check: None,
            date_insert: date,
            verified_at: Some(date),
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
        if let Some(key) = crate::indexes::recovery_key(&user) {
            batch.put(
                crate::tables::RECOVERY_ADDRESSES,
                Scope::Global,
                key,
                Vec::new(),
            );
        }
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
        if username.len() > validate::MAX_USERNAME_INPUT {
            return Ok(None);
        }
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

    /// `Conflict` when the username or its local address is taken.
    async fn name_free(&self, username: &str, local_identity: &str) -> CoreResult<()> {
        if !self.username_available(username).await? {
            return Err(CoreError::Conflict(format!(
                "username `{username}` is taken"
            )));
        }
        if self.resolve_address(local_identity).await?.is_some() {
            return Err(CoreError::Conflict(format!(
                "address `{local_identity}` is taken"
            )));
        }
        Ok(())
    }

    /// Whether a username is free, asked by a client (`isAvailable`): limited per
    /// client address, as it tells whether an account exists.
    pub async fn username_available_to(
        &self,
        username: &str,
        client: Option<IpAddr>,
    ) -> CoreResult<bool> {
        let cfg = self.config();
        self.take(
            Subject::Lookups(client),
            cfg.auth.lookups_per_address,
            cfg.login_window,
        )
        .await?;
        self.username_available(username).await
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
        // No address longer than 254 bytes is registered (`validate::email`).
        if key.is_empty() || key.len() > 254 {
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
