//! Builds every guest crate under `components/` (those whose Cargo.toml says
//! `[package.metadata.caliopen] component = true`) for wasm32, and encodes each
//! core module into a component in `target/components/<crate>.wasm`; then the
//! Python and JavaScript guests ([`interpreted`]).
//!
//! The toolchain, in order of preference: a rustup toolchain with the
//! `wasm32-unknown-unknown` target; else Debian's rustc-web with the standard
//! library built from source (`-Zbuild-std`, see ../shared/TOOLCHAIN.md); else an
//! error naming what to install.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

pub mod interpreted;

const TARGET: &str = "wasm32-unknown-unknown";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_STD_SOURCES: &str = "/usr/lib/rustlib/src/rust/library";
const WASM_LD: &str = "/usr/lib/llvm-22/bin/wasm-ld";

/// A guest crate.
#[derive(Debug)]
pub struct Guest {
    pub package: String,
    /// The file name cargo gives its artefact (`-` → `_`).
    pub artefact: String,
}

pub fn rustup_has_wasm_target() -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == TARGET)
        })
}

fn debian_route_available() -> bool {
    [DEBIAN_CARGO, DEBIAN_RUSTC, DEBIAN_STD_SOURCES, WASM_LD]
        .iter()
        .all(|p| Path::new(p).exists())
}

/// The guest crates of the workspace.
pub fn guests(root: &Path) -> anyhow::Result<Vec<Guest>> {
    let mut out = Vec::new();
    let dir = root.join("components");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let manifest = entry.path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let doc: toml::Table =
            toml::from_str(&text).with_context(|| format!("{}", manifest.display()))?;
        let package = doc.get("package").and_then(|p| p.as_table());
        let is_component = package
            .and_then(|p| p.get("metadata"))
            .and_then(|m| m.get("caliopen"))
            .and_then(|c| c.get("component"))
            .and_then(toml::Value::as_bool)
            .unwrap_or(false);
        let name = package
            .and_then(|p| p.get("name"))
            .and_then(toml::Value::as_str);
        if let (true, Some(name)) = (is_component, name) {
            out.push(Guest {
                package: name.to_owned(),
                artefact: name.replace('-', "_"),
            });
        }
    }
    Ok(out)
}

/// `cargo xtask components [--rust | --interpreted]`: every guest, or one kind.
pub fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let out_dir = root.join("target").join("components");
    let built = match args.first().map(String::as_str) {
        None => return build_all(root).map(|_| ()),
        Some("--rust") => build_rust(root, &out_dir)?,
        Some("--interpreted") => interpreted::build_all(root, &out_dir)?,
        Some(other) => {
            bail!("unknown option `{other}`: cargo xtask components [--rust | --interpreted]")
        }
    };
    println!(
        "xtask: {} component(s) in {}",
        built.len(),
        out_dir.display()
    );
    Ok(())
}

/// Builds every guest, Rust then interpreted; returns the component paths.
pub fn build_all(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let out_dir = root.join("target").join("components");
    let mut built = build_rust(root, &out_dir)?;
    built.extend(interpreted::build_all(root, &out_dir)?);
    println!(
        "xtask: {} component(s) in {}",
        built.len(),
        out_dir.display()
    );
    Ok(built)
}

/// Builds and encodes every Rust guest; returns the component paths.
fn build_rust(root: &Path, out_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let guests = guests(root)?;
    if guests.is_empty() {
        return Ok(Vec::new());
    }
    let target_dir = root.join("target").join("wasm");
    let mut cmd = if rustup_has_wasm_target() {
        let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        c.args(["build", "--target", TARGET, "--profile", "wasm"]);
        c
    } else if debian_route_available() {
        let mut c = Command::new(DEBIAN_CARGO);
        // Cargo runs this task: clear what it set so the Debian toolchain is used.
        for (key, _) in std::env::vars() {
            if key.starts_with("CARGO")
                || key.starts_with("RUSTC")
                || key.starts_with("RUSTUP")
                || key == "RUSTFLAGS"
            {
                c.env_remove(key);
            }
        }
        c.env("RUSTC", DEBIAN_RUSTC)
            .env("RUSTC_BOOTSTRAP", "1")
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", WASM_LD)
            .args([
                "build",
                "-Zbuild-std=std,panic_abort",
                "--target",
                TARGET,
                "--profile",
                "wasm",
            ]);
        c
    } else {
        bail!(
            "no wasm32 toolchain: install one with `apt-get install {}` (Debian) \
             or `rustup target add {TARGET}`, then retry (`cargo xtask setup` does the former)",
            crate::setup::WASM_PACKAGES.join(" ")
        );
    };
    cmd.current_dir(root).env("CARGO_TARGET_DIR", &target_dir);
    for g in &guests {
        cmd.args(["-p", &g.package]);
    }
    let status = cmd
        .status()
        .context("cannot run cargo for the wasm build")?;
    if !status.success() {
        bail!("building the wasm components failed ({status})");
    }
    std::fs::create_dir_all(out_dir)?;
    let mut built = Vec::new();
    for g in &guests {
        let module = target_dir
            .join(TARGET)
            .join("wasm")
            .join(format!("{}.wasm", g.artefact));
        let component = out_dir.join(format!("{}.wasm", g.artefact));
        encode(&module, &component).with_context(|| format!("encoding {}", g.package))?;
        built.push(component);
    }
    Ok(built)
}

/// Core module (with its component type embedded by wit-bindgen) → component.
fn encode(module: &Path, component: &Path) -> anyhow::Result<()> {
    let fresh = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(src), Some(dst)) = (fresh(module), fresh(component))
        && dst >= src
    {
        return Ok(());
    }
    let bytes =
        std::fs::read(module).with_context(|| format!("cannot read {}", module.display()))?;
    let encoded = wit_component::ComponentEncoder::default()
        .module(&bytes)?
        .validate(true)
        .encode()?;
    std::fs::write(component, encoded)
        .with_context(|| format!("cannot write {}", component.display()))?;
    Ok(())
}
