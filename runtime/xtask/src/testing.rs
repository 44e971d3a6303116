//! `cargo xtask test`: the whole suite under cargo-nextest (`.config/nextest.toml`), with
//! the tests whose input this machine lacks left out by name and listed at the end.
//!
//! Some tests need something the repository cannot carry. Each such input is a row of
//! [`INPUTS`]: the tests that need it (a nextest filter), how to tell whether it is here,
//! and whether its absence may pass. The shared corpus and root (to mount a small file
//! system) are required on a test machine: their tests are normal tests that fail when
//! run without them; when one is missing this task leaves its tests out, lists them,
//! and fails at the end (`--allow-missing` lets a developer's machine pass without
//! them). ScyllaDB and Elasticsearch cannot be installed here: their tests are
//! `#[ignore]`d (every runner lists them as skipped) and run only when their server is
//! named.

use std::path::{Path, PathBuf};

use anyhow::bail;

/// Seconds of mutation per fuzz target in the suite (`fuzz_short`, after its seeds).
const FUZZ_SECONDS: &str = "10";
/// The same, with `--long`.
const FUZZ_SECONDS_LONG: &str = "300";

/// Something some tests need.
#[derive(Debug)]
struct Input {
    name: &'static str,
    /// The tests that need it.
    filter: &'static str,
    /// Ignored unless present (`#[ignore]`), rather than left out when absent.
    ignored: bool,
    /// Whether it is on this machine, given where the corpus was found.
    present: fn(Option<&Path>) -> bool,
    /// What to do to provide it.
    how: &'static str,
}

const INPUTS: &[Input] = &[
    Input {
        name: "the shared corpus",
        filter: "test(/^corpus::/) | test(/^import_corpus::/) | binary_id(caliopen-qualifier-spam::corpus)",
        ignored: false,
        present: |corpus| corpus.is_some(),
        how: "put it at ../shared/corpus beside the repository, or set CALIOPEN_CORPUS",
    },
    Input {
        name: "root (to mount a small tmpfs)",
        filter: "test(/^drills_disk::/) | test(/^disk_full::/)",
        ignored: false,
        present: |_| is_root(),
        how: "run the tests as root",
    },
    Input {
        name: "a ScyllaDB node",
        filter: "package(caliopen-storage-scylla) & test(/^conformance::/)",
        ignored: true,
        present: |_| var("CALIOPEN_TEST_SCYLLA"),
        how: "set CALIOPEN_TEST_SCYLLA=host:port",
    },
    Input {
        name: "an Elasticsearch node",
        filter: "package(caliopen-storage-elasticsearch) & test(/^conformance::/)",
        ignored: true,
        present: |_| var("CALIOPEN_TEST_ELASTICSEARCH"),
        how: "set CALIOPEN_TEST_ELASTICSEARCH=http://host:port",
    },
    Input {
        name: "ScyllaDB and Elasticsearch",
        filter: "package(caliopen-runtime) & test(/^cluster::/)",
        ignored: true,
        present: |_| var("CALIOPEN_TEST_SCYLLA") && var("CALIOPEN_TEST_ELASTICSEARCH"),
        how: "set CALIOPEN_TEST_SCYLLA and CALIOPEN_TEST_ELASTICSEARCH",
    },
];

/// The long tests `--long` adds (`#[ignore]`d otherwise).
const LONG: &str = "test(/soak_ten_minutes/)";

/// Whether the environment variable `name` is set and not empty.
fn var(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty())
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// The shared corpus: `CALIOPEN_CORPUS`, else `shared/corpus` beside the repository or
/// beside one of its parent folders (a clean clone in a scratch folder of the machine).
pub fn find_corpus(root: &Path) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CALIOPEN_CORPUS") {
        return Some(PathBuf::from(dir)).filter(|d| d.is_dir());
    }
    root.ancestors()
        .skip(1)
        .map(|a| a.join("shared/corpus"))
        .find(|d| d.is_dir())
}

/// Options of `cargo xtask test`.
#[derive(Debug, Default)]
pub struct Options {
    /// Also the long tests, longer fuzzing and the full Schemathesis run.
    pub long: bool,
    /// Pass although a required input is missing (its tests are still listed).
    pub allow_missing: bool,
    /// Passed on to `cargo nextest run`.
    pub extra: Vec<String>,
}

impl Options {
    pub fn parse(args: &[String]) -> Self {
        let mut options = Self::default();
        for a in args {
            if a == "--long" {
                options.long = true;
            } else if a == "--allow-missing" {
                options.allow_missing = true;
            } else {
                options.extra.push(a.clone());
            }
        }
        options
    }
}

