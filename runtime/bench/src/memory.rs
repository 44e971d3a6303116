//! `caliopen-bench memory`: the resident memory (`VmRSS`) of a release `caliopen serve`
//! with the configuration of the `ingest` scenario: at idle once the components are
//! deployed, under LMTP ingest (sampled every 200 ms until everything is stored and
//! indexed), and at idle again after the load.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use clap::{Args, FromArgMatches};

use crate::corpus::Corpus;
use crate::ingest::caliopen::{self, Caliopen};
use crate::scenario::{Context, Scenario, Section};
use crate::sys;

/// The `memory` scenario.
#[derive(Debug)]
pub struct Memory;

/// Options of `caliopen-bench memory`.
#[derive(Debug, Clone, Args)]
pub struct MemoryArgs {
    /// LMTP transactions of the load.
    #[arg(long, default_value_t = 3000)]
    pub messages: u64,
    /// Concurrent LMTP connections of the load.
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
    /// Seconds of idle before each idle measurement.
    #[arg(long, default_value_t = 10)]
    pub idle_seconds: u64,
    /// The `caliopen` binary [default: <repo>/target/release/caliopen].
    #[arg(long)]
    pub caliopen_bin: Option<PathBuf>,
    /// Caliopen's configuration [default: <repo>/configs/caliopen.toml].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Do not run `cargo build --release -p caliopen-runtime -p caliopen-bench` first.
    #[arg(long)]
    pub no_build: bool,
}

/// The product target for idle memory, in MB (10^6 bytes).
const TARGET_IDLE_MB: f64 = 60.0;

impl Scenario for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn about(&self) -> &'static str {
        "Resident memory of `caliopen serve`: idle, under LMTP ingest, idle after the load"
    }

    fn args(&self, command: clap::Command) -> clap::Command {
        MemoryArgs::augment_args(command)
    }

    fn run(&self, matches: &clap::ArgMatches, ctx: &Context) -> anyhow::Result<Section> {
        let args = MemoryArgs::from_arg_matches(matches)?;
        if !args.no_build {
            caliopen::build(&ctx.root)?;
        }
        let bin = args
            .caliopen_bin
            .clone()
            .unwrap_or_else(|| ctx.root.join("target/release/caliopen"));
        let config = args
            .config
            .clone()
            .unwrap_or_else(|| ctx.root.join("configs/caliopen.toml"));
        let corpus = Arc::new(Corpus::load(&ctx.corpus_dir())?);
        let dir = tempfile::Builder::new()
            .prefix("caliopen-bench-")
            .tempdir()?;
        let rust = measure(&bin, &config, &dir.path().join("rust"), &corpus, &args)?;
        // The same configuration with the Python and JavaScript qualifiers added.
        let polyglot_config = dir.path().join("polyglot.toml");
        std::fs::write(&polyglot_config, with_interpreted(&ctx.root, &config)?)?;
        let polyglot = measure(
            &bin,
            &polyglot_config,
            &dir.path().join("polyglot"),
            &corpus,
            &args,
        )?;
        let verdict = if rust.idle < TARGET_IDLE_MB {
            "met"
        } else {
            "not met"
        };
        let s = args.idle_seconds;
        let body = format!(
            "| state | six Rust components | the same + Python and JavaScript qualifiers |\n|---|---|---|\n\
             | idle, {s} s after start (nothing received yet) | **{:.1} MB** | **{:.1} MB** |\n\
             | under ingest, highest sample (200 ms period) until stored and indexed | {:.1} MB | {:.1} MB |\n\
             | idle again, {s} s after the load was stored and indexed | {:.1} MB | {:.1} MB |\n\
             | high-water mark of the process (VmHWM) | {:.1} MB | {:.1} MB |\n\
             | messages acknowledged / quarantined | {} of {n} / {} | {} of {n} / {} |\n\n\
             Load: {n} LMTP transactions over {c} connections, each run on a fresh data directory.\n\n\
             Idle target (< {TARGET_IDLE_MB:.0} MB with the default components, reported, not asserted): **{verdict}**.\n\n\
             MB are 10^6 bytes. The Python and JavaScript qualifiers are `components/qualifier-python` \
             (componentize-py, CPython inside) and `components/qualifier-js` (componentize-js, \
             StarlingMonkey inside), deployed from `target/components` next to the six of \
             `configs/caliopen.toml`.",
            rust.idle,
            polyglot.idle,
            rust.under_load,
            polyglot.under_load,
            rust.after,
            polyglot.after,
            rust.hwm,
            polyglot.hwm,
            rust.accepted,
            rust.quarantined,
            polyglot.accepted,
            polyglot.quarantined,
            n = args.messages,
            c = args.connections,
        );
        Ok(Section {
            title: "Memory of `caliopen serve`".into(),
            corpus: Some(corpus.describe()),
            versions: vec![("caliopen".into(), caliopen::version(&bin))],
            settings: vec![(
                "caliopen settings".into(),
                "`configs/caliopen.toml` as committed; data dir, listeners and default domain overridden".into(),
            )],
            body,
        })
    }
}

