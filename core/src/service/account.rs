//! The user's account: `/me`, settings by merge patch, and password reset by
//! token. Account deletion is in [`super::account_deletion`].
//!
//! A password reset works with a token core keeps in the ephemeral store for
//! `password_reset_ttl`; one live token per user (a new request replaces the
//! previous one), used once, kept as its digest, and mailed to the user's
//! recovery address (as the original's `fac/users.go` `RequestPasswordReset`).

use std::net::IpAddr;

use caliopen_storage_traits::{Batch, Scope};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::auth::{random_token, token_digest};
use super::patch::{self, MergePatch, field};
use super::throttle::Subject;
use super::validate;
use crate::codec::encode;
use crate::error::{CoreError, CoreResult};
use crate::model::{Contact, Settings, User};
use crate::outbound::notice::Notice;
use crate::tables::USERS;
use crate::{Core, now};

pub(crate) const NS_RESET: &str = "password-reset";
pub(crate) const NS_RESET_BY_USER: &str = "password-reset-user";
/// Reset requests per username within a reset token's lifetime.
const RESET_REQUESTS: u64 = 5;

/// What `GET /v1/me` answers: the user and their own contact card.
#[derive(Debug, Clone, PartialEq)]
pub struct Me {
    /// Carries the password hash: never serialise it to a client as is.
    pub user: User,
    pub contact: Contact,
}

/// A password reset token, to be sent to the user's recovery address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset {
    pub token: String,
    pub user_id: Uuid,
    pub recovery_email: String,
    pub expires_at: DateTime<Utc>,
}

const SETTINGS_FIELDS: &[patch::Field] = &[
    field("default_locale"),
    field("message_display_format"),
    field("contact_display_order"),
    field("contact_display_format"),
    field("notification_enabled"),
    field("notification_message_preview"),
    field("notification_sound_enabled"),
    field("notification_delay_disappear"),
];

impl Core {
    /// The user with their own contact card.
    pub async fn me(&self, user_id: Uuid) -> CoreResult<Me> {
        let user = self.user(user_id).await?;
        let contact = self.contact(user_id, user.contact_id).await?;
        Ok(Me { user, contact })
    }

    /// Changes the user's settings by merge patch, checked against `current_state`.
    #[tracing::instrument(skip(self, patch))]
    pub async fn patch_settings(&self, user_id: Uuid, patch: &MergePatch) -> CoreResult<Settings> {
        let _guard = self.lock_user(user_id).await;
        self.user(user_id).await?;
        let stored = self.settings(user_id).await?;
        if patch.changes_nothing() {
            return Ok(stored);
        }
        let settings: Settings = patch::apply(&stored, patch, SETTINGS_FIELDS)?;
        self.set_settings(user_id, &settings).await?;
        Ok(settings)
    }

