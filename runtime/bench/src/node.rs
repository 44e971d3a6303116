//! An in-process node for the scenarios that measure below the protocols: the real
//! embedded store, core, Wasmtime engine and components, in this process, with no
//! listener (the `api` scenario adds the REST router itself).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use caliopen_core::context::UserContext;
use caliopen_core::service::users::NewUser;
use caliopen_core::{Core, CoreConfig};
use caliopen_runtime::pipeline::{ComponentPipeline, Slots};
use caliopen_runtime::registry::Registry;
use caliopen_runtime::wasm::{EngineSettings, Manifest, WasmEngine};
use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};
use uuid::Uuid;

/// The default chain of `configs/caliopen.toml`: (folder under `components/`, artefact).
pub const DEFAULT_CHAIN: &[(&str, &str)] = &[
    ("email-parser", "caliopen_email_parser"),
    ("email-broker", "caliopen_email_broker"),
    ("qualifier-tags", "caliopen_qualifier_tags"),
    ("qualifier-spam", "caliopen_qualifier_spam"),
    ("qualifier-pi", "caliopen_qualifier_pi"),
    ("qualifier-importance", "caliopen_qualifier_importance"),
];

/// The qualifiers written in Python and JavaScript (`cargo xtask components --interpreted`).
pub const INTERPRETED: &[(&str, &str)] = &[
    ("qualifier-python", "caliopen_qualifier_python"),
    ("qualifier-js", "caliopen_qualifier_js"),
];

/// The password of every user the scenarios create.
pub const PASSWORD: &str = "bench password for a bench user";

/// Store, core, engine and the slots of a node in this process.
#[derive(Debug)]
pub struct Node {
    pub core: Core,
    pub engine: Arc<WasmEngine>,
    pub slots: Arc<Slots>,
    /// Kept for the node's lifetime: deployments and the open store.
    _registry: Registry,
    _storage: EmbeddedStorage,
}

impl Node {
    /// Opens a new store under `dir` and deploys `components` (from `target/components`).
    /// Must run inside a Tokio runtime.
    pub async fn new(
        root: &Path,
        dir: &Path,
        engine: &EngineSettings,
        components: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let storage = EmbeddedStorage::open(&dir.join("store"), EmbeddedOptions::default())
            .context("cannot open the embedded store")?;
        let core = Core::new(storage.stores(), CoreConfig::default());
        let engine = Arc::new(WasmEngine::new(engine)?);
        let slots = Arc::new(Slots::default());
        let registry = Registry::new(
            core.clone(),
            engine.clone(),
            slots.clone(),
            dir.join("component-cache"),
        );
        for (folder, artefact) in components {
            let (manifest, wasm) = component(root, folder, artefact)?;
            registry
                .deploy(&manifest, wasm, false)
                .await
                .with_context(|| format!("cannot deploy {folder}"))?;
        }
        Ok(Self {
            core,
            engine,
            slots,
            _registry: registry,
            _storage: storage,
        })
    }

    /// The component pipeline over this node's slots, as `caliopen serve` builds it.
    pub fn pipeline(&self) -> ComponentPipeline {
        ComponentPipeline::new(self.engine.clone(), self.slots.clone())
    }

    /// Creates a user; returns its id and its context.
    pub async fn user(&self, name: &str) -> anyhow::Result<(Uuid, UserContext)> {
        let user = self
            .core
            .create_user(NewUser {
                username: name.into(),
                password: PASSWORD.into(),
                recovery_email: format!("{name}@example.org"),
                ..NewUser::default()
            })
            .await
            .with_context(|| format!("cannot create user {name}"))?;
        let ctx = UserContext::for_user(&self.core, user.id).await?;
        Ok((user.id, ctx))
    }
}

/// The manifest text and the built artefact of a component of the repository.
pub fn component(root: &Path, folder: &str, artefact: &str) -> anyhow::Result<(String, Vec<u8>)> {
    let manifest_path = root.join("components").join(folder).join("component.toml");
    let manifest = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    Ok((manifest, artefact_bytes(root, artefact)?))
}

/// `target/components/<artefact>.wasm`, built by `cargo xtask components`.
pub fn artefact_bytes(root: &Path, artefact: &str) -> anyhow::Result<Vec<u8>> {
    let path = artefact_path(root, artefact);
    std::fs::read(&path).with_context(|| {
        format!(
            "cannot read {}: build the components with `cargo xtask components`",
            path.display()
        )
    })
}

pub fn artefact_path(root: &Path, artefact: &str) -> PathBuf {
    root.join("target/components")
        .join(format!("{artefact}.wasm"))
}

/// A parsed manifest of a component of the repository.
pub fn manifest(root: &Path, folder: &str) -> anyhow::Result<Manifest> {
    let text =
        std::fs::read_to_string(root.join("components").join(folder).join("component.toml"))?;
    Manifest::parse(&text).map_err(|e| anyhow::anyhow!("{folder}: {e}"))
}

/// A multi-threaded Tokio runtime with two workers (the machine's cores).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start a Tokio runtime")
}
