//! Interpreted guests: a folder of `components/` with a `component.toml` and
//! - `app.py`: Python, built with componentize-py;
//! - `package.json` (whose `main` is the JavaScript entry) and `build.mjs`:
//!   JavaScript, built with componentize-js by that script;
//!
//! into `target/components/caliopen_<folder>.wasm` (`-` → `_`).
//!
//! The tools are installed by the build, pinned, under `target/tools/`: a Python
//! venv with componentize-py [`COMPONENTIZE_PY`] (`target/tools/python`); for
//! each JavaScript folder, `npm ci` of its committed package-lock.json in that
//! folder (`node_modules/`, ignored by git). They need the machine's `python3` (with venv and
//! pip) and `node`/`npm`, and the PyPI and npm registries the first time.
//!
//! Both tools make the component import every interface of the world it targets,
//! used or not. So the build derives the world from the manifest: the world of
//! `wit/0.1.0` named by `world`, with only the imports `grants` lists
//! (`target/tools/wit/<folder>/`, the platform package under `deps/`). A guest then
//! imports exactly what its manifest grants, and a call to an interface it is not
//! granted fails at build time.
//!
//! A guest is rebuilt only when one of its sources (its folder, less tests and
//! installed modules), the WIT files or the tool is newer than its component.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use anyhow::{Context, bail};

/// componentize-py, from PyPI.
pub const COMPONENTIZE_PY: &str = "0.25.1";
/// The WIT package every guest targets.
const WIT_DIR: &str = "wit/0.1.0";
/// Folders of a guest that are not part of its component.
const NOT_SOURCES: &[&str] = &["__pycache__", "node_modules", "tests", "test"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Python,
    JavaScript,
}

/// An interpreted guest folder.
#[derive(Debug)]
pub struct Guest {
    pub dir: PathBuf,
    /// The folder's name, e.g. `qualifier-python`.
    pub folder: String,
    pub language: Language,
    /// The component's file name without `.wasm`, e.g. `caliopen_qualifier_python`.
    pub artefact: String,
}

/// The interpreted guests under `components/`, by folder name.
pub fn guests(root: &Path) -> anyhow::Result<Vec<Guest>> {
    let dir = root.join("components");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    let mut out = Vec::new();
    for entry in entries {
        let dir = entry.path();
        if !dir.join("component.toml").is_file() || dir.join("Cargo.toml").exists() {
            continue;
        }
        let language = if dir.join("app.py").is_file() {
            Language::Python
        } else if dir.join("package.json").is_file() {
            Language::JavaScript
        } else {
            continue;
        };
        let folder = entry.file_name().to_string_lossy().into_owned();
        out.push(Guest {
            artefact: format!("caliopen_{}", folder.replace('-', "_")),
            folder,
            language,
            dir,
        });
    }
    Ok(out)
}

/// Builds every interpreted guest that is not up to date; returns the component paths.
pub fn build_all(root: &Path, out_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let guests = guests(root)?;
    std::fs::create_dir_all(out_dir)?;
    let mut built = Vec::new();
    for guest in &guests {
        let out = out_dir.join(format!("{}.wasm", guest.artefact));
        build(root, guest, &out)
            .with_context(|| format!("building components/{}", guest.folder))?;
        built.push(out);
    }
    Ok(built)
}

/// Runs the unit tests of every interpreted guest in its own language, without
/// WebAssembly: `python3 -m unittest` where the folder has `tests/`, `node --test`
/// where it has `test/`.
pub fn unit_tests(root: &Path) -> anyhow::Result<()> {
    for guest in guests(root)? {
        let mut cmd = match guest.language {
            Language::Python if guest.dir.join("tests").is_dir() => {
                let mut c = Command::new("python3");
                c.args(["-m", "unittest", "-q"])
                    .env("PYTHONDONTWRITEBYTECODE", "1");
                c
            }
            Language::JavaScript if guest.dir.join("test").is_dir() => {
                let mut c = Command::new("node");
                c.arg("--test");
                c
            }
            _ => continue,
        };
        println!("xtask: unit tests of components/{}", guest.folder);
        cmd.current_dir(&guest.dir);
        run(
            &mut cmd,
            &format!("the unit tests of components/{}", guest.folder),
        )?;
    }
    Ok(())
}

