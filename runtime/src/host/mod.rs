//! Host side of the WIT interfaces: [`HostState`] is the data of every store, and
//! each interface is implemented in its own file over core's `UserContext`;
//! [`link`] links those that take strings, checking each string's length before
//! it is copied, and [`limits`] holds the per-instance memory limiter.
//!
//! Host functions run on the blocking thread that runs the component; the few
//! that need storage wait on core's futures with the runtime handle. None of them
//! takes a user id from the guest: the user is fixed when the store is created.

mod clock;
mod config;
mod contacts;
pub(crate) mod limits;
pub(crate) mod link;
mod log;
mod user;
pub(crate) mod wasi;

use std::collections::BTreeMap;
use std::sync::Arc;

use caliopen_core::CoreError;
use caliopen_core::context::UserContext;

pub use limits::MemoryLimiter;

use crate::wasm::bindings::host_errors::HostError;

/// Which component a store runs, for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentLabel {
    pub name: Arc<str>,
    pub version: Arc<str>,
}

/// The data of one store: one call of one component for (at most) one user.
#[derive(Debug)]
pub struct HostState {
    pub(crate) label: ComponentLabel,
    pub(crate) user: Option<UserContext>,
    pub(crate) config: Arc<BTreeMap<String, String>>,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) log_lines_left: u32,
    pub(crate) log_lines_dropped: u32,
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) wasi: Option<wasi::WasiState>,
}

impl HostState {
    pub fn new(
        label: ComponentLabel,
        user: Option<UserContext>,
        config: Arc<BTreeMap<String, String>>,
        max_memory: usize,
        max_log_lines: u32,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self {
            label,
            user,
            config,
            limiter: MemoryLimiter::new(max_memory),
            log_lines_left: max_log_lines,
            log_lines_dropped: 0,
            runtime,
            wasi: None,
        }
    }

    /// The user of this call, or the error a component gets when it runs without one.
    fn user(&self) -> Result<&UserContext, HostError> {
        self.user
            .as_ref()
            .ok_or_else(|| HostError::Unavailable("no user in this call".into()))
    }

    /// Waits for a core future from the component's (blocking) thread.
    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }
}

/// Core errors as a guest sees them: never internals.
fn host_error(e: CoreError) -> HostError {
    match e {
        CoreError::Invalid { field, reason } => {
            HostError::InvalidArgument(format!("{field}: {reason}"))
        }
        CoreError::NotFound { .. } | CoreError::Forbidden(_) | CoreError::Unauthenticated(_) => {
            HostError::Denied("not available to this component".into())
        }
        other => {
            tracing::warn!(error = %other, "host call failed");
            HostError::Unavailable("storage is unavailable, retry later".into())
        }
    }
}
