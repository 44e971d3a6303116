//! The component engine: Wasmtime set up once, components loaded at deploy time,
//! and calls made with per-call limits and typed errors.
//!
//! - [`engine`]: engine configuration (pooling, epochs, fuel) and the epoch ticker.
//! - [`bindings`]: the generated host bindings of the three worlds.
//! - [`manifest`]: component manifests.
//! - [`component`]: compile or load precompiled, check imports, link grants.
//! - [`precompiled`]: the precompiled-artefact cache (the runtime's only `unsafe`).
//! - [`metrics`]: per-component invocations, errors, latency, memory, fuel.
//! - [`invoke`]: one call: store, limits, deadline, output caps, error kinds.
//! - [`error`]: [`WasmError`] (deploy) and [`InvokeError`] (call).

pub mod bindings;
pub mod component;
pub mod engine;
pub mod error;
pub mod invoke;
pub mod manifest;
pub mod metrics;
pub mod precompiled;

pub use component::{CompileSource, LoadedComponent};
pub use engine::{EngineSettings, WasmEngine};
pub use error::{InvokeError, WasmError};
pub use manifest::Manifest;