/// The Debian packages the interpreted guests need and this machine lacks. Checked
/// by program, not by package: Python or Node.js may come from elsewhere (pyenv,
/// NodeSource, whose nodejs bundles npm and conflicts with Debian's npm).
pub fn missing_packages(root: &Path) -> Vec<&'static str> {
    let guests = guests(root).unwrap_or_default();
    let has = |language| guests.iter().any(|g| g.language == language);
    let mut out = Vec::new();
    if has(Language::Python) {
        if !works("python3", "--version") {
            out.push("python3");
        }
        let venv = Command::new("python3")
            .args(["-c", "import ensurepip, venv"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !venv {
            out.push("python3-venv");
        }
    }
    if has(Language::JavaScript) {
        if !works("node", "--version") {
            out.push("nodejs");
        }
        if !works("npm", "--version") {
            out.push("npm");
        }
    }
    out
}

fn build(root: &Path, guest: &Guest, out: &Path) -> anyhow::Result<()> {
    let manifest = Manifest::read(&guest.dir.join("component.toml"))?;
    // Tools first: a newer tool makes the component stale.
    let tool = match guest.language {
        Language::Python => python_tools(root, guest)?,
        Language::JavaScript => node_tools(guest)?,
    };
    let mut inputs = sources(&guest.dir)?;
    inputs.extend(sources(&root.join(WIT_DIR))?);
    inputs.push(tool.marker.clone());
    if up_to_date(out, &inputs) {
        return Ok(());
    }
    let wit = derive_world(root, guest, &manifest)?;
    let tmp = out.with_extension("wasm.tmp");
    let mut cmd = match guest.language {
        Language::Python => {
            let mut c = Command::new(&tool.program);
            c.arg("-q")
                .arg("-d")
                .arg(&wit)
                .args(["-w", &manifest.world]);
            c.args(["componentize", "app", "-p", "."])
                .arg("-o")
                .arg(&tmp);
            c
        }
        Language::JavaScript => {
            let mut c = Command::new("node");
            c.arg("build.mjs").arg("--modules").arg(&tool.program);
            c.arg("--wit").arg(&wit).args(["--world", &manifest.world]);
            c.arg("--out").arg(&tmp);
            c
        }
    };
    // componentize-py adds $VIRTUAL_ENV's packages to the app's path: keep the
    // caller's out of the component.
    cmd.current_dir(&guest.dir).env_remove("VIRTUAL_ENV");
    println!(
        "xtask: building components/{} ({:?})",
        guest.folder, guest.language
    );
    let started = Instant::now();
    run(&mut cmd, "the component build")?;
    std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))?;
    let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    println!(
        "xtask: {} ({:.1} MiB) in {:.1} s",
        out.display(),
        size as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What the build reads of a `component.toml`.
#[derive(Debug)]
struct Manifest {
    world: String,
    grants: Vec<String>,
}

impl Manifest {
    fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let doc: toml::Table =
            toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
        let world = doc
            .get("world")
            .and_then(toml::Value::as_str)
            .with_context(|| format!("{}: no `world`", path.display()))?
            .to_owned();
        let grants = doc
            .get("grants")
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|g| g.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if doc.get("wasi").and_then(toml::Value::as_bool) != Some(true) {
            bail!(
                "{}: an interpreted guest imports WASI: set `wasi = true` (it is granted no files, network or environment)",
                path.display()
            );
        }
        Ok(Self { world, grants })
    }
}

/// Writes `target/tools/wit/<folder>/`: the platform package under `deps/`, and a
/// world of the same name with only the granted imports.
fn derive_world(root: &Path, guest: &Guest, manifest: &Manifest) -> anyhow::Result<PathBuf> {
    let platform = root.join(WIT_DIR);
    let dir = root.join("target/tools/wit").join(&guest.folder);
    let deps = dir.join("deps/platform");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(&deps)?;
    let mut package = None;
    let mut worlds = None;
    for file in sources(&platform)? {
        let text = std::fs::read_to_string(&file)?;
        package = package.or_else(|| package_id(&text));
        if text.contains(&format!("world {} {{", manifest.world)) {
            worlds = Some(text.clone());
        }
        let name = file.file_name().context("a WIT file without a name")?;
        std::fs::write(deps.join(name), &text)?;
    }
    let package = package.with_context(|| format!("no `package` in {}", platform.display()))?;
    let worlds = worlds
        .with_context(|| format!("no world `{}` in {}", manifest.world, platform.display()))?;
    let world = narrowed_world(&worlds, &package, &manifest.world, &manifest.grants)?;
    std::fs::write(dir.join("world.wit"), world)?;
    Ok(dir)
}

