//! The one test suite every Caliopen storage backend must pass.
//!
//! A backend implements [`Backend`] (open its [`Stores`], close them, open them again
//! on the same data) and runs the checks, either all at once with [`run_all`] or one
//! test per check with [`conformance_tests!`]. Each check is a public async function
//! that panics with a message naming the backend and the broken rule.
//!
//! - [`records`]: reads and writes, scopes, counters, batch validation.
//! - [`limits`]: key lengths: the longest allowed is stored, a longer one (up to
//!   past what an engine asserts on) is refused in every operation and the store
//!   goes on serving.
//! - [`order`]: bytewise key order and paging (prefixes, cursors, limits, reverse);
//!   keys ordered by a signed number then an id (core's by-date indexes).
//! - [`concurrency`]: concurrent writers with exact counters; batches never seen half
//!   applied.
//! - [`blobs`]: content addressing, idempotent puts, large blobs.
//! - [`blob_refs`]: a blob is never deleted while counted, even beside a new
//!   reference added at the same time.
//! - [`ephemeral`]: time to live, namespaces, increment windows (short real sleeps).
//! - [`search`]: the query semantics of `caliopen_storage_traits::search`.
//! - [`restart`]: everything written before a close is there after a reopen.
//! - `support`: shared helpers.
//!
//! Checks use fresh random users and keys, so they can share one backend (as
//! [`run_all`] does), with one exception: [`search::scope::search_clear`] empties the
//! whole index.

pub mod blob_refs;
pub mod blobs;
pub mod concurrency;
pub mod ephemeral;
pub mod limits;
pub mod order;
pub mod records;
pub mod restart;
pub mod search;
mod support;

use async_trait::async_trait;
use caliopen_storage_traits::{StorageResult, Stores};

pub use blob_refs::blobs_delete_unreferenced;
pub use blobs::{blobs_idempotent, blobs_large, blobs_put_then_write, blobs_round_trip};
pub use concurrency::{records_batch_atomicity, records_concurrent_writers};
pub use ephemeral::{ephemeral_increment_window, ephemeral_ttl};
pub use limits::{ephemeral_key_limits, records_key_limits};
pub use order::{records_key_order, records_number_order, records_paging};
pub use records::{
    records_batch_validation, records_counters, records_get_put_delete, records_scope_isolation,
};
pub use restart::restart_keeps_everything;
pub use search::scope::{
    search_clear, search_idempotent_upsert, search_kind_filter_and_totals, search_range_filters,
    search_ranking_and_paging, search_user_isolation,
};
pub use search::text::{
    search_addresses, search_case_and_accents, search_empty_text, search_highlights,
    search_whole_words, search_words_and,
};

/// A storage backend under test.
#[async_trait]
pub trait Backend: Send + Sync {
    /// A short name for failure messages (`"embedded"`, `"scylla+elasticsearch"`).
    fn name(&self) -> &str;

    /// Opens the backend's stores. Opening again after [`Backend::close`] must see
    /// the same persistent data (the restart check depends on it).
    async fn open(&self) -> StorageResult<Stores>;

    /// Closes stores returned by [`Backend::open`]: pending writes finish, files and
    /// locks are released, so that the next open can succeed.
    async fn close(&self, stores: Stores) -> StorageResult<()>;
}

/// Calls `$callback!` with the name of every check, in the order [`run_all`] runs
/// them. Used by [`conformance_tests!`] and [`run_all`] so the list lives once.
#[doc(hidden)]
#[macro_export]
macro_rules! __for_each_check {
    ($callback:ident ! ($($args:tt)*)) => {
        $crate::$callback! {
            $($args)*;
            records_get_put_delete,
            records_key_order,
            records_paging,
            records_number_order,
            records_scope_isolation,
            records_counters,
            records_batch_validation,
            records_key_limits,
            records_batch_atomicity,
            records_concurrent_writers,
            blobs_round_trip,
            blobs_idempotent,
            blobs_large,
            blobs_put_then_write,
            blobs_delete_unreferenced,
            ephemeral_ttl,
            ephemeral_increment_window,
            ephemeral_key_limits,
            search_words_and,
            search_case_and_accents,
            search_whole_words,
            search_addresses,
            search_highlights,
            search_user_isolation,
            search_kind_filter_and_totals,
            search_range_filters,
            search_ranking_and_paging,
            search_idempotent_upsert,
            search_empty_text,
            search_clear,
            restart_keeps_everything
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __run_checks {
    ($backend:expr; $($check:ident),* $(,)?) => {{
        let backend: &dyn $crate::Backend = $backend;
        $(
            eprintln!("[{}] conformance check {} ...", backend.name(), stringify!($check));
            let started = std::time::Instant::now();
            $crate::$check(backend).await;
            eprintln!("[{}] conformance check {} passed in {:?}", backend.name(), stringify!($check), started.elapsed());
        )*
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __check_tests {
    ($make:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let backend = $make;
                $crate::$check(&backend).await;
            }
        )*
    };
}

/// Generates one `#[tokio::test]` per check; `$make` builds a fresh [`Backend`] for
/// each test (the calling crate needs `tokio` as a dev-dependency).
///
/// ```ignore
/// caliopen_storage_conformance::conformance_tests!(TempDirBackend::new());
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::__for_each_check!(__check_tests!($make));
    };
}

/// Runs every check in order on one backend, printing each check's name and time to
/// stderr; the first failure panics with its message.
pub async fn run_all(backend: &dyn Backend) {
    __for_each_check!(__run_checks!(backend));
}
