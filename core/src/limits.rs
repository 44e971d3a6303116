//! How long each thing that becomes part of a storage key may be: the one place
//! core's limits are written down.
//!
//! Every key core builds from outside data is bounded here, by construction, far
//! below the storage contract's [`MAX_KEY_BYTES`] (1,024 bytes), itself far below
//! what any engine accepts:
//!
//! | Key part (table) | Limit | Comes from | When longer |
//! |---|---|---|---|
//! | username (`usernames`) | 3 to 42 characters | signup, login, reset | 400 (`service::validate::username`) |
//! | mail address (`addresses`, `contact_addresses`) | [`MAX_ADDRESS_BYTES`] | identities, contacts, RCPT | 400; RCPT: unknown recipient (550); a lookup finds nothing |
//! | tag name (`tags`) | [`MAX_TAG_NAME_BYTES`] | labels of at most 64 characters | lookups: 404 |
//! | discussion id (`discussions`, counters) | [`DISCUSSION_ID_LEN`] hex digits | a digest | lookups: 404 |
//! | raw mail id (`raw_index`) | 64 hex digits | a blob id | lookups: 404 |
//! | component name, version, slot | [`MAX_COMPONENT_NAME_BYTES`], [`MAX_COMPONENT_VERSION_BYTES`], [`MAX_SLOT_BYTES`] | manifests, the admin API | 400 |
//! | any other id | a UUID | core | never longer |
//!
//! Values read from mail headers (Message-ID, In-Reply-To, References, List-Id,
//! participant addresses) are never refused for their length: a message is stored
//! whole, whatever its headers. Where such a value is part of a key, the key holds
//! [`mail_key`] of it: the value itself when it is short, else a marker byte and
//! its SHA-256 (the Message-ID index always holds the digest, see
//! `tables::MSGID_INDEX`).
//!
//! The storage contract is the last guard: a key over it is refused by every
//! backend before it reaches an engine, and reaches callers as
//! [`crate::CoreError::Invalid`] (a 400), never as a failure of a shared thread.

use caliopen_storage_traits::limits::MAX_KEY_BYTES;
use sha2::{Digest, Sha256};

use crate::error::{CoreError, CoreResult};

/// Longest mail address, in bytes: a forward-path is at most 256 octets with its
/// angle brackets (RFC 5321, 4.5.3.1.3).
pub const MAX_ADDRESS_BYTES: usize = 254;

/// Longest tag name, in bytes: a label has at most 64 characters, each lower-cased
/// into at most 3 characters of at most 4 bytes.
pub const MAX_TAG_NAME_BYTES: usize = 64 * 3 * 4;

/// A discussion id: 32 hex digits (half a SHA-256, `model::discussion`).
pub const DISCUSSION_ID_LEN: usize = 32;

/// Longest component name, in bytes.
pub const MAX_COMPONENT_NAME_BYTES: usize = 128;

/// Longest component version, in bytes.
pub const MAX_COMPONENT_VERSION_BYTES: usize = 64;

/// Longest slot name, in bytes.
pub const MAX_SLOT_BYTES: usize = 64;

/// Marks a [`mail_key`] that holds a digest: never the first byte of a text value.
const DIGESTED: u8 = 0;

// Every bound above leaves room in a key for the rest of it (a UUID, separators).
const _: () = assert!(MAX_TAG_NAME_BYTES + 32 <= MAX_KEY_BYTES);
const _: () = assert!(MAX_ADDRESS_BYTES + 32 <= MAX_KEY_BYTES);
const _: () = assert!(MAX_COMPONENT_NAME_BYTES + MAX_COMPONENT_VERSION_BYTES + 2 <= MAX_KEY_BYTES);

/// The SHA-256 of a value.
pub fn digest(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

/// The key part of a value taken from mail: its bytes when at most
/// [`MAX_ADDRESS_BYTES`] long and not starting with a 0 byte, else a 0 byte and
/// its SHA-256 (33 bytes). Two values give the same key part only when equal.
pub fn mail_key(value: &str) -> Vec<u8> {
    let bytes = value.as_bytes();
    if bytes.len() <= MAX_ADDRESS_BYTES && bytes.first() != Some(&DIGESTED) {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(33);
    out.push(DIGESTED);
    out.extend_from_slice(&digest(value));
    out
}

/// `Invalid` when `value` is longer than `max` bytes.
pub fn check(field: &str, value: &str, max: usize) -> CoreResult<()> {
    if value.len() <= max {
        return Ok(());
    }
    Err(CoreError::invalid(
        field,
        format!("is {} bytes long, at most {max} are allowed", value.len()),
    ))
}

/// Whether an id given by a client can name something: longer than `max` bytes,
/// it cannot, and a lookup answers not found without reading.
pub fn may_exist(id: &str, max: usize) -> bool {
    id.len() <= max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_mail_values_are_their_own_key_and_long_ones_a_digest() {
        assert_eq!(mail_key("bob@example.org"), b"bob@example.org");
        let long = format!("{}@example.org", "a".repeat(67_000));
        let key = mail_key(&long);
        assert_eq!(key.len(), 33);
        assert_eq!(key[0], DIGESTED);
        assert_ne!(
            mail_key(&format!("{long}x")),
            key,
            "different values, different keys"
        );
        assert_eq!(mail_key(&long), key, "the same value, the same key");
        let edge = "a".repeat(MAX_ADDRESS_BYTES);
        assert_eq!(mail_key(&edge).len(), MAX_ADDRESS_BYTES);
        assert_eq!(mail_key(&format!("{edge}a")).len(), 33);
        assert_eq!(
            mail_key("\0x")[0],
            DIGESTED,
            "a digest marker is never text"
        );
        assert!(mail_key(&long).len() <= MAX_KEY_BYTES);
    }

    #[test]
    fn checks_name_the_field_and_the_limit() {
        assert!(check("name", "abc", 3).is_ok());
        let err = check("name", "abcd", 3).unwrap_err();
        assert!(err.to_string().contains("name"), "{err}");
        assert!(err.to_string().contains("at most 3"), "{err}");
    }
}