/// `caliopen:platform@0.1.0` from `package caliopen:platform@0.1.0;`.
fn package_id(wit: &str) -> Option<String> {
    wit.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("package "))
        .map(|p| p.trim_end_matches(';').trim().to_owned())
}

/// The WIT text of world `world` of `package` (whose file is `worlds`), importing
/// only the interfaces in `grants`, in a package of its own.
fn narrowed_world(
    worlds: &str,
    package: &str,
    world: &str,
    grants: &[String],
) -> anyhow::Result<String> {
    let (namespace_name, version) = package
        .split_once('@')
        .with_context(|| format!("package `{package}` has no version"))?;
    let qualified = |interface: &str| format!("{namespace_name}/{interface}@{version}");
    let header = format!("world {world} {{");
    let body = worlds
        .split_once(&header)
        .and_then(|(_, rest)| rest.split_once("\n}"))
        .map(|(body, _)| body)
        .with_context(|| format!("cannot find the body of world `{world}`"))?;
    // Statements end with `;`; doc comments are dropped.
    let code: String = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut imports = Vec::new();
    let mut rest = Vec::new();
    for statement in code.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(interface) = statement.strip_prefix("import ") {
            let interface = interface.trim();
            imports.push(interface.to_owned());
            if grants.iter().any(|g| g == interface) {
                rest.push(format!("    import {};", qualified(interface)));
            }
        } else if let Some(used) = statement.strip_prefix("use ") {
            let (interface, names) = used
                .split_once('.')
                .with_context(|| format!("unexpected `use {used}` in world `{world}`"))?;
            rest.push(format!("    use {}.{names};", qualified(interface.trim())));
        } else if statement.starts_with("export ") {
            rest.push(format!("    {statement};"));
        } else {
            bail!("unexpected `{statement}` in world `{world}`: teach the xtask about it");
        }
    }
    for grant in grants {
        if !imports.contains(grant) {
            bail!("the manifest grants `{grant}`, which world `{world}` does not import");
        }
    }
    Ok(format!(
        "// Generated by `cargo xtask components` from component.toml: world `{world}` of\n\
         // {package} with only the granted imports.\n\
         package caliopen:guest@{version};\n\nworld {world} {{\n{}\n}}\n",
        rest.join("\n")
    ))
}

/// An installed tool and the file whose time says when it was installed.
#[derive(Debug)]
struct Tool {
    /// componentize-py, or the `node_modules` folder holding componentize-js.
    program: PathBuf,
    marker: PathBuf,
}

/// A venv with componentize-py [`COMPONENTIZE_PY`] in `target/tools/python`.
fn python_tools(root: &Path, guest: &Guest) -> anyhow::Result<Tool> {
    let venv = root.join("target/tools/python");
    let program = venv.join("bin/componentize-py");
    let wanted = format!("componentize-py {COMPONENTIZE_PY}");
    let installed = Command::new(&program)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == wanted);
    if !installed {
        if !works("python3", "--version") {
            bail!(
                "components/{} is written in Python: building it needs python3 with venv and pip \
                 (Debian: `apt-get install python3 python3-venv python3-pip`); install them, then retry",
                guest.folder
            );
        }
        println!("xtask: installing {wanted} into {}", venv.display());
        run(
            Command::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
            "`python3 -m venv` (Debian: `apt-get install python3-venv`)",
        )?;
        run(
            Command::new(venv.join("bin/python")).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                &format!("componentize-py=={COMPONENTIZE_PY}"),
            ]),
            "pip install componentize-py",
        )?;
    }
    Ok(Tool {
        marker: program.clone(),
        program,
    })
}

