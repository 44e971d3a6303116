//! CQL text and bound values for records, built without a session so they can be
//! tested: scope encoding, clustering bounds of a scan, and the statements of a batch
//! with one write timestamp per operation (later operations of a batch win).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use caliopen_storage_traits::{KeyLayout, Op, Scan, Scope, Table};
use scylla::value::CqlValue;
use uuid::Uuid;

use crate::bucket::{BucketRange, bucket_of_key};

/// The partition column value of a scope.
pub fn scope_text(scope: Scope) -> String {
    match scope {
        Scope::Global => "global".to_string(),
        Scope::User(id) => id.hyphenated().to_string(),
    }
}

/// One bound of a clustering range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub key: Vec<u8>,
    pub inclusive: bool,
}

/// The clustering range of a scan within one partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRange {
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
}

/// The smallest byte string greater than every string starting with `prefix`, if any.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

impl KeyRange {
    /// The keys a scan can return, or none when the range is empty.
    pub fn of_scan(scan: &Scan) -> Option<Self> {
        let mut range = Self {
            lower: (!scan.prefix.is_empty()).then(|| Bound {
                key: scan.prefix.clone(),
                inclusive: true,
            }),
            upper: prefix_end(&scan.prefix).map(|key| Bound {
                key,
                inclusive: false,
            }),
        };
        if let Some(after) = &scan.after {
            let cursor = Bound {
                key: after.clone(),
                inclusive: false,
            };
            if scan.reverse {
                if range.upper.as_ref().is_none_or(|u| *after < u.key) {
                    range.upper = Some(cursor);
                }
            } else if range.lower.as_ref().is_none_or(|l| *after >= l.key) {
                range.lower = Some(cursor);
            }
        }
        match (&range.lower, &range.upper) {
            (Some(l), Some(u)) if l.key >= u.key => None,
            _ => Some(range),
        }
    }

    /// The buckets this range reaches in a time-ordered table.
    pub fn buckets(scan: &Scan) -> Option<BucketRange> {
        BucketRange::of_scan(&scan.prefix, scan.after.as_deref(), scan.reverse)
    }
}

/// `SELECT key, value` of one partition within `range`; binds are (tbl, scope,
/// bucket, [lower], [upper], limit).
pub fn select_range(keyspace: &str, range: &KeyRange, reverse: bool) -> String {
    let mut cql = format!(
        "SELECT key, value FROM {keyspace}.records WHERE tbl = ? AND scope = ? AND bucket = ?"
    );
    if let Some(lower) = &range.lower {
        cql.push_str(if lower.inclusive {
            " AND key >= ?"
        } else {
            " AND key > ?"
        });
    }
    if let Some(upper) = &range.upper {
        cql.push_str(if upper.inclusive {
            " AND key <= ?"
        } else {
            " AND key < ?"
        });
    }
    cql.push_str(if reverse {
        " ORDER BY key DESC"
    } else {
        " ORDER BY key ASC"
    });
    cql.push_str(" LIMIT ?");
    cql
}

/// The values bound to [`select_range`].
pub fn select_range_values(
    table: Table,
    scope: Scope,
    bucket: i64,
    range: &KeyRange,
    limit: i32,
) -> Vec<CqlValue> {
    let mut values = vec![
        CqlValue::Text(table.name.to_string()),
        CqlValue::Text(scope_text(scope)),
        CqlValue::BigInt(bucket),
    ];
    for bound in [&range.lower, &range.upper].into_iter().flatten() {
        values.push(CqlValue::Blob(bound.key.clone()));
    }
    values.push(CqlValue::Int(limit));
    values
}

/// `SELECT bucket` of a time-ordered partition within an inclusive range.
pub fn select_buckets(keyspace: &str, reverse: bool) -> String {
    format!(
        "SELECT bucket FROM {keyspace}.record_buckets WHERE tbl = ? AND scope = ? \
         AND bucket >= ? AND bucket <= ? ORDER BY bucket {}",
        if reverse { "DESC" } else { "ASC" }
    )
}

/// `SELECT value` of one record; binds are (tbl, scope, bucket, key).
pub fn select_one(keyspace: &str) -> String {
    format!(
        "SELECT value FROM {keyspace}.records WHERE tbl = ? AND scope = ? AND bucket = ? AND key = ?"
    )
}

