//! Throttles: counters of failed password checks and of requests that cost a
//! password hash or reveal whether an account exists, in the ephemeral store.
//!
//! Failed password checks (login, and the current password asked by a password
//! change or an account deletion) are counted three ways within `login_window`:
//!
//! - per (account, client address): `login_attempts`, then that pair is blocked.
//!   Someone guessing from one address locks only themselves out of that account;
//!   the owner, from their own address, is not affected.
//! - per client address, whatever the account: `auth.address_attempts`, then the
//!   address is blocked for every account (one address spraying many usernames).
//! - per account, from every address: `auth.account_attempts` (much higher), then
//!   for a window only addresses that logged in to the account before (within
//!   `auth.known_address_ttl`) may try: a guess spread over many addresses does
//!   not lock the owner out of their usual address either.
//!
//! A block holds its deadline, so a refusal says how long to wait. Checks come
//! before any password hash is computed, so a blocked caller costs nothing and
//! learns nothing. Keys are digests: an account name or an address of any length
//! makes a key of fixed size, and the store holds no username in clear. An IPv6
//! address counts with its /64 (one subscriber's usual allocation).

use std::net::IpAddr;
use std::time::Duration;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Core;
use crate::error::{CoreError, CoreResult};

const NS_COUNT: &str = "throttle-count";
const NS_BLOCK: &str = "throttle-block";
const NS_KNOWN: &str = "throttle-known";

