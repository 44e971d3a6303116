//! Loading a component: compile (or load the precompiled artefact), check its
//! imports against the manifest's grants, link only what is granted, and check
//! its exports against its world. Everything here happens at deploy time; the
//! result, one `InstancePre` per component version, is all the message path uses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};

use super::WasmError;
use super::bindings::{self, broker::BrokerPre, parser::ParserPre, qualifier::QualifierPre};
use super::engine::WasmEngine;
use super::manifest::{Grant, Manifest, World};
use crate::host::{ComponentLabel, HostState};

/// The package every host interface lives in.
const PLATFORM: &str = "caliopen:platform/";

/// A component version ready to be instantiated.
pub struct LoadedComponent {
    pub manifest: Manifest,
    /// SHA-256 of the component bytes.
    pub digest: String,
    pub(crate) label: ComponentLabel,
    pub(crate) config: Arc<BTreeMap<String, String>>,
    pub(crate) pre: WorldPre,
    pub(crate) metrics: Arc<super::metrics::CallMetrics>,
}

pub(crate) enum WorldPre {
    Parser(ParserPre<HostState>),
    Broker(BrokerPre<HostState>),
    Qualifier(QualifierPre<HostState>),
}

impl std::fmt::Debug for LoadedComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedComponent")
            .field("manifest", &self.manifest.to_string())
            .field("world", &self.manifest.world)
            .field("digest", &self.digest)
            .finish()
    }
}

/// How a load went, for the deploy report and the benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileSource {
    /// Compiled from the component bytes now.
    Compiled,
    /// Loaded from the precompiled-artefact cache.
    Cache,
}

impl LoadedComponent {
    /// Loads a component from bytes. With a cache directory, the compiled artefact
    /// is reused when present and written when not.
    pub fn load(
        engine: &WasmEngine,
        manifest: Manifest,
        wasm: &[u8],
        cache: Option<&Path>,
    ) -> Result<(Self, CompileSource), WasmError> {
        let name = manifest.to_string();
        let digest = hex::encode(Sha256::digest(wasm));
        let (component, source) = compile(engine, &name, wasm, &digest, cache)?;
        check_imports(engine, &manifest, &component)?;
        let linker = linker_for(engine, &manifest)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(|e| WasmError::MissingExport {
                component: name.clone(),
                world: manifest.world.as_str().into(),
                message: format!("{e:#}"),
            })?;
        let missing = |e: wasmtime::Error| WasmError::MissingExport {
            component: name.clone(),
            world: manifest.world.as_str().into(),
            message: format!("{e:#}"),
        };
        let pre = match manifest.world {
            World::Parser => WorldPre::Parser(ParserPre::new(pre).map_err(missing)?),
            World::Broker => WorldPre::Broker(BrokerPre::new(pre).map_err(missing)?),
            World::Qualifier => WorldPre::Qualifier(QualifierPre::new(pre).map_err(missing)?),
        };
        let label = ComponentLabel {
            name: manifest.name.as_str().into(),
            version: manifest.version.as_str().into(),
        };
        let config = Arc::new(manifest.config.clone());
        let metrics = engine
            .metrics()
            .component(&manifest.name, &manifest.version);
        Ok((
            Self {
                manifest,
                digest,
                label,
                config,
                pre,
                metrics,
            },
            source,
        ))
    }
}

fn compile(
    engine: &WasmEngine,
    name: &str,
    wasm: &[u8],
    digest: &str,
    cache: Option<&Path>,
) -> Result<(Component, CompileSource), WasmError> {
    let bad = |e: wasmtime::Error| WasmError::Compile {
        component: name.to_owned(),
        message: format!("{e:#}"),
    };
    let Some(dir) = cache else {
        return Ok((
            Component::new(engine.engine(), wasm).map_err(bad)?,
            CompileSource::Compiled,
        ));
    };
    let path = artefact_path(engine, dir, digest);
    if path.exists() {
        match crate::wasm::precompiled::load(engine, &path) {
            Ok(c) => return Ok((c, CompileSource::Cache)),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unusable precompiled artefact");
            }
        }
    }
    let bytes = engine.engine().precompile_component(wasm).map_err(bad)?;
    let io = |source| WasmError::Io {
        component: name.to_owned(),
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    // A name of this writer's own: processes sharing a cache directory (tests, a
    // second node) never write into each other's temporary file.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("{}-{n}.tmp", std::process::id()));
    std::fs::write(&tmp, &bytes).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)?;
    let component = crate::wasm::precompiled::load(engine, &path).map_err(bad)?;
    Ok((component, CompileSource::Compiled))
}

/// Artefacts are keyed by the component digest and the engine's compatibility
/// hash, so a Wasmtime upgrade or a setting change never loads a stale one.
fn artefact_path(engine: &WasmEngine, dir: &Path, digest: &str) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.engine().precompile_compatibility_hash().hash(&mut h);
    dir.join(format!("{digest}-{:016x}.cwasm", h.finish()))
}

/// Every import must be a granted host interface (or WASI, for a WASI guest).
fn check_imports(
    engine: &WasmEngine,
    manifest: &Manifest,
    component: &Component,
) -> Result<(), WasmError> {
    let ty = component.component_type();
    for (import, _) in ty.imports(engine.engine()) {
        let unversioned = import.split('@').next().unwrap_or(import);
        if let Some(interface) = unversioned.strip_prefix(PLATFORM) {
            if matches!(interface, "types" | "host-errors") {
                continue;
            }
            match Grant::from_interface(interface) {
                Some(g) if manifest.grants.contains(&g) => continue,
                Some(_) => {
                    return Err(WasmError::ImportNotGranted {
                        component: manifest.to_string(),
                        interface: import.to_owned(),
                    });
                }
                None => {}
            }
        } else if unversioned.starts_with("wasi:") {
            if manifest.wasi {
                continue;
            }
            return Err(WasmError::ImportNotGranted {
                component: manifest.to_string(),
                interface: format!(
                    "{import} (set `wasi = true` for a WASI guest: it is granted no files, network or environment)"
                ),
            });
        }
        return Err(WasmError::UnknownImport {
            component: manifest.to_string(),
            interface: import.to_owned(),
        });
    }
    Ok(())
}

/// A linker holding exactly the granted interfaces.
fn linker_for(engine: &WasmEngine, manifest: &Manifest) -> Result<Linker<HostState>, WasmError> {
    let mut linker = Linker::<HostState>::new(engine.engine());
    fn get(s: &mut HostState) -> &mut HostState {
        s
    }
    let mut link = || -> wasmtime::Result<()> {
        bindings::types::add_to_linker::<_, HasSelf<HostState>>(&mut linker, get)?;
        bindings::host_errors::add_to_linker::<_, HasSelf<HostState>>(&mut linker, get)?;
        for grant in &manifest.grants {
            match grant {
                // The interfaces whose functions take strings are linked by hand,
                // so that each string is checked for length before it is copied.
                Grant::Log => crate::host::link::add_log(&mut linker)?,
                Grant::Clock => {
                    bindings::clock::add_to_linker::<_, HasSelf<HostState>>(&mut linker, get)?;
                }
                Grant::Config => crate::host::link::add_config(&mut linker)?,
                Grant::Contacts => crate::host::link::add_contacts(&mut linker)?,
                Grant::User => crate::host::link::add_user(&mut linker)?,
            }
        }
        if manifest.wasi {
            crate::host::wasi::add_to_linker(&mut linker)?;
        }
        Ok(())
    };
    link().map_err(WasmError::engine)?;
    Ok(linker)
}
