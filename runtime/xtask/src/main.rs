//! Developer tasks, run as `cargo xtask <task>` (an alias in `.cargo/config.toml`).
//!
//! - `setup`: installs the Debian packages a fresh machine lacks (wasm toolchain,
//!   test peers) with apt-get.
//! - `components [--rust|--interpreted]`: builds every guest under `components/` (Rust
//!   crates, Python and JavaScript folders) into a component
//!   `.wasm` in `target/components/`.
//! - `serve`: setup, components, then `caliopen serve` (release build) on the
//!   embedded store.
//! - `test [--long] [nextest args]`: setup, components, the Python and JavaScript
//!   components' unit tests, then the whole suite under cargo-nextest (the fuzz targets'
//!   short runs among it; [`testing`]), then Schemathesis. `--long` adds the 10-minute
//!   soak, five minutes of fuzzing per target and the full Schemathesis run.
//! - `fuzz [fuzz-ci args]`: the fuzz targets on stable (docs/fuzzing.md).
//! - `schemathesis`: Schemathesis against a running server and the REST spec (also
//!   the last step of `test`).

#![allow(clippy::print_stdout)] // a developer tool reports on stdout

mod components;
mod fuzz;
mod schemathesis;
mod setup;
mod testing;

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
        Some("schemathesis") => schemathesis::run(&root, None, args.iter().any(|a| a == "--long")),
        _ => {
            println!("usage: cargo xtask <setup|components|serve|test|fuzz>");
            println!(
                "  serve [caliopen serve args]   build everything and run the server on the embedded store"
            );
            println!(
                "  test [--long] [nextest args]  run the whole test suite (--long: also the long tests)"
            );
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

fn test(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let options = testing::Options::parse(args);
    setup::run(root, setup::Purpose::Test)?;
    components::build_all(root)?;
    components::interpreted::unit_tests(root)?;
    let tested_since = std::time::SystemTime::now();
    testing::run(root, &options)?;
    schemathesis::run(root, Some(tested_since), options.long)
}

/// Where cargo writes the host build: `CARGO_TARGET_DIR`, else `target/`.
fn cargo_target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
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