/// What a counter counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    /// Failed password checks on an account (lower-case name) from one address.
    Pair(&'a str, Option<IpAddr>),
    /// Failed password checks from one address.
    Address(Option<IpAddr>),
    /// Failed password checks on an account, from every address.
    Account(&'a str),
    /// Accounts created from one address.
    Signups(Option<IpAddr>),
    /// Account lookups (availability, reset requests, taken names) from one address.
    Lookups(Option<IpAddr>),
    /// Password reset requests for an account (lower-case name).
    Resets(&'a str),
    /// Messages a user sent.
    Sent(Uuid),
}

impl Subject<'_> {
    /// A tag byte and a SHA-256 of the subject: 33 bytes whatever the input.
    fn key(self) -> Vec<u8> {
        let mut h = Sha256::new();
        let tag = match self {
            Subject::Pair(account, client) => {
                h.update((account.len() as u64).to_be_bytes());
                h.update(account.as_bytes());
                h.update(address_bytes(client));
                b'p'
            }
            Subject::Address(client) => {
                h.update(address_bytes(client));
                b'a'
            }
            Subject::Account(account) => {
                h.update(account.as_bytes());
                b'c'
            }
            Subject::Signups(client) => {
                h.update(address_bytes(client));
                b's'
            }
            Subject::Lookups(client) => {
                h.update(address_bytes(client));
                b'l'
            }
            Subject::Resets(account) => {
                h.update(account.as_bytes());
                b'r'
            }
            Subject::Sent(user) => {
                h.update(user.as_bytes());
                b'm'
            }
        };
        let mut key = Vec::with_capacity(33);
        key.push(tag);
        key.extend_from_slice(&h.finalize());
        key
    }
}

/// The bytes an address is counted by: IPv4 (an IPv4-mapped IPv6 address too) whole,
/// IPv6 by its /64, an unknown address as one empty address.
fn address_bytes(client: Option<IpAddr>) -> Vec<u8> {
    match client {
        None => Vec::new(),
        Some(IpAddr::V4(v4)) => v4.octets().to_vec(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets()[..8].to_vec(),
        },
    }
}

fn unix_now() -> u64 {
    u64::try_from(crate::now().timestamp()).unwrap_or(0)
}

fn limited(retry_after_secs: u64) -> CoreError {
    CoreError::RateLimited {
        retry_after_secs: retry_after_secs.max(1),
    }
}

impl Core {
    /// Seconds left of a block on `subject`, if it is blocked.
    async fn blocked(&self, subject: Subject<'_>) -> CoreResult<Option<u64>> {
        let Some(value) = self
            .stores()
            .ephemeral
            .get(NS_BLOCK, &subject.key())
            .await?
        else {
            return Ok(None);
        };
        let deadline = <[u8; 8]>::try_from(value.as_slice()).map_or(0, u64::from_be_bytes);
        Ok(Some(deadline.saturating_sub(unix_now()).max(1)))
    }

    async fn block(&self, subject: Subject<'_>, period: Duration) -> CoreResult<()> {
        let deadline = unix_now().saturating_add(period.as_secs());
        self.stores()
            .ephemeral
            .put(NS_BLOCK, &subject.key(), &deadline.to_be_bytes(), period)
            .await?;
        Ok(())
    }

    /// Counts one more event on `subject` within `window`; true when that makes
    /// `max` (then `subject` is blocked for `window`).
    async fn count(&self, subject: Subject<'_>, max: u64, window: Duration) -> CoreResult<bool> {
        let n = self
            .stores()
            .ephemeral
            .increment(NS_COUNT, &subject.key(), window)
            .await?;
        if n >= max {
            self.block(subject, window).await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Takes one of the `max` requests `subject` may make within `window`, or
    /// answers how long to wait.
    pub(crate) async fn take(
        &self,
        subject: Subject<'_>,
        max: u64,
        window: Duration,
    ) -> CoreResult<()> {
        if let Some(secs) = self.blocked(subject).await? {
            return Err(limited(secs));
        }
        let n = self
            .stores()
            .ephemeral
            .increment(NS_COUNT, &subject.key(), window)
            .await?;
        if n > max {
            self.block(subject, window).await?;
            return Err(limited(window.as_secs()));
        }
        Ok(())
    }

    /// Whether a password may be checked for `account` (lower case) from `client`
    /// now; else how long to wait. Call before computing any hash.
    pub(crate) async fn password_attempt_allowed(
        &self,
        account: &str,
        client: Option<IpAddr>,
    ) -> CoreResult<()> {
        for subject in [Subject::Address(client), Subject::Pair(account, client)] {
            if let Some(secs) = self.blocked(subject).await? {
                return Err(limited(secs));
            }
        }
        if let Some(secs) = self.blocked(Subject::Account(account)).await?
            && !self.known_address(account, client).await?
        {
            return Err(limited(secs));
        }
        Ok(())
    }

    /// Counts a wrong password; the answer is a rate-limit error when this failure
    /// blocked the caller, else `wrong`.
    pub(crate) async fn password_failed(
        &self,
        account: &str,
        client: Option<IpAddr>,
        wrong: CoreError,
    ) -> CoreResult<CoreError> {
        let cfg = self.config();
        let window = cfg.login_window;
        let pair = self
            .count(Subject::Pair(account, client), cfg.login_attempts, window)
            .await?;
        let address = self
            .count(Subject::Address(client), cfg.auth.address_attempts, window)
            .await?;
        let whole = self
            .count(Subject::Account(account), cfg.auth.account_attempts, window)
            .await?;
        if pair || address || (whole && !self.known_address(account, client).await?) {
            tracing::warn!("password checks blocked after too many failures");
            return Ok(limited(window.as_secs()));
        }
        Ok(wrong)
    }

    /// After a right password: the pair's failures are forgotten and the address
    /// becomes known to the account.
    pub(crate) async fn password_succeeded(
        &self,
        account: &str,
        client: Option<IpAddr>,
    ) -> CoreResult<()> {
        let eph = &self.stores().ephemeral;
        eph.delete(NS_COUNT, &Subject::Pair(account, client).key())
            .await?;
        eph.put(
            NS_KNOWN,
            &Subject::Pair(account, client).key(),
            b"1",
            self.config().auth.known_address_ttl,
        )
        .await?;
        Ok(())
    }

    /// Lifts the account-wide block and count (after a password reset proved the
    /// owner's mailbox).
    pub(crate) async fn unblock_account(&self, account: &str) -> CoreResult<()> {
        let eph = &self.stores().ephemeral;
        let key = Subject::Account(account).key();
        eph.delete(NS_BLOCK, &key).await?;
        eph.delete(NS_COUNT, &key).await?;
        Ok(())
    }

    async fn known_address(&self, account: &str, client: Option<IpAddr>) -> CoreResult<bool> {
        Ok(self
            .stores()
            .ephemeral
            .get(NS_KNOWN, &Subject::Pair(account, client).key())
            .await?
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_one_size_whatever_the_input() {
        let long = "x".repeat(70_000);
        for subject in [
            Subject::Pair(&long, None),
            Subject::Account(&long),
            Subject::Address(Some("10.0.0.1".parse().unwrap())),
        ] {
            assert_eq!(subject.key().len(), 33);
        }
        assert_ne!(
            Subject::Pair("alice", None).key(),
            Subject::Pair("alicf", None).key()
        );
    }

    #[test]
    fn an_ipv6_address_counts_with_its_64() {
        let a = Some("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = Some("2001:db8:1:2:bbbb::9".parse().unwrap());
        let c = Some("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(address_bytes(a), address_bytes(b));
        assert_ne!(address_bytes(a), address_bytes(c));
        let mapped = Some("::ffff:10.0.0.1".parse().unwrap());
        let v4 = Some("10.0.0.1".parse().unwrap());
        assert_eq!(address_bytes(mapped), address_bytes(v4));
    }
}