/// `SELECT delta` of one counter; binds are (tbl, scope, key).
pub fn select_deltas(keyspace: &str) -> String {
    format!("SELECT delta FROM {keyspace}.counter_deltas WHERE tbl = ? AND scope = ? AND key = ?")
}

/// One statement of a batch with its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub cql: String,
    pub values: Vec<CqlValue>,
}

/// The statements that apply `ops`, the operation at index `i` written at
/// `timestamp + i` microseconds so that a later operation on the same key wins, as
/// in the embedded backend. Values are fixed here (counter delta ids included), so
/// replaying the same statements is idempotent.
pub fn batch_statements(keyspace: &str, ops: &[Op], timestamp: i64) -> Vec<Statement> {
    let mut out = Vec::with_capacity(ops.len() + 4);
    let mut buckets_written = std::collections::BTreeSet::new();
    for (index, op) in ops.iter().enumerate() {
        let ts = CqlValue::BigInt(timestamp + index as i64);
        match op {
            Op::Put {
                table,
                scope,
                key,
                value,
            } => {
                let bucket = bucket_of_key(table.layout, key);
                out.push(Statement {
                    cql: format!(
                        "INSERT INTO {keyspace}.records (tbl, scope, bucket, key, value) \
                         VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?"
                    ),
                    values: vec![
                        CqlValue::Text(table.name.to_string()),
                        CqlValue::Text(scope_text(*scope)),
                        CqlValue::BigInt(bucket),
                        CqlValue::Blob(key.clone()),
                        CqlValue::Blob(value.clone()),
                        ts,
                    ],
                });
                if table.layout == KeyLayout::TimeOrdered
                    && buckets_written.insert((table.name, *scope, bucket))
                {
                    out.push(Statement {
                        cql: format!(
                            "INSERT INTO {keyspace}.record_buckets (tbl, scope, bucket) \
                             VALUES (?, ?, ?)"
                        ),
                        values: vec![
                            CqlValue::Text(table.name.to_string()),
                            CqlValue::Text(scope_text(*scope)),
                            CqlValue::BigInt(bucket),
                        ],
                    });
                }
            }
            Op::Delete { table, scope, key } if table.layout == KeyLayout::Counter => {
                out.push(Statement {
                    cql: format!(
                        "DELETE FROM {keyspace}.counter_deltas USING TIMESTAMP ? \
                         WHERE tbl = ? AND scope = ? AND key = ?"
                    ),
                    values: vec![
                        ts,
                        CqlValue::Text(table.name.to_string()),
                        CqlValue::Text(scope_text(*scope)),
                        CqlValue::Blob(key.clone()),
                    ],
                });
            }
            Op::Delete { table, scope, key } => out.push(Statement {
                cql: format!(
                    "DELETE FROM {keyspace}.records USING TIMESTAMP ? \
                     WHERE tbl = ? AND scope = ? AND bucket = ? AND key = ?"
                ),
                values: vec![
                    ts,
                    CqlValue::Text(table.name.to_string()),
                    CqlValue::Text(scope_text(*scope)),
                    CqlValue::BigInt(bucket_of_key(table.layout, key)),
                    CqlValue::Blob(key.clone()),
                ],
            }),
            Op::Add {
                table,
                scope,
                key,
                delta,
            } => out.push(Statement {
                cql: format!(
                    "INSERT INTO {keyspace}.counter_deltas (tbl, scope, key, id, delta) \
                     VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?"
                ),
                values: vec![
                    CqlValue::Text(table.name.to_string()),
                    CqlValue::Text(scope_text(*scope)),
                    CqlValue::Blob(key.clone()),
                    CqlValue::Uuid(Uuid::new_v4()),
                    CqlValue::BigInt(*delta),
                    ts,
                ],
            }),
        }
    }
    out
}

/// Write timestamps in microseconds, strictly increasing within this process even
/// when batches follow each other within one microsecond.
#[derive(Debug, Default)]
pub struct Timestamps {
    last: AtomicI64,
}

impl Timestamps {
    /// Reserves `count` consecutive timestamps and returns the first.
    pub fn reserve(&self, count: usize) -> i64 {
        let count = i64::try_from(count.max(1)).unwrap_or(i64::MAX / 2);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 2));
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let first = now.max(last + 1);
            match self.last.compare_exchange_weak(
                last,
                first + count - 1,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return first,
                Err(seen) => last = seen,
            }
        }
    }
}
