//! Developer tasks, run as `cargo xtask <task>` (an alias in `.cargo/config.toml`).
//!
//! - `setup`: installs the Debian packages a fresh machine lacks (wasm toolchain,
//!   test peers) with apt-get.
//! - `components [--rust|--interpreted]`: builds every guest under `components/` (Rust
//!   crates, Python and JavaScript folders) into a component
//!   `.wasm` in `target/components/`.
//! - `serve`: setup, components, then `caliopen serve` (release build) on the
//!   embedded store.
//! - `test`: setup, components, the Python and JavaScript components' unit tests,
//!   then the whole test suite, then a short run of the fuzz targets.
//! - `fuzz [fuzz-ci args]`: the fuzz targets on stable (docs/fuzzing.md).
//! - `schemathesis`: Schemathesis against a running server and the REST spec (also
//!   the last step of `test`).

#![allow(clippy::print_stdout)] // a developer tool reports on stdout

mod components;
mod fuzz;
mod schemathesis;
mod setup;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    match args.first().map(String::as_str) {
        Some("setup") => setup::run(&root, setup::Purpose::Test),
        Some("components") => components::run(&root, &args[1..]),
        Some("serve") => serve(&root, &args[1..]),
        Some("test") => test(&root, &args[1..]),
        Some("fuzz") => fuzz::run(&root, &args[1..]),
        Some("schemathesis") => schemathesis::run(&root, None),
        _ => {
            println!("usage: cargo xtask <setup|components|serve|test|fuzz>");
            println!(
                "  serve [caliopen serve args]   build everything and run the server on the embedded store"
            );
            println!("  test [cargo test args]        run the whole test suite");
            bail!("unknown or missing task")
        }
    }
}

fn workspace_root() -> PathBuf {
    // runtime/xtask → the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn serve(root: &Path, extra: &[String]) -> anyhow::Result<()> {
    setup::run(root, setup::Purpose::Serve)?;
    components::build_all(root)?;
    let mut cmd = cargo(root);
    cmd.args([
        "run",
        "--release",
        "-p",
        "caliopen-runtime",
        "--bin",
        "caliopen",
        "--",
        "serve",
    ]);
    cmd.args(extra);
    run(cmd, "caliopen serve")
}

fn test(root: &Path, extra: &[String]) -> anyhow::Result<()> {
    setup::run(root, setup::Purpose::Test)?;
    components::build_all(root)?;
    components::interpreted::unit_tests(root)?;
    let mut cmd = cargo(root);
    cmd.args(["test", "--workspace", "--no-fail-fast"]);
    cmd.args(extra);
    let tested_since = std::time::SystemTime::now();
    run(cmd, "cargo test")?;
    fuzz::run(root, &[])?;
    schemathesis::run(root, Some(tested_since))
}

/// The cargo that runs this task, in the workspace root.
fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root);
    cmd
}

fn run(mut cmd: Command, what: &str) -> anyhow::Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}
