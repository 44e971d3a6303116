//! How core encodes its records: MessagePack maps with field names (self-describing,
//! so a record written by an older version still decodes and new fields take their
//! defaults), behind a marker byte; records written as JSON by earlier versions are
//! still read. Keys are big-endian parts, so that they sort in the order core reads
//! them.
//!
//! MessagePack rather than JSON because records are read far more often than they
//! are written, and a message record is mostly long strings: length-prefixed
//! strings are copied, where JSON strings are scanned for escapes byte by byte.

use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};

/// First byte of a MessagePack record. 0xC1 is never used by MessagePack and never
/// starts UTF-8 text, so it cannot begin a JSON record either.
const MSGPACK: u8 = 0xC1;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.push(MSGPACK);
    // Serialising our own model types cannot fail: they hold no custom serialisers
    // that error, and writing to a Vec does not fail.
    rmp_serde::encode::write_named(&mut out, value)
        .unwrap_or_else(|e| unreachable!("model type failed to serialise: {e}"));
    out
}

pub fn decode<T: DeserializeOwned>(table: &'static str, bytes: &[u8]) -> CoreResult<T> {
    let corrupt = |message: String| CoreError::Corrupt { table, message };
    match bytes.split_first() {
        Some((&MSGPACK, rest)) => rmp_serde::from_slice(rest).map_err(|e| corrupt(e.to_string())),
        _ => serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string())),
    }
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

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Before {
        id: Uuid,
        name: String,
    }

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct After {
        id: Uuid,
        name: String,
        #[serde(default)]
        tags: Vec<String>,
    }

    #[test]
    fn records_round_trip_and_older_shapes_still_decode() {
        let before = Before {
            id: Uuid::now_v7(),
            name: "Zoé \"quoted\"\n".into(),
        };
        let bytes = encode(&before);
        assert_eq!(bytes[0], MSGPACK);
        assert_eq!(decode::<Before>("t", &bytes).unwrap(), before);
        let after: After = decode("t", &bytes).unwrap();
        assert_eq!(
            (after.id, after.name.as_str()),
            (before.id, before.name.as_str())
        );
        assert!(
            after.tags.is_empty(),
            "a field added later takes its default"
        );
    }

    #[test]
    fn records_written_as_json_are_still_read() {
        let id = Uuid::now_v7();
        let json = format!(r#"{{"id":"{id}","name":"old"}}"#);
        let read: Before = decode("t", json.as_bytes()).unwrap();
        assert_eq!(
            read,
            Before {
                id,
                name: "old".into()
            }
        );
    }

    #[test]
    fn damaged_records_are_reported_with_their_table() {
        for bad in [&b""[..], b"{not json", &[MSGPACK, 0x93, 0x01][..]] {
            let err = decode::<Before>("messages", bad).unwrap_err();
            assert!(
                matches!(
                    &err,
                    CoreError::Corrupt {
                        table: "messages",
                        ..
                    }
                ),
                "{bad:?}: {err}"
            );
        }
    }

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
