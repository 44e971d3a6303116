//! Remote identities' secret credentials at rest: sealed with AES-256-GCM (ring)
//! under a key that is not stored beside them (`core.credentials`: a key file
//! outside the data directory, or an environment variable). The nonce is random
//! per sealing; the identity's user id and id are the associated data, so a
//! sealed value copied onto another identity does not open.
//!
//! No key configured, an unreadable or malformed key, or a key that does not open
//! what is stored: [`CoreError::NotConfigured`] naming the setting. Key rotation is
//! not supported (a changed key makes stored credentials unreadable).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::config::CredentialsConfig;
use crate::error::{CoreError, CoreResult};
use crate::model::Identity;

const SETTING: &str = "core.credentials.key_file or core.credentials.key_env";

/// Loads the key named by the configuration (read on each use: a 64-byte file).
fn key(config: &CredentialsConfig) -> CoreResult<LessSafeKey> {
    let text = if let Some(path) = &config.key_file {
        std::fs::read_to_string(path).map_err(|e| {
            CoreError::NotConfigured(format!(
                "remote identity credentials: the key file `{}` ({SETTING}) cannot be read: {e}",
                path.display()
            ))
        })?
    } else if let Some(var) = &config.key_env {
        std::env::var(var).map_err(|_| {
            CoreError::NotConfigured(format!(
                "remote identity credentials: the environment variable `{var}` ({SETTING}) is not set"
            ))
        })?
    } else {
        return Err(CoreError::NotConfigured(format!(
            "remote identity credentials need an encryption key: set {SETTING} \
             (see configs/caliopen.toml); they are never stored in clear"
        )));
    };
    let bytes = hex_key(text.trim()).ok_or_else(|| {
        CoreError::NotConfigured(format!(
            "remote identity credentials: the key ({SETTING}) must be 64 hex digits"
        ))
    })?;
    let unbound = UnboundKey::new(&AES_256_GCM, &bytes)
        .map_err(|_| CoreError::NotConfigured(format!("bad key in {SETTING}")))?;
    Ok(LessSafeKey::new(unbound))
}

fn hex_key(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

fn aad(identity: &Identity) -> Vec<u8> {
    [
        &identity.user_id.as_bytes()[..],
        &identity.id.as_bytes()[..],
    ]
    .concat()
}

/// Moves the identity's secret credentials (those `is_secret` says) into
/// `sealed_credentials`, leaving `mask` in their place. Nothing secret: nothing
/// sealed, no key needed.
pub(super) fn seal(
    config: &CredentialsConfig,
    identity: &mut Identity,
    is_secret: impl Fn(&str) -> bool,
    mask: &str,
) -> CoreResult<()> {
    let secrets: BTreeMap<String, String> = identity
        .credentials
        .iter()
        .filter(|(k, _)| is_secret(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if secrets.is_empty() {
        identity.sealed_credentials = None;
        return Ok(());
    }
    let key = key(config)?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| CoreError::Unavailable("no system randomness".into()))?;
    let mut data = serde_json::to_vec(&secrets)
        .unwrap_or_else(|e| unreachable!("a string map serialises: {e}"));
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad(identity)),
        &mut data,
    )
    .map_err(|_| CoreError::Unavailable("sealing credentials failed".into()))?;
    identity.sealed_credentials = Some(STANDARD.encode([&nonce[..], &data].concat()));
    for (k, v) in &mut identity.credentials {
        if secrets.contains_key(k) {
            *v = mask.to_owned();
        }
    }
    Ok(())
}

/// Puts the sealed secrets back into `credentials` (for the code that connects
/// to the account, and to re-seal after a patch).
pub(super) fn open(config: &CredentialsConfig, identity: &mut Identity) -> CoreResult<()> {
    let Some(sealed) = identity.sealed_credentials.take() else {
        return Ok(());
    };
    let key = key(config)?;
    let wrong = || {
        CoreError::NotConfigured(format!(
            "remote identity credentials do not open with the key of {SETTING} \
             (was it changed? key rotation is not supported)"
        ))
    };
    let bytes = STANDARD.decode(sealed).map_err(|_| wrong())?;
    if bytes.len() < NONCE_LEN {
        return Err(wrong());
    }
    let (nonce, data) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| wrong())?;
    let mut data = data.to_vec();
    let clear = key
        .open_in_place(nonce, Aad::from(aad(identity)), &mut data)
        .map_err(|_| wrong())?;
    let secrets: BTreeMap<String, String> = serde_json::from_slice(clear).map_err(|_| wrong())?;
    identity.credentials.extend(secrets);
    Ok(())
}
