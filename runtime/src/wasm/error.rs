//! Typed errors of the component engine.

use std::fmt;

/// Why a component could not be deployed or loaded.
#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    #[error("wasm engine: {0}")]
    Engine(String),
    #[error("manifest {path}: {message}")]
    Manifest { path: String, message: String },
    #[error("component {component}: cannot read {path}: {source}")]
    Io {
        component: String,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("component {component}: not a valid component: {message}")]
    Compile { component: String, message: String },
    #[error("component {component} imports `{interface}`, which its manifest does not grant")]
    ImportNotGranted {
        component: String,
        interface: String,
    },
    #[error("component {component} imports `{interface}`, which the host does not provide")]
    UnknownImport {
        component: String,
        interface: String,
    },
    #[error("component {component} does not implement world `{world}`: {message}")]
    MissingExport {
        component: String,
        world: String,
        message: String,
    },
}

impl WasmError {
    pub(crate) fn engine(e: impl fmt::Display) -> Self {
        Self::Engine(e.to_string())
    }
}

/// Why one call into a component failed. The message in hand is handled by the
/// slot's failure policy whatever the kind.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvokeError {
    #[error("deadline of {deadline_ms} ms exceeded")]
    DeadlineExceeded { deadline_ms: u64 },
    #[error("memory limit of {limit_mib} MiB exceeded")]
    MemoryLimit { limit_mib: u64 },
    #[error("fuel budget of {fuel} exhausted")]
    OutOfFuel { fuel: u64 },
    #[error("trap: {message}{}", backtrace_suffix(.backtrace))]
    Trap {
        message: String,
        backtrace: Vec<String>,
    },
    #[error("invalid output: {0}")]
    InvalidOutput(String),
    #[error("component answered an error ({kind}): {message}")]
    Component { kind: String, message: String },
    #[error("could not instantiate: {0}")]
    Instantiate(String),
}

fn backtrace_suffix(frames: &[String]) -> String {
    if frames.is_empty() {
        String::new()
    } else {
        format!(" (in {})", frames.join(" <- "))
    }
}

impl InvokeError {
    /// A short stable name for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::DeadlineExceeded { .. } => "deadline",
            Self::MemoryLimit { .. } => "memory",
            Self::OutOfFuel { .. } => "fuel",
            Self::Trap { .. } => "trap",
            Self::InvalidOutput(_) => "invalid_output",
            Self::Component { .. } => "component_error",
            Self::Instantiate(_) => "instantiate",
        }
    }
}
