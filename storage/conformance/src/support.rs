//! Helpers shared by the checks: the tables they use, fresh scopes, opening and
//! closing through the [`Backend`], and panicking with context on storage errors.

use std::fmt::Display;

use caliopen_storage_traits::{Batch, Page, Scan, Scope, StorageResult, Stores, Table};
use uuid::Uuid;

use crate::Backend;

/// Opaque keys.
pub(crate) const PLAIN: Table = Table::plain("conformance_plain");
/// A second table, to show tables do not mix.
pub(crate) const OTHER: Table = Table::plain("conformance_other");
/// Counters.
pub(crate) const COUNTERS: Table = Table::counter("conformance_counters");
/// Keys starting with a UUIDv7.
pub(crate) const TIMELINE: Table = Table::time_ordered("conformance_timeline");

/// The value of a storage call, or a panic that says which backend and step failed.
pub(crate) fn ok<T>(backend: &dyn Backend, what: impl Display, result: StorageResult<T>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("[{}] {what}: unexpected storage error: {e}", backend.name()),
    }
}

/// A scope no other check (or earlier run) uses.
pub(crate) fn fresh_user() -> Scope {
    Scope::User(Uuid::new_v4())
}

/// A key prefix no other check (or earlier run) uses, for the global scope.
pub(crate) fn fresh_prefix() -> Vec<u8> {
    format!("{}/", Uuid::new_v4().simple()).into_bytes()
}

pub(crate) async fn open(backend: &dyn Backend) -> Stores {
    let opened = backend.open().await;
    ok(backend, "opening the stores", opened)
}

pub(crate) async fn close(backend: &dyn Backend, stores: Stores) {
    let closed = backend.close(stores).await;
    ok(backend, "closing the stores", closed);
}

/// Writes one batch, panicking with `what` on error.
pub(crate) async fn write(
    backend: &dyn Backend,
    stores: &Stores,
    what: impl Display,
    batch: Batch,
) {
    let written = stores.records.write(batch).await;
    ok(backend, what, written);
}

/// Writes one record.
pub(crate) async fn put(
    backend: &dyn Backend,
    stores: &Stores,
    table: Table,
    scope: Scope,
    key: &[u8],
    value: &[u8],
) {
    let mut batch = Batch::new();
    batch.put(table, scope, key, value.to_vec());
    write(
        backend,
        stores,
        format_args!("putting {key:?} in {}", table.name),
        batch,
    )
    .await;
}

/// Every page of a scan, following `next` until it is none.
pub(crate) async fn scan_pages(
    backend: &dyn Backend,
    stores: &Stores,
    table: Table,
    scope: Scope,
    scan: Scan,
) -> Vec<Page> {
    let mut pages = Vec::new();
    let mut scan = scan;
    loop {
        let page = stores.records.scan(table, scope, scan.clone()).await;
        let page = ok(
            backend,
            format_args!("scanning {} after {:?}", table.name, scan.after),
            page,
        );
        assert!(
            page.items.len() <= scan.limit,
            "[{}] a scan with limit {} returned {} records",
            backend.name(),
            scan.limit,
            page.items.len()
        );
        if let Some(next) = &page.next {
            let last = page.items.last().map(|(key, _)| key);
            assert_eq!(
                Some(next),
                last,
                "[{}] a page's `next` must be the last key it returned",
                backend.name()
            );
        }
        assert!(
            pages.len() < 10_000,
            "[{}] scanning {} never ends (cursor does not advance?)",
            backend.name(),
            table.name
        );
        scan.after.clone_from(&page.next);
        let done = page.next.is_none();
        pages.push(page);
        if done {
            return pages;
        }
    }
}

/// The keys of every record a scan reaches, across pages.
pub(crate) async fn scan_keys(
    backend: &dyn Backend,
    stores: &Stores,
    table: Table,
    scope: Scope,
    scan: Scan,
) -> Vec<Vec<u8>> {
    scan_pages(backend, stores, table, scope, scan)
        .await
        .into_iter()
        .flat_map(|page| page.items.into_iter().map(|(key, _)| key))
        .collect()
}

/// Deterministic incompressible bytes (xorshift64*).
pub(crate) fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}