/// Builds the suite (`cargo nextest run --no-run`, with what [`run`] passes), so
/// that the run itself starts at once.
pub fn build(root: &Path, options: &Options) -> anyhow::Result<()> {
    ensure_nextest(root)?;
    let clippy = clippy_driver()?;
    let mut cmd = nextest(root, find_corpus(root).as_deref(), options, &clippy);
    cmd.arg("--no-run");
    crate::run(cmd, "the test build (cargo nextest --no-run)")
}

/// Runs the suite; fails when a test failed. Prints what was left out and why.
pub fn run(root: &Path, options: &Options) -> anyhow::Result<()> {
    ensure_nextest(root)?;
    let clippy = clippy_driver()?;
    let corpus = find_corpus(root);
    let (here, missing): (Vec<&Input>, Vec<&Input>) =
        INPUTS.iter().partition(|i| (i.present)(corpus.as_deref()));

    let mut main = nextest(root, corpus.as_deref(), options, &clippy);
    let not_missing = missing
        .iter()
        .filter(|i| !i.ignored)
        .map(|i| format!("({})", i.filter))
        .collect::<Vec<_>>();
    if !not_missing.is_empty() {
        main.args(["-E", &format!("not ({})", not_missing.join(" | "))]);
    }
    let main_ok = crate::run(main, "the test suite (cargo nextest)").map_err(|e| {
        eprintln!("xtask: {e}");
        e
    });

    // The ignored tests whose input is here, and the long ones when asked.
    let mut wanted: Vec<String> = here
        .iter()
        .filter(|i| i.ignored)
        .map(|i| format!("({})", i.filter))
        .collect();
    if options.long {
        wanted.push(format!("({LONG})"));
    }
    let extra_ok = if wanted.is_empty() {
        Ok(())
    } else {
        let mut cmd = nextest(root, corpus.as_deref(), options, &clippy);
        cmd.args(["--run-ignored", "only", "-E", &wanted.join(" | ")]);
        crate::run(cmd, "the ignored tests whose input is here")
    };

    println!();
    for input in &missing {
        println!(
            "xtask: SKIPPED the tests that need {} ({}): to run them, {}",
            input.name, input.filter, input.how
        );
    }
    if !options.long {
        println!(
            "xtask: the long tests ({LONG}), longer fuzzing and the full Schemathesis run \
             are left out: `cargo xtask test --long` runs them"
        );
    }
    main_ok?;
    extra_ok?;
    let required: Vec<&str> = missing
        .iter()
        .filter(|i| !i.ignored)
        .map(|i| i.name)
        .collect();
    if !required.is_empty() && !options.allow_missing {
        bail!(
            "required test inputs are missing ({}): their tests did not run \
             (`--allow-missing` passes without them)",
            required.join(", ")
        );
    }
    Ok(())
}

/// `cargo nextest run --workspace`, with the environment the suite expects, and Clippy's
/// lints (`-D warnings`) applied to the workspace's crates as the test build compiles
/// them: `cargo clippy` would check every dependency again, in a build of its own.
fn nextest(
    root: &Path,
    corpus: Option<&Path>,
    options: &Options,
    clippy: &Path,
) -> std::process::Command {
    let mut cmd = crate::cargo(root);
    cmd.env("RUSTC_WORKSPACE_WRAPPER", clippy).env(
        "CLIPPY_ARGS",
        "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__",
    );
    cmd.args(["nextest", "run", "--profile", "ci", "--workspace"]);
    cmd.env(
        "CALIOPEN_FUZZ_SECONDS",
        if options.long {
            FUZZ_SECONDS_LONG
        } else {
            FUZZ_SECONDS
        },
    );
    if let Some(corpus) = corpus {
        cmd.env("CALIOPEN_CORPUS", corpus);
    }
    cmd.args(&options.extra);
    cmd
}

/// Clippy's compiler driver, beside the toolchain's rustc.
fn clippy_driver() -> anyhow::Result<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = std::process::Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()?;
    let driver =
        Path::new(String::from_utf8_lossy(&sysroot.stdout).trim()).join("bin/clippy-driver");
    if !driver.exists() {
        bail!(
            "{} is missing: install Clippy (`rustup component add clippy`)",
            driver.display()
        );
    }
    Ok(driver)
}

/// cargo-nextest is on the machines this project targets; elsewhere, install it once.
fn ensure_nextest(root: &Path) -> anyhow::Result<()> {
    let mut probe = crate::cargo(root);
    probe.args(["nextest", "--version"]);
    if probe.output().is_ok_and(|o| o.status.success()) {
        return Ok(());
    }
    println!("xtask: installing cargo-nextest (once)");
    let mut install = crate::cargo(root);
    install.args(["install", "cargo-nextest", "--locked"]);
    if crate::run(install, "cargo install cargo-nextest").is_err() {
        bail!(
            "cargo-nextest is missing and could not be installed: `cargo install cargo-nextest --locked`"
        );
    }
    Ok(())
}
