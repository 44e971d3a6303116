//! Records: ordered key/value pairs in named tables, partitioned by [`Scope`].
//!
//! The model is a wide-column one so that it maps onto every engine we target: a
//! record lives at (table, scope, key); keys sort bytewise within a (table, scope)
//! partition; a [`Batch`] of puts, deletes and counter additions across tables and
//! scopes is applied atomically and is durable when [`RecordStore::write`] returns.
//! Core encodes its own values; backends never look inside them.

use std::fmt;

use async_trait::async_trait;
use uuid::Uuid;

use crate::StorageResult;

/// How a table's keys are built, so that distributed backends can partition it well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyLayout {
    /// Keys are opaque bytes.
    Plain,
    /// Keys start with a UUIDv7 (16 bytes, time-ordered): a backend may bucket the
    /// partition by the time it carries.
    TimeOrdered,
    /// Values are signed 64-bit counters changed only through [`Op::Add`].
    Counter,
}

/// A table of records. Core declares its tables as constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Table {
    pub name: &'static str,
    pub layout: KeyLayout,
}

impl Table {
    pub const fn plain(name: &'static str) -> Self {
        Self {
            name,
            layout: KeyLayout::Plain,
        }
    }
    pub const fn time_ordered(name: &'static str) -> Self {
        Self {
            name,
            layout: KeyLayout::TimeOrdered,
        }
    }
    pub const fn counter(name: &'static str) -> Self {
        Self {
            name,
            layout: KeyLayout::Counter,
        }
    }
}

/// Whose records these are: one user's, or the installation's.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Global,
    User(Uuid),
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Global => f.write_str("global"),
            Scope::User(id) => write!(f, "user:{id}"),
        }
    }
}

/// One change in a [`Batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put {
        table: Table,
        scope: Scope,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Delete {
        table: Table,
        scope: Scope,
        key: Vec<u8>,
    },
    /// Add `delta` to a counter (a missing counter counts as 0).
    Add {
        table: Table,
        scope: Scope,
        key: Vec<u8>,
        delta: i64,
    },
}

/// Changes applied all together or not at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    pub ops: Vec<Op>,
}

impl Batch {
    /// The most operations one batch may carry.
    pub const MAX_OPS: usize = 10_000;

    pub fn new() -> Self {
        Self::default()
    }
    pub fn put(
        &mut self,
        table: Table,
        scope: Scope,
        key: impl Into<Vec<u8>>,
        value: Vec<u8>,
    ) -> &mut Self {
        self.ops.push(Op::Put {
            table,
            scope,
            key: key.into(),
            value,
        });
        self
    }
    pub fn delete(&mut self, table: Table, scope: Scope, key: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push(Op::Delete {
            table,
            scope,
            key: key.into(),
        });
        self
    }
    pub fn add(
        &mut self,
        table: Table,
        scope: Scope,
        key: impl Into<Vec<u8>>,
        delta: i64,
    ) -> &mut Self {
        self.ops.push(Op::Add {
            table,
            scope,
            key: key.into(),
            delta,
        });
        self
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    pub fn extend(&mut self, other: Batch) {
        self.ops.extend(other.ops);
    }

    /// Checks the batch against the contract: non-empty keys of at most
    /// [`crate::limits::MAX_KEY_BYTES`], counter tables only changed by [`Op::Add`],
    /// other tables never by it, and at most [`Self::MAX_OPS`].
    pub fn validate(&self) -> StorageResult<()> {
        use crate::StorageError::Invalid;
        if self.ops.len() > Self::MAX_OPS {
            return Err(Invalid(format!(
                "a batch carries at most {} operations, this one {}",
                Self::MAX_OPS,
                self.ops.len()
            )));
        }
        for op in &self.ops {
            let (table, key, is_add) = match op {
                Op::Put { table, key, .. } | Op::Delete { table, key, .. } => (table, key, false),
                Op::Add { table, key, .. } => (table, key, true),
            };
            if key.is_empty() {
                return Err(Invalid(format!("empty key in table `{}`", table.name)));
            }
            crate::limits::check_key(table.name, key)?;
            let counter = table.layout == KeyLayout::Counter;
            if counter && matches!(op, Op::Put { .. }) {
                return Err(Invalid(format!(
                    "table `{}` holds counters: use add, not put",
                    table.name
                )));
            }
            if is_add && !counter {
                return Err(Invalid(format!(
                    "table `{}` does not hold counters",
                    table.name
                )));
            }
            if table.layout == KeyLayout::TimeOrdered && key.len() < 16 {
                return Err(Invalid(format!(
                    "table `{}` is time-ordered: keys start with a 16-byte UUIDv7",
                    table.name
                )));
            }
        }
        Ok(())
    }
}

/// The 8 bytes of `value` whose bytewise order is its numeric order (big-endian,
/// sign bit flipped), for keys that sort by a signed number such as a date: every
/// backend orders keys bytewise, so a scan over such keys is a scan by number.
pub const fn ordered_i64(value: i64) -> [u8; 8] {
    ((value as u64) ^ (1 << 63)).to_be_bytes()
}

/// The number [`ordered_i64`] encoded.
pub const fn ordered_i64_value(bytes: [u8; 8]) -> i64 {
    (u64::from_be_bytes(bytes) ^ (1 << 63)) as i64
}

/// A range read within one (table, scope) partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// Only keys starting with these bytes (empty: the whole partition).
    pub prefix: Vec<u8>,
    /// Resume strictly after this key (in the scan's direction): the `next` of a
    /// previous [`Page`].
    pub after: Option<Vec<u8>>,
    /// Descending key order when true.
    pub reverse: bool,
    /// Most records to return; 0 means none.
    pub limit: usize,
}

impl Scan {
    pub fn prefix(prefix: impl Into<Vec<u8>>, limit: usize) -> Self {
        Self {
            prefix: prefix.into(),
            limit,
            ..Self::default()
        }
    }
    pub fn all(limit: usize) -> Self {
        Self::prefix(Vec::new(), limit)
    }
    pub fn reversed(mut self) -> Self {
        self.reverse = true;
        self
    }
    pub fn after(mut self, key: Option<Vec<u8>>) -> Self {
        self.after = key;
        self
    }
}

/// The answer to a [`Scan`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub items: Vec<(Vec<u8>, Vec<u8>)>,
    /// Where to resume, when more records may follow.
    pub next: Option<Vec<u8>>,
}

/// The records role.
#[async_trait]
pub trait RecordStore: Send + Sync + fmt::Debug {
    /// One record, or none.
    async fn get(&self, table: Table, scope: Scope, key: &[u8]) -> StorageResult<Option<Vec<u8>>>;

    /// Records of one partition in key order (see [`Scan`]).
    async fn scan(&self, table: Table, scope: Scope, scan: Scan) -> StorageResult<Page>;

    /// The value of a counter (0 when never added to).
    async fn counter(&self, table: Table, scope: Scope, key: &[u8]) -> StorageResult<i64>;

    /// Applies a batch atomically; it is durable when this returns `Ok`.
    async fn write(&self, batch: Batch) -> StorageResult<()>;

    /// The durable log this store commits to, when stores of other roles may share
    /// it: two stores answering the same value commit to one log, so a backend can
    /// write for both at once (see [`crate::BlobStore::put_then_write`]). `None`, the
    /// default, promises nothing.
    fn commit_log(&self) -> Option<usize> {
        None
    }
}