    /// Creates a password reset token for the account named `username`, or when
    /// that is empty, the account whose recovery address is `recovery_email`
    /// (the newest, if several share it), and mails it to the user's recovery
    /// address (`fac/users.go` `RequestPasswordReset`). An unknown account is not
    /// found; a `recovery_email` given with a username that is not the user's is
    /// a conflict (the original's "username and recovery email mismatch"). Both
    /// empty is invalid. Requests are limited per account and per client address
    /// (they tell whether an account exists).
    #[tracing::instrument(skip_all)]
    pub async fn request_password_reset(
        &self,
        username: &str,
        recovery_email: &str,
        client: Option<IpAddr>,
    ) -> CoreResult<PasswordReset> {
        let account = match username.trim() {
            "" => None,
            given => Some(validate::username_input(given)?),
        };
        let recovery_email = match recovery_email {
            "" => None,
            given => Some(validate::email("recovery_email", given)?),
        };
        if account.is_none() && recovery_email.is_none() {
            return Err(CoreError::invalid(
                "username",
                "a username or a recovery address is required",
            ));
        }
        let cfg = self.config();
        let ttl = cfg.password_reset_ttl;
        self.take(
            Subject::Lookups(client),
            cfg.auth.lookups_per_address,
            cfg.login_window,
        )
        .await?;
        let user = match (&account, &recovery_email) {
            (Some(account), _) => self
                .user_by_name(account)
                .await?
                .ok_or_else(|| CoreError::not_found("user", account))?,
            (None, Some(address)) => self
                .user_by_recovery_address(address)
                .await?
                .filter(|u| u.status != crate::model::user::UserStatus::Deleting)
                .ok_or_else(|| CoreError::not_found("user", "(by recovery address)"))?,
            (None, None) => unreachable!("refused above"),
        };
        let account = user.username.to_lowercase();
        self.take(Subject::Resets(&account), RESET_REQUESTS, ttl)
            .await?;
        if recovery_email.is_some_and(|r| !user.recovery_email.eq_ignore_ascii_case(&r)) {
            return Err(CoreError::Conflict(
                "username and recovery email mismatch".into(),
            ));
        }
        let eph = &self.stores().ephemeral;
        if let Some(previous) = eph.get(NS_RESET_BY_USER, user.id.as_bytes()).await? {
            eph.delete(NS_RESET, &previous).await?;
        }
        let token = random_token();
        let digest = token_digest(&token);
        eph.put(NS_RESET, &digest, user.id.as_bytes(), ttl).await?;
        eph.put(NS_RESET_BY_USER, user.id.as_bytes(), &digest, ttl)
            .await?;
        let hours = ttl.as_secs().div_ceil(3600).max(1);
        let domain = &self.config().default_domain;
        let body = format!(
            "Someone asked to reset the password of the account `{username}` on {domain}.\n\n\
             If that is you, open /auth/passwords/reset/<token> in your Caliopen web client\n\
             within {hours} hours, with this token:\n\n    {token}\n\n\
             If it is not you, ignore this mail: your password does not change.\n",
            username = user.username,
        );
        self.send_notice(Notice {
            user_id: user.id,
            to: user.recovery_email.clone(),
            subject: format!("Reset the password of {}", user.username),
            body,
        })
        .await?;
        Ok(PasswordReset {
            token,
            user_id: user.id,
            recovery_email: user.recovery_email,
            expires_at: now()
                + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1)),
        })
    }

    /// The user a live reset token was created for (`GET /v2/passwords/reset/{token}`).
    pub async fn password_reset_user(&self, token: &str) -> CoreResult<Uuid> {
        validate::token("token", token)?;
        let not_found = || CoreError::not_found("password reset token", "(given)");
        let bytes = self
            .stores()
            .ephemeral
            .get(NS_RESET, &token_digest(token))
            .await?
            .ok_or_else(not_found)?;
        Uuid::from_slice(&bytes).map_err(|_| not_found())
    }

    /// Sets a new password with a reset token; the token is used up, every
    /// session of the user ends, and a login block on the account is lifted.
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(&self, token: &str, new_password: &str) -> CoreResult<()> {
        validate::password("password", new_password)?;
        let user_id = self.password_reset_user(token).await?;
        let hash = self.hash_password(new_password.to_owned()).await?;
        let mut user = self.user(user_id).await?;
        user.password_strength = Some(
            self.score_password(new_password, user.password_hints())
                .await?,
        );
        user.password_hash = hash;
        let mut batch = Batch::new();
        batch.put(
            USERS,
            Scope::Global,
            user.id.as_bytes().to_vec(),
            encode(&user),
        );
        self.stores().records.write(batch).await?;
        let eph = &self.stores().ephemeral;
        eph.delete(NS_RESET, &token_digest(token)).await?;
        eph.delete(NS_RESET_BY_USER, user.id.as_bytes()).await?;
        self.unblock_account(&user.username.to_lowercase()).await?;
        self.end_sessions(user_id, None).await
    }
}
