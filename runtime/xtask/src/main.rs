//! Developer tasks, run as `cargo xtask <task>` (an alias in `.cargo/config.toml`).
//!
//! - `setup`: installs the Debian packages a fresh machine lacks (wasm toolchain,
//!   test peers) with apt-get.
//! - `components [--rust|--interpreted]`: builds every guest under `components/` (Rust
//!   crates, Python and JavaScript folders) into a component
//!   `.wasm` in `target/components/`.
//! - `serve`: setup, components, then `caliopen serve` (release build) on the
//!   embedded store.
//! - `test [--long] [--allow-missing] [nextest args]`: setup; the components and the Python and
//!   JavaScript components' unit tests while the host's test build runs; then the whole
//!   suite under cargo-nextest (the fuzz targets' short runs among it; [`testing`])
//!   while Schemathesis runs beside it. `--long` adds the 10-minute soak, five minutes
//!   of fuzzing per target and the full Schemathesis run; `--allow-missing` passes
//!   when a required test input (the corpus, root) is missing, its tests listed.
//! - `fuzz [fuzz-ci args]`: the fuzz targets on stable (docs/fuzzing.md).
//! - `schemathesis`: Schemathesis against a running server and the REST spec (also
//!   part of `test`).

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
        Some("schemathesis") => {
            schemathesis::run(&root, false, args.iter().any(|a| a == "--long"), None)
        }
        _ => {
            println!("usage: cargo xtask <setup|components|serve|test|fuzz>");
            println!(
                "  serve [caliopen serve args]   build everything and run the server on the embedded store"
            );
            println!(
                "  test [--long] [--allow-missing] [nextest args]  run the whole test suite \
                 (--long: also the long tests; --allow-missing: pass without the corpus or root)"
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

/// `cargo xtask test`. On two cores the steps overlap where they can: the guests
/// (the Rust ones in a cargo of their own, the Python and JavaScript ones mostly on
/// one core and the network) build while the host's test build runs, and
/// Schemathesis runs against its own server while the suite runs.
fn test(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let options = testing::Options::parse(args);
    setup::run(root, setup::Purpose::Test)?;
    std::thread::scope(|s| {
        let guests = s.spawn(|| {
            components::build_all(root)?;
            components::interpreted::unit_tests(root)?;
            schemathesis::install(root).map(|_| ())
        });
        let host = testing::build(root, &options);
        let guests = guests
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the guests' build panicked")));
        host.and(guests)
    })?;
    let log = cargo_target_dir(root).join("schemathesis.log");
    let (tests, schemathesis) = std::thread::scope(|s| {
        let schemathesis = s.spawn(|| schemathesis::run(root, true, options.long, Some(&log)));
        let tests = testing::run(root, &options);
        let schemathesis = schemathesis
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the Schemathesis run panicked")));
        (tests, schemathesis)
    });
    println!(
        "\nxtask: Schemathesis, run beside the suite ({}):",
        log.display()
    );
    if let Ok(text) = std::fs::read_to_string(&log) {
        print!("{text}");
    }
    tests.and(schemathesis)
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