/// Resident memory of one server through idle, load and idle again.
struct Figures {
    idle: f64,
    under_load: f64,
    after: f64,
    hwm: f64,
    accepted: u64,
    quarantined: u64,
}

fn measure(
    bin: &Path,
    config: &Path,
    dir: &Path,
    corpus: &Arc<Corpus>,
    args: &MemoryArgs,
) -> anyhow::Result<Figures> {
    std::fs::create_dir_all(dir)?;
    let users: Vec<String> = (1..=8).map(|i| format!("bench{i}")).collect();
    let mut server = Caliopen::start(bin, config, dir, &users)?;
    let pid = server.server.pid();
    let mb = |pid| sys::rss_mib(pid).map_or(0.0, |m| m * 1024.0 * 1024.0 / 1e6);

    std::thread::sleep(Duration::from_secs(args.idle_seconds));
    let idle = mb(pid);
    eprintln!(
        "caliopen-bench: memory: idle {idle:.1} MB ({})",
        config.display()
    );

    let spec = server.load(args.connections, args.messages, &users);
    let done = AtomicBool::new(false);
    let peak = AtomicU64::new(0);
    let (load, drained) = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max((mb(pid) * 1000.0) as u64, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        let load = crate::ingest::drive(&spec, corpus.clone(), "memory");
        let drained = server.wait_until(Duration::from_secs(1800), |m| {
            m.pending == 0 && m.index_backlog == 0
        });
        done.store(true, Ordering::Relaxed);
        (load, drained)
    });
    let load = load?;
    let drained = drained?;
    std::thread::sleep(Duration::from_secs(args.idle_seconds));
    let after = mb(pid);
    let hwm = sys::peak_rss_mib(pid).map_or(0.0, |m| m * 1024.0 * 1024.0 / 1e6);
    server.server.stop(Duration::from_secs(60));
    Ok(Figures {
        idle,
        under_load: peak.load(Ordering::Relaxed) as f64 / 1000.0,
        after,
        hwm,
        accepted: load.messages_accepted,
        quarantined: drained.quarantined,
    })
}

/// `config` with the Python and JavaScript qualifiers added to its components, all
/// paths made absolute (the copy is written elsewhere).
fn with_interpreted(root: &Path, config: &Path) -> anyhow::Result<String> {
    let base = config.parent().unwrap_or(root);
    let text = std::fs::read_to_string(config)?;
    let mut doc: toml::Table = toml::from_str(&text)?;
    let components = doc
        .entry("components")
        .or_insert_with(|| toml::Value::Array(Vec::new()))
        .as_array_mut()
        .ok_or_else(|| anyhow::anyhow!("`components` is not an array in {}", config.display()))?;
    for entry in components.iter_mut() {
        if let Some(table) = entry.as_table_mut() {
            for key in ["manifest", "wasm"] {
                if let Some(toml::Value::String(path)) = table.get_mut(key) {
                    *path = base.join(&*path).display().to_string();
                }
            }
        }
    }
    for (folder, artefact) in crate::node::INTERPRETED {
        let wasm = root
            .join("target/components")
            .join(format!("{artefact}.wasm"));
        anyhow::ensure!(
            wasm.exists(),
            "{} is missing: build it with `cargo xtask components --interpreted`",
            wasm.display()
        );
        let mut table = toml::Table::new();
        table.insert(
            "manifest".into(),
            root.join("components")
                .join(folder)
                .join("component.toml")
                .display()
                .to_string()
                .into(),
        );
        table.insert("wasm".into(), wasm.display().to_string().into());
        components.push(toml::Value::Table(table));
    }
    // Relative directories elsewhere in the file are overridden by the scenario
    // (data dir) or resolved against the original file's folder.
    Ok(toml::to_string(&doc)?)
}
