//! Deployments: the operations behind `caliopen component deploy|list|rollback|history`
//! and the admin API. A deploy validates and compiles off the hot path, stores the
//! version in the records store, then switches the slot atomically; calls in flight
//! finish on the version they started with. Active versions live in the store, so a
//! restart comes back to them, and [`Registry::sync`] (run periodically by `serve`
//! when the records store is shared) picks up what other nodes deployed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use caliopen_core::service::components::{ComponentRecord, SlotState};
use caliopen_core::{Core, CoreError};

use crate::pipeline::Slots;
use crate::wasm::manifest::World;
use crate::wasm::{CompileSource, LoadedComponent, Manifest, WasmEngine, WasmError};

/// Why a deployment operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Wasm(#[from] WasmError),
    #[error("invalid manifest: {0}")]
    Manifest(String),
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("{0}")]
    Refused(String),
}

/// What a deploy did, for the operator.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeployReport {
    pub component: String,
    pub slot: String,
    pub digest: String,
    /// `compiled` or `cache`.
    pub compiled_from: &'static str,
    pub load_ms: u64,
    pub previous: Option<String>,
    pub shadow: bool,
}

/// The deployments of this node.
#[derive(Debug)]
pub struct Registry {
    core: Core,
    engine: Arc<WasmEngine>,
    slots: Arc<Slots>,
    cache: PathBuf,
    /// Loaded versions by `name@version`, so rollbacks need no recompilation.
    loaded: Mutex<HashMap<String, Arc<LoadedComponent>>>,
    /// Serialises deployment operations of this node.
    op: tokio::sync::Mutex<()>,
    /// The largest mail the listeners acknowledge: a parser or broker too small
    /// for it is refused at deploy (see [`Manifest::too_small_for`]).
    max_message_size: Option<usize>,
}

impl Registry {
    pub fn new(core: Core, engine: Arc<WasmEngine>, slots: Arc<Slots>, cache: PathBuf) -> Self {
        Self {
            core,
            engine,
            slots,
            cache,
            loaded: Mutex::default(),
            op: tokio::sync::Mutex::new(()),
            max_message_size: None,
        }
    }

    /// Refuses to deploy a parser or broker whose limits cannot take a mail of
    /// `max_message_size` bytes: such mail would be acknowledged, then quarantined.
    /// Versions already stored (restore, rollback, activate) are not refused: the
    /// server warns about them at start.
    pub fn with_max_message_size(mut self, max_message_size: usize) -> Self {
        self.max_message_size = Some(max_message_size);
        self
    }

    pub fn slots(&self) -> &Arc<Slots> {
        &self.slots
    }