/// `npm ci` of the guest's package-lock.json in its own folder (`node_modules/`,
/// ignored by git), as a JavaScript developer would run it.
fn node_tools(guest: &Guest) -> anyhow::Result<Tool> {
    if !works("node", "--version") || !works("npm", "--version") {
        bail!(
            "components/{} is written in JavaScript: building it needs Node.js 20 or newer with npm \
             (Debian: `apt-get install nodejs npm`); install them, then retry",
            guest.folder
        );
    }
    let lock = guest.dir.join("package-lock.json");
    if !lock.is_file() || !guest.dir.join("build.mjs").is_file() {
        bail!(
            "components/{} needs a package-lock.json (pinning componentize-js) and a build.mjs \
             (see components/qualifier-js)",
            guest.folder
        );
    }
    let modules = guest.dir.join("node_modules");
    // npm writes this copy of the lock on every install.
    let marker = modules.join(".package-lock.json");
    if mtime(&marker).is_none_or(|installed| mtime(&lock).is_some_and(|l| l > installed)) {
        println!("xtask: npm ci in components/{}", guest.folder);
        // The lock pins every package with its integrity hash; none needs an install script.
        run(
            Command::new("npm")
                .args([
                    "ci",
                    "--ignore-scripts",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                ])
                .current_dir(&guest.dir),
            "npm ci",
        )?;
    }
    Ok(Tool {
        program: modules,
        marker,
    })
}

/// The files under `dir`, less [`NOT_SOURCES`] and hidden entries.
fn sources(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || NOT_SOURCES.contains(&name.as_str()) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            out.extend(sources(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The output exists and no input is newer.
fn up_to_date(out: &Path, inputs: &[PathBuf]) -> bool {
    let Some(built) = mtime(out) else {
        return false;
    };
    inputs.iter().all(|i| mtime(i).is_some_and(|t| t <= built))
}

fn works(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORLDS: &str = "package caliopen:platform@0.1.0;\n\n\
        /// A parser.\nworld parser {\n    import log;\n    export parse: func(raw: list<u8>) -> u32;\n}\n\n\
        /// A qualifier.\nworld qualifier {\n    import log;\n    import clock;\n    import contacts;\n\n    \
        use types.{message-view, verdict, component-error};\n\n    /// Qualify.\n    \
        export qualify: func(view: message-view) -> result<verdict, component-error>;\n}\n";

    #[test]
    fn the_derived_world_imports_only_the_grants() {
        let grants = vec!["log".to_owned(), "contacts".to_owned()];
        let wit = narrowed_world(WORLDS, "caliopen:platform@0.1.0", "qualifier", &grants).unwrap();
        assert!(wit.contains("package caliopen:guest@0.1.0;"), "{wit}");
        assert!(wit.contains("import caliopen:platform/log@0.1.0;"), "{wit}");
        assert!(
            wit.contains("import caliopen:platform/contacts@0.1.0;"),
            "{wit}"
        );
        assert!(!wit.contains("clock"), "{wit}");
        assert!(
            wit.contains(
                "use caliopen:platform/types@0.1.0.{message-view, verdict, component-error};"
            ),
            "{wit}"
        );
        assert!(
            wit.contains(
                "export qualify: func(view: message-view) -> result<verdict, component-error>;"
            ),
            "{wit}"
        );
        assert!(!wit.contains("parse"), "{wit}");
    }

    #[test]
    fn a_grant_the_world_does_not_import_is_refused() {
        let err = narrowed_world(
            WORLDS,
            "caliopen:platform@0.1.0",
            "parser",
            &["contacts".to_owned()],
        )
        .unwrap_err();
        assert!(err.to_string().contains("`contacts`"), "{err}");
    }

    #[test]
    fn every_world_of_the_platform_can_be_narrowed() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let worlds = std::fs::read_to_string(root.join(WIT_DIR).join("worlds.wit")).unwrap();
        let package = package_id(&worlds).unwrap();
        for (world, grants) in [
            ("parser", vec!["log"]),
            ("broker", vec!["log", "user"]),
            (
                "qualifier",
                vec!["log", "config", "contacts", "user", "clock"],
            ),
        ] {
            let grants: Vec<String> = grants.into_iter().map(str::to_owned).collect();
            let wit = narrowed_world(&worlds, &package, world, &grants).unwrap();
            for grant in &grants {
                assert!(wit.contains(&format!("/{grant}@")), "{wit}");
            }
            assert_eq!(wit.matches("import ").count(), grants.len(), "{wit}");
            assert!(wit.contains("export "), "{wit}");
        }
    }

    #[test]
    fn the_platform_package_is_found() {
        assert_eq!(
            package_id(WORLDS).as_deref(),
            Some("caliopen:platform@0.1.0")
        );
    }
}
