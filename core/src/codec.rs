//! How core encodes its records: JSON values (self-describing, so a record written
//! by an older version still decodes) and big-endian key parts (so keys sort in the
//! order core reads them).

use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own model types to JSON cannot fail: they hold no maps with
    // non-string keys and no custom serialisers that error.
    serde_json::to_vec(value)
        .unwrap_or_else(|e| unreachable!("model type failed to serialise: {e}"))
}

pub fn decode<T: DeserializeOwned>(table: &'static str, bytes: &[u8]) -> CoreResult<T> {
    serde_json::from_slice(bytes).map_err(|e| CoreError::Corrupt {
        table,
        message: e.to_string(),
    })
}

/// A key made of parts, each sortable bytewise.
#[derive(Debug, Default, Clone)]
pub struct Key(Vec<u8>);

impl Key {
    pub fn new() -> Self {
        Self(Vec::with_capacity(48))
    }
    pub fn uuid(mut self, id: Uuid) -> Self {
        self.0.extend_from_slice(id.as_bytes());
        self
    }
    /// A signed number that sorts numerically (sign bit flipped).
    pub fn i64(mut self, n: i64) -> Self {
        self.0
            .extend_from_slice(&((n as u64) ^ (1 << 63)).to_be_bytes());
        self
    }
    /// A string part followed by a 0 separator, so that prefixes do not collide.
    pub fn str(mut self, s: &str) -> Self {
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
        self
    }
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
    pub fn build(self) -> Vec<u8> {
        self.0
    }
}

/// Reads a UUID at `offset` of a key.
pub fn key_uuid(key: &[u8], offset: usize) -> Option<Uuid> {
    key.get(offset..offset + 16)
        .and_then(|b| Uuid::from_slice(b).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_numbers_sort_numerically() {
        let keys: Vec<Vec<u8>> = [-5i64, -1, 0, 1, 1_700_000_000_000]
            .iter()
            .map(|n| Key::new().i64(*n).build())
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn string_parts_do_not_collide_as_prefixes() {
        let a = Key::new().str("ab").str("c").build();
        let b = Key::new().str("a").str("bc").build();
        assert_ne!(a, b);
        assert!(!a.starts_with(&Key::new().str("a").build()));
    }
}
