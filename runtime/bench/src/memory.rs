//! `caliopen-bench memory`: the resident memory (`VmRSS`) of a release `caliopen serve`
//! with the configuration of the `ingest` scenario: at idle once the components are
//! deployed, under LMTP ingest (sampled every 200 ms until everything is stored and
//! indexed), and at idle again after the load.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use clap::{Args, FromArgMatches};

use crate::corpus::Corpus;
use crate::ingest::caliopen::{self, Caliopen};
use crate::lmtp::LoadSpec;
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
        let users: Vec<String> = (1..=8).map(|i| format!("bench{i}")).collect();
        let dir = tempfile::Builder::new()
            .prefix("caliopen-bench-")
            .tempdir()?;
        let mut server = Caliopen::start(&bin, &config, dir.path(), &users)?;
        let pid = server.server.pid();
        let mb = |pid| sys::rss_mib(pid).map_or(0.0, |m| m * 1024.0 * 1024.0 / 1e6);

        std::thread::sleep(Duration::from_secs(args.idle_seconds));
        let idle = mb(pid);
        eprintln!("caliopen-bench: memory: idle {idle:.1} MB");

        let spec = LoadSpec {
            addr: server.lmtp,
            connections: args.connections,
            messages: args.messages,
            recipients_per_message: 1,
            mailboxes: users
                .iter()
                .map(|u| format!("{u}@{}", caliopen::DOMAIN))
                .collect(),
            timeout: Duration::from_secs(120),
        };
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
        let under_load = peak.load(Ordering::Relaxed) as f64 / 1000.0;
        std::thread::sleep(Duration::from_secs(args.idle_seconds));
        let after = mb(pid);
        let hwm = sys::peak_rss_mib(pid).map_or(0.0, |m| m * 1024.0 * 1024.0 / 1e6);
        server.server.stop(Duration::from_secs(60));

        let verdict = if idle < TARGET_IDLE_MB {
            "met"
        } else {
            "not met"
        };
        let body = format!(
            "| state | resident memory (VmRSS) |\n|---|---|\n\
             | idle, {s} s after start (6 components deployed, nothing received yet) | **{idle:.1} MB** |\n\
             | under ingest, highest sample (200 ms period) until stored and indexed | {under_load:.1} MB |\n\
             | idle again, {s} s after the load was stored and indexed | {after:.1} MB |\n\
             | high-water mark of the process (VmHWM) | {hwm:.1} MB |\n\n\
             Load: {acc} of {n} messages acknowledged over {c} LMTP connections, {q} quarantined.\n\n\
             Idle target (< {TARGET_IDLE_MB:.0} MB, reported, not asserted): **{verdict}**.\n\n\
             MB are 10^6 bytes. Python and JavaScript qualifiers are not measured here: their components are not \
             among the artefacts of `target/components` this scenario deploys.",
            s = args.idle_seconds,
            acc = load.messages_accepted,
            n = args.messages,
            c = args.connections,
            q = drained.quarantined,
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
