//! `parser_component`: any bytes as a raw mail, parsed by the email-parser component through
//! the host, as ingest does (`LoadedComponent::parse`).
//!
//! The engine and the component are loaded once per process from `target/components/`
//! (built by `cargo xtask components`). Beyond "the host does not panic": the component
//! answers every mail with a parsed mail or a typed error of its own; a trap, an output the
//! host refuses, or a failed instantiation is a finding. The sandbox's limits (deadline,
//! memory, fuel) are part of the contract too: a mail of this size must fit in them.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use caliopen_runtime::wasm::{EngineSettings, InvokeError, LoadedComponent, Manifest, WasmEngine};

/// Largest input the target passes on: the sandbox is budgeted for real mail, and longer
/// inputs only slow the search down.
const MAX_MAIL: usize = 256 * 1024;

struct Parser {
    engine: WasmEngine,
    component: LoadedComponent,
    /// Host calls reach async services through the runtime's handle, as in ingest (which
    /// calls components from `spawn_blocking`).
    runtime: tokio::runtime::Runtime,
}

fn workspace_root() -> PathBuf {
    // fuzz/ → the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the fuzz crate lives one level under the root")
        .to_path_buf()
}

fn parser() -> &'static Parser {
    static PARSER: OnceLock<Parser> = OnceLock::new();
    PARSER.get_or_init(|| {
        let root = workspace_root();
        let wasm_path = root.join("target/components/caliopen_email_parser.wasm");
        let wasm = std::fs::read(&wasm_path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; build the components first: cargo xtask components",
                wasm_path.display()
            )
        });
        let manifest = Manifest::load(&root.join("components/email-parser/component.toml"))
            .expect("the parser's manifest");
        let engine = WasmEngine::new(&EngineSettings::default()).expect("a wasm engine");
        let (component, _) =
            LoadedComponent::load(&engine, manifest, &wasm, None).expect("load the parser");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        Parser {
            engine,
            component,
            runtime,
        }
    })
}

/// Loads the component now, so that a runner's time budget is spent on inputs.
pub fn warm_up_parser() {
    let _ = parser();
}

/// One raw mail.
pub fn parser_component(data: &[u8]) {
    let raw = &data[..data.len().min(MAX_MAIL)];
    let parser = parser();
    let _context = parser.runtime.enter();
    let (result, _) = parser.component.parse(&parser.engine, raw);
    match result {
        Ok(_) | Err(InvokeError::Component { .. }) => {}
        Err(error) => panic!(
            "the parser failed on a {}-byte mail: {error}\n{:?}",
            raw.len(),
            String::from_utf8_lossy(&raw[..raw.len().min(512)])
        ),
    }
}