    /// Loads a version (compiling on a blocking thread), or returns it when loaded.
    async fn load(
        &self,
        manifest: Manifest,
        wasm: Vec<u8>,
    ) -> Result<(Arc<LoadedComponent>, CompileSource, u64), DeployError> {
        let key = manifest.to_string();
        if let Some(c) = self
            .loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok((c.clone(), CompileSource::Cache, 0));
        }
        let engine = self.engine.clone();
        let cache = self.cache.clone();
        let started = Instant::now();
        let (component, how) = tokio::task::spawn_blocking(move || {
            let loaded = LoadedComponent::load(&engine, manifest, &wasm, Some(&cache));
            if matches!(loaded, Ok((_, CompileSource::Compiled))) {
                crate::trim::release_free_memory();
            }
            loaded
        })
        .await
        .map_err(|e| DeployError::Refused(format!("compilation task failed: {e}")))??;
        let component = Arc::new(component);
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, component.clone());
        Ok((component, how, started.elapsed().as_millis() as u64))
    }

    /// Deploys a component version and makes it active in its slot (or its shadow
    /// candidate, with `shadow`).
    pub async fn deploy(
        &self,
        manifest_text: &str,
        wasm: Vec<u8>,
        shadow: bool,
    ) -> Result<DeployReport, DeployError> {
        let manifest = Manifest::parse(manifest_text).map_err(DeployError::Manifest)?;
        if shadow && manifest.world != World::Qualifier {
            return Err(DeployError::Refused(
                "shadow mode is for qualifiers: it compares verdicts".into(),
            ));
        }
        if let Some(problem) = self
            .max_message_size
            .and_then(|max| manifest.too_small_for(max))
        {
            return Err(DeployError::Refused(format!(
                "{problem}: raise the manifest's limits, or lower lmtp.max_message_size"
            )));
        }
        let _op = self.op.lock().await;
        let (component, how, load_ms) = self.load(manifest.clone(), wasm.clone()).await?;
        let record = ComponentRecord {
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            slot: manifest.slot.clone(),
            manifest: manifest_text.to_owned(),
            digest: component.digest.clone(),
            deployed_at: chrono::Utc::now(),
        };
        self.core.store_component(&wasm, &record).await?;
        let state = self.core.slot(&manifest.slot).await?;
        let name = manifest.to_string();
        let previous = if shadow {
            state.shadow.clone()
        } else {
            state.active.clone()
        };
        if shadow {
            self.core
                .record_slot_change(
                    &manifest.slot,
                    "shadow",
                    state.active.clone(),
                    Some(name.clone()),
                )
                .await?;
            self.slots.install_shadow(component.clone());
        } else {
            self.core
                .record_slot_change(
                    &manifest.slot,
                    "deploy",
                    Some(name.clone()),
                    state.shadow.clone(),
                )
                .await?;
            self.slots.install(component.clone());
        }
        tracing::info!(component = %name, slot = %manifest.slot, shadow, ?how, load_ms, "component deployed");
        Ok(DeployReport {
            component: name,
            slot: manifest.slot,
            digest: component.digest.clone(),
            compiled_from: match how {
                CompileSource::Compiled => "compiled",
                CompileSource::Cache => "cache",
            },
            load_ms,
            previous,
            shadow,
        })
    }

    /// Makes a stored version active in its slot.
    pub async fn activate(
        &self,
        name: &str,
        version: &str,
        action: &str,
    ) -> Result<SlotState, DeployError> {
        let record = self
            .core
            .component_record(name, version)
            .await?
            .ok_or_else(|| DeployError::Refused(format!("{name}@{version} was never deployed")))?;
        let component = self.load_record(&record).await?;
        let state = self.core.slot(&record.slot).await?;
        let shadow = state
            .shadow
            .filter(|s| *s != component.manifest.to_string());
        if shadow.is_none() {
            self.slots.remove_shadow(&record.slot);
        }
        let state = self
            .core
            .record_slot_change(
                &record.slot,
                action,
                Some(component.manifest.to_string()),
                shadow,
            )
            .await?;
        self.slots.install(component);
        Ok(state)
    }

    /// Goes back to the version that was active before the current one.
    pub async fn rollback(&self, slot: &str) -> Result<SlotState, DeployError> {
        let _op = self.op.lock().await;
        let state = self.core.slot(slot).await?;
        let current = state
            .active
            .clone()
            .ok_or_else(|| DeployError::Refused(format!("slot `{slot}` has no active version")))?;
        let previous = state
            .history
            .iter()
            .rev()
            .filter(|e| !e.action.contains("shadow"))
            .filter_map(|e| e.from.clone())
            .find(|v| *v != current)
            .ok_or_else(|| {
                DeployError::Refused(format!(
                    "slot `{slot}` has no earlier version to roll back to"
                ))
            })?;
        let (name, version) = previous.split_once('@').unwrap_or((&previous, ""));
        self.activate(name, version, "rollback").await
    }

    /// Promotes the shadow candidate of a slot to active.
    pub async fn promote(&self, slot: &str) -> Result<SlotState, DeployError> {
        let _op = self.op.lock().await;
        let state = self.core.slot(slot).await?;
        let candidate = state.shadow.ok_or_else(|| {
            DeployError::Refused(format!("slot `{slot}` has no shadow candidate"))
        })?;
        let (name, version) = candidate.split_once('@').unwrap_or((&candidate, ""));
        self.activate(name, version, "promote").await
    }

    async fn load_record(
        &self,
        record: &ComponentRecord,
    ) -> Result<Arc<LoadedComponent>, DeployError> {
        let manifest = Manifest::parse(&record.manifest).map_err(DeployError::Manifest)?;
        let wasm = self.core.component_bytes(record).await?;
        Ok(self.load(manifest, wasm).await?.0)
    }

    /// At start-up: loads the active (and shadow) version of every stored slot.
    /// Returns the slots restored.
    pub async fn restore(&self) -> Result<Vec<String>, DeployError> {
        let mut restored = Vec::new();
        for state in self.core.slots().await? {
            for (which, version) in [("active", &state.active), ("shadow", &state.shadow)] {
                let Some(v) = version else { continue };
                let (name, version) = v.split_once('@').unwrap_or((v, ""));
                let Some(record) = self.core.component_record(name, version).await? else {
                    tracing::error!(slot = %state.slot, component = %v, "active version missing from the store");
                    continue;
                };
                let component = self.load_record(&record).await?;
                if which == "active" {
                    self.slots.install(component);
                } else {
                    self.slots.install_shadow(component);
                }
                restored.push(format!("{} ({which}: {v})", state.slot));
            }
        }
        Ok(restored)
    }

    /// Catches up with deployments made by other nodes sharing the records store:
    /// for each stored slot whose active (or shadow) version is not the one loaded
    /// here, loads the stored version and installs it. Returns the slots changed.
    /// Cheap when nothing changed: one read of the slot states.
    pub async fn sync(&self) -> Result<Vec<String>, DeployError> {
        let _op = self.op.lock().await;
        let mut changed = Vec::new();
        for state in self.core.slots().await? {
            let chain = self.slots.snapshot();
            let qualifier = chain
                .qualifiers
                .iter()
                .find(|q| q.active.manifest.slot == state.slot);
            let loaded_active = chain
                .parser
                .iter()
                .chain(chain.broker.iter())
                .chain(qualifier.map(|q| &q.active))
                .find(|c| c.manifest.slot == state.slot)
                .map(|c| c.manifest.to_string());
            let loaded_shadow =
                qualifier.and_then(|q| q.shadow.as_ref().map(|(c, _)| c.manifest.to_string()));
            if let Some(active) = &state.active
                && loaded_active.as_ref() != Some(active)
            {
                let Some(component) = self.stored(&state.slot, active).await? else {
                    continue;
                };
                self.slots.install(component);
                changed.push(format!("{} (active: {active})", state.slot));
            }
            match &state.shadow {
                Some(shadow) if loaded_shadow.as_ref() != Some(shadow) => {
                    if let Some(component) = self.stored(&state.slot, shadow).await? {
                        self.slots.install_shadow(component);
                        changed.push(format!("{} (shadow: {shadow})", state.slot));
                    }
                }
                None if loaded_shadow.is_some() => {
                    self.slots.remove_shadow(&state.slot);
                    changed.push(format!("{} (shadow removed)", state.slot));
                }
                _ => {}
            }
        }
        Ok(changed)
    }

    /// Loads the stored `name@version` of a slot; `None` (logged) when missing.
    async fn stored(
        &self,
        slot: &str,
        id: &str,
    ) -> Result<Option<Arc<LoadedComponent>>, DeployError> {
        let (name, version) = id.split_once('@').unwrap_or((id, ""));
        let Some(record) = self.core.component_record(name, version).await? else {
            tracing::error!(%slot, component = %id, "version missing from the store");
            return Ok(None);
        };
        Ok(Some(self.load_record(&record).await?))
    }

    /// Every slot with its history.
    pub async fn list(&self) -> Result<Vec<SlotState>, DeployError> {
        Ok(self.core.slots().await?)
    }
}
