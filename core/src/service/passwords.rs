//! Passwords: hashing and checking (Argon2id, a bounded number at once, off the
//! async threads), the throttled check every password-taking operation goes
//! through, the password change, and the password's strength score.
//!
//! An unknown account is checked against a dummy hash made with the same
//! parameters, so a wrong username and a wrong password take the same time and
//! give the same answer.

use std::net::IpAddr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use caliopen_storage_traits::{Batch, Scope};
use tokio::sync::OnceCell;

use super::auth::AuthContext;
use super::validate;
use crate::codec::encode;
use crate::error::{CoreError, CoreResult};
use crate::model::User;
use crate::tables::USERS;
use crate::{Core, CoreConfig};

/// Argon2 hashes computed at once, per [`crate::config::AuthConfig`].
#[derive(Debug)]
pub(crate) struct Hashing {
    permits: tokio::sync::Semaphore,
    dummy: OnceCell<String>,
}

impl Hashing {
    pub(crate) fn new(config: &CoreConfig) -> Self {
        Self {
            permits: tokio::sync::Semaphore::new(config.auth.password_hashes_at_once.max(1)),
            dummy: OnceCell::new(),
        }
    }
}

fn task_failed(e: &tokio::task::JoinError) -> CoreError {
    CoreError::Corrupt {
        table: USERS.name,
        message: format!("password hashing task: {e}"),
    }
}

/// Characters of a password the strength score looks at: zxcvbn's work grows
/// faster than linearly with the length, and a password this long already scores
/// its best.
const SCORED_CHARS: usize = 100;

/// The zxcvbn score of `password` (0 weakest .. 4 strongest), with `hints` (the
/// user's names and addresses) counted as words a guesser tries first: what the
/// original stored as `privacy_features.password_strength`.
pub fn password_strength(password: &str, hints: &[String]) -> u8 {
    let end = password
        .char_indices()
        .nth(SCORED_CHARS)
        .map_or(password.len(), |(i, _)| i);
    let hints: Vec<&str> = hints.iter().map(String::as_str).collect();
    zxcvbn::zxcvbn(&password[..end], &hints).score().into()
}

impl Core {
    /// [`password_strength`] on the blocking pool.
    pub(crate) async fn score_password(
        &self,
        password: &str,
        hints: Vec<String>,
    ) -> CoreResult<u8> {
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || password_strength(&password, &hints))
            .await
            .map_err(|e| task_failed(&e))
    }

    /// Argon2id with the crate's defaults (19 MiB, 2 passes), on the blocking pool,
    /// at most `auth.password_hashes_at_once` at a time.
    pub(crate) async fn hash_password(&self, password: String) -> CoreResult<String> {
        let _permit = self.inner.hashing.permits.acquire().await;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| CoreError::invalid("password", e.to_string()))
        })
        .await
        .map_err(|e| task_failed(&e))?
    }

    /// Whether `password` matches `hash` (constant-time comparison by argon2).
    async fn verify_hash(&self, hash: String, password: &str) -> CoreResult<bool> {
        let _permit = self.inner.hashing.permits.acquire().await;
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
        .map_err(|e| task_failed(&e))?
    }

    /// Checks a user's password, unthrottled: callers go through
    /// [`Core::check_password`].
    pub(crate) async fn verify_password(&self, user: &User, password: &str) -> CoreResult<bool> {
        self.verify_hash(user.password_hash.clone(), password).await
    }

    /// Spends the time of a password check on an account that does not exist.
    pub(crate) async fn verify_dummy(&self, password: &str) -> CoreResult<()> {
        let dummy = self
            .inner
            .hashing
            .dummy
            .get_or_try_init(|| self.hash_password(super::auth::random_token()))
            .await?
            .clone();
        self.verify_hash(dummy, password).await.map(drop)
    }

    /// The throttled password check of login, password change and account
    /// deletion: refused while `client` is blocked for `account` (lower case), the
    /// hash checked (a dummy one when `user` is `None`), failures counted. `wrong`
    /// is the error of a wrong password.
    pub(crate) async fn check_password(
        &self,
        account: &str,
        client: Option<IpAddr>,
        user: Option<&User>,
        password: &str,
        wrong: CoreError,
    ) -> CoreResult<()> {
        self.password_attempt_allowed(account, client).await?;
        let right = match user {
            Some(user) => self.verify_password(user, password).await?,
            None => {
                self.verify_dummy(password).await?;
                false
            }
        };
        if right {
            self.password_succeeded(account, client).await
        } else {
            Err(self.password_failed(account, client, wrong).await?)
        }
    }

    /// Confirms that the caller knows the account's password (before deleting it),
    /// throttled as logins are; a wrong one is `Forbidden`.
    pub async fn confirm_password(
        &self,
        caller: &AuthContext,
        client: Option<IpAddr>,
        password: &str,
    ) -> CoreResult<()> {
        validate::password_input("password", password)?;
        let user = self.user(caller.user_id).await?;
        let account = user.username.to_lowercase();
        let wrong = CoreError::Forbidden("the password is wrong".into());
        self.check_password(&account, client, Some(&user), password, wrong)
            .await
    }

    /// Changes the caller's password after checking the current one (throttled as
    /// logins are; a wrong one is `Forbidden`). Every other session of the user
    /// ends: their devices' access and refresh tokens stop working.
    #[tracing::instrument(skip(self, current, new), fields(user = %caller.user_id))]
    pub async fn change_password(
        &self,
        caller: &AuthContext,
        client: Option<IpAddr>,
        current: &str,
        new: &str,
    ) -> CoreResult<()> {
        validate::password("new_password", new)?;
        self.confirm_password(caller, client, current)
            .await
            .map_err(|e| match e {
                CoreError::Invalid { reason, .. } => {
                    CoreError::invalid("current_state.password", reason)
                }
                e => e,
            })?;
        let hash = self.hash_password(new.to_owned()).await?;
        let _guard = self.lock_user(caller.user_id).await;
        let mut user = self.user(caller.user_id).await?;
        user.password_strength = Some(self.score_password(new, user.password_hints()).await?);
        user.password_hash = hash;
        let mut batch = Batch::new();
        batch.put(
            USERS,
            Scope::Global,
            user.id.as_bytes().to_vec(),
            encode(&user),
        );
        self.stores().records.write(batch).await?;
        self.end_sessions(user.id, Some(&caller.device_id)).await?;
        tracing::info!("password changed, other sessions ended");
        Ok(())
    }
}
