//! `caliopen-bench ingest`: the same LMTP load against Caliopen and against Dovecot, one
//! after the other, on this machine.
//!
//! - Caliopen (`caliopen.rs`): the clock stops when `/metrics` reports no pending
//!   delivery, i.e. every message is parsed, brokered and stored. Core exposes no metric
//!   for the search outbox, so indexing is not waited for (the report says so).
//! - Dovecot (`dovecot.rs`): its 250 means the mail is in the maildir, so the clock stops
//!   at the last 250.
//!
//! The report (`report.rs`) gives both rates, their ratio, the latency of the 250 replies,
//! the CPU each server used and, for Caliopen, the backlog and the time spent in
//! components, which say where its time goes.

pub(crate) mod caliopen;
pub(crate) mod dovecot;
mod report;

pub(crate) use caliopen::parse_metrics;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Args, FromArgMatches};

use crate::corpus::Corpus;
use crate::lmtp::{self, LoadResult, LoadSpec};
use crate::scenario::{Context, Scenario, Section};
use crate::sys::{self, MachineCpu};

/// The `ingest` scenario.
#[derive(Debug)]
pub struct Ingest;

/// A server the load is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Caliopen,
    Dovecot,
}

/// Options of `caliopen-bench ingest`.
#[derive(Debug, Clone, Args)]
pub struct IngestArgs {
    /// Concurrent LMTP connections; one run per value and server.
    #[arg(long, value_delimiter = ',', default_values = ["8", "32"])]
    pub connections: Vec<usize>,
    /// LMTP transactions per run (corpus messages, cycled).
    #[arg(long, default_value_t = 3000)]
    pub messages: u64,
    /// Users created on each server; recipients are taken from them round robin.
    #[arg(long, default_value_t = 8)]
    pub mailboxes: usize,
    /// Recipients of each message.
    #[arg(long, default_value_t = 1)]
    pub recipients: usize,
    /// The servers to measure, in this order.
    #[arg(long, value_enum, value_delimiter = ',', default_values = ["caliopen", "dovecot"])]
    pub servers: Vec<Target>,
    /// The `caliopen` binary [default: <repo>/target/release/caliopen].
    #[arg(long)]
    pub caliopen_bin: Option<PathBuf>,
    /// Caliopen's configuration; data directory and listeners are overridden
    /// [default: <repo>/configs/caliopen.toml].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Do not run `cargo build --release -p caliopen-runtime -p caliopen-bench` first
    /// (the components are never rebuilt: build them with `cargo xtask components`).
    #[arg(long)]
    pub no_build: bool,
    /// Where the servers' temporary data directories go [default: the system's temp dir].
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Keep the data directories after the run (their path is printed).
    #[arg(long)]
    pub keep: bool,
    /// Caliopen: stop the clock at the last 250 and do not wait for the backlog (to
    /// measure the accept path alone); the stored rate is then not measured.
    #[arg(long)]
    pub accept_only: bool,
    /// Longest wait, in seconds, for Caliopen to process its backlog after the last 250.
    #[arg(long, default_value_t = 1800)]
    pub drain_timeout: u64,
    /// Longest wait, in seconds, for one reply.
    #[arg(long, default_value_t = 120)]
    pub reply_timeout: u64,
}

/// What one server did with the load.
#[derive(Debug, Default)]
pub struct Outcome {
    pub target: Option<Target>,
    /// Concurrent connections of this run.
    pub connections: usize,
    /// The clock stopped at the last 250 (`--accept-only`).
    pub accept_only: bool,
    pub load: LoadResult,
    /// From the first connection until everything acknowledged was stored.
    pub stored_after: Duration,
    /// Caliopen: ... and until the search outbox was empty too (stored and indexed).
    pub indexed_after: Option<Duration>,
    /// Caliopen: deliveries still pending when the last 250 came, and the most seen.
    pub backlog_at_end: Option<u64>,
    pub peak_backlog: Option<u64>,
    pub quarantined: Option<u64>,
    /// Caliopen: (component, calls, seconds in calls).
    pub components: Vec<(String, u64, f64)>,
    /// Machine CPU busy and iowait, % of all CPUs, over `stored_after`.
    pub machine_cpu: (f64, f64),
    /// User + system time of the server's process tree over the run.
    pub server_cpu: Duration,
    pub peak_rss_mib: Option<f64>,
    /// What the server has on disk at the end, checked against the 250s.
    pub stored_check: String,
    /// Settings read from the server.
    pub settings: Vec<(String, String)>,
}

impl Scenario for Ingest {
    fn name(&self) -> &'static str {
        "ingest"
    }

    fn about(&self) -> &'static str {
        "LMTP ingest of the real corpus: Caliopen (up to stored) against Dovecot's LMTP to maildir"
    }

    fn args(&self, command: clap::Command) -> clap::Command {
        IngestArgs::augment_args(command)
    }

    fn run(&self, matches: &clap::ArgMatches, ctx: &Context) -> anyhow::Result<Section> {
        let args = IngestArgs::from_arg_matches(matches)?;
        let corpus = Arc::new(Corpus::load(&ctx.corpus_dir())?);
        let users: Vec<String> = (1..=args.mailboxes.max(1))
            .map(|i| format!("bench{i}"))
            .collect();
        let mut outcomes = Vec::new();
        let mut versions: Vec<(String, String)> = Vec::new();
        let mut built = args.no_build;
        for &connections in &args.connections {
            for target in &args.servers {
                let work = match &args.work_dir {
                    Some(dir) => tempfile::Builder::new().prefix("bench-").tempdir_in(dir)?,
                    None => tempfile::Builder::new()
                        .prefix("caliopen-bench-")
                        .tempdir()?,
                };
                eprintln!(
                    "caliopen-bench: {target:?}, {connections} connections, in {}",
                    work.path().display()
                );
                let mut outcome = match target {
                    Target::Caliopen => {
                        let bin = args
                            .caliopen_bin
                            .clone()
                            .unwrap_or_else(|| ctx.root.join("target/release/caliopen"));
                        if !built {
                            caliopen::build(&ctx.root)?;
                            built = true;
                        }
                        add_version(&mut versions, "caliopen", || caliopen::version(&bin));
                        let run = Run {
                            args: &args,
                            connections,
                            users: &users,
                            corpus: corpus.clone(),
                            dir: work.path(),
                        };
                        run_caliopen(&run, ctx, &bin)?
                    }
                    Target::Dovecot => {
                        dovecot::ensure_installed()?;
                        add_version(&mut versions, "dovecot", dovecot::version);
                        let run = Run {
                            args: &args,
                            connections,
                            users: &users,
                            corpus: corpus.clone(),
                            dir: work.path(),
                        };
                        run_dovecot(&run)?
                    }
                };
                outcome.connections = connections;
                outcomes.push(outcome);
                if args.keep {
                    eprintln!("caliopen-bench: kept {}", work.keep().display());
                }
            }
        }
        Ok(Section {
            title: "Ingest over LMTP: Caliopen and Dovecot".into(),
            corpus: Some(corpus.describe()),
            versions,
            settings: report::settings(&args, &outcomes),
            body: report::body(&args, &outcomes),
        })
    }
}

fn add_version(versions: &mut Vec<(String, String)>, name: &str, get: impl FnOnce() -> String) {
    if !versions.iter().any(|(n, _)| n == name) {
        versions.push((name.to_owned(), get()));
    }
}

/// One run: a server, a concurrency, a fresh data directory.
pub(crate) struct Run<'a> {
    pub args: &'a IngestArgs,
    pub connections: usize,
    pub users: &'a [String],
    pub corpus: Arc<Corpus>,
    pub dir: &'a std::path::Path,
}

impl Run<'_> {
    fn spec(&self, addr: std::net::SocketAddr, domain: &str) -> LoadSpec {
        LoadSpec {
            addr,
            connections: self.connections,
            messages: self.args.messages,
            recipients_per_message: self.args.recipients.clamp(1, self.users.len()),
            mailboxes: self.users.iter().map(|u| format!("{u}@{domain}")).collect(),
            timeout: Duration::from_secs(self.args.reply_timeout),
        }
    }
}

/// Runs the load on a single-threaded runtime (the client takes as little CPU from the
/// server as it can), printing progress every five seconds.
pub(crate) fn drive(
    spec: &LoadSpec,
    corpus: Arc<Corpus>,
    label: &str,
) -> anyhow::Result<LoadResult> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the load generator's runtime")?;
    let progress = Arc::new(AtomicU64::new(0));
    runtime.block_on(async {
        let load = lmtp::run(spec, corpus, progress.clone());
        tokio::pin!(load);
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tick.tick().await;
        loop {
            tokio::select! {
                result = &mut load => return result,
                _ = tick.tick() => eprintln!(
                    "caliopen-bench: {label}: {}/{} acknowledged",
                    progress.load(Ordering::Relaxed),
                    spec.messages
                ),
            }
        }
    })
}

pub(crate) fn run_caliopen(
    run: &Run<'_>,
    ctx: &Context,
    bin: &std::path::Path,
) -> anyhow::Result<Outcome> {
    let args = run.args;
    let config = args
        .config
        .clone()
        .unwrap_or_else(|| ctx.root.join("configs/caliopen.toml"));
    let mut server = caliopen::Caliopen::start(bin, &config, run.dir, run.users)?;
    let spec = run.spec(server.lmtp, caliopen::DOMAIN);
    let pid = server.server.pid();
    let (cpu0, tree0) = (MachineCpu::now(), sys::tree_cpu(pid));
    let start = Instant::now();
    let done = AtomicBool::new(false);
    let peak = AtomicU64::new(0);
    let load = std::thread::scope(|scope| {
        // Samples the backlog once a second: each scrape scans the delivery queue.
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                if let Ok(m) = server.metrics() {
                    peak.fetch_max(m.pending, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        let load = drive(&spec, run.corpus.clone(), "caliopen");
        done.store(true, Ordering::Relaxed);
        load
    })?;
    let at_end = server.metrics()?;
    eprintln!(
        "caliopen-bench: caliopen: load done, {} deliveries pending, {} index operations",
        at_end.pending, at_end.index_backlog
    );
    let timeout = Duration::from_secs(args.drain_timeout);
    let (drained, stored_after, indexed_after) = if args.accept_only {
        (at_end.clone(), load.elapsed, None)
    } else {
        server.wait_until(timeout, |m| m.pending == 0)?;
        let stored_after = start.elapsed();
        let drained = server.wait_until(timeout, |m| m.pending == 0 && m.index_backlog == 0)?;
        (drained, stored_after, Some(start.elapsed()))
    };
    let outcome = Outcome {
        target: Some(Target::Caliopen),
        accept_only: args.accept_only,
        stored_after,
        indexed_after,
        backlog_at_end: Some(at_end.pending),
        peak_backlog: Some(peak.load(Ordering::Relaxed).max(at_end.pending)),
        quarantined: Some(drained.quarantined),
        components: drained.components,
        machine_cpu: MachineCpu::now().since(&cpu0),
        server_cpu: sys::tree_cpu(pid).saturating_sub(tree0),
        peak_rss_mib: sys::peak_rss_mib(pid),
        stored_check: format!(
            "{} pending, {} quarantined, {} index operations waiting at the end",
            drained.pending, drained.quarantined, drained.index_backlog
        ),
        settings: Vec::new(),
        load,
        ..Outcome::default()
    };
    let clean = server.server.stop(Duration::from_secs(120));
    if !clean {
        eprintln!(
            "caliopen-bench: caliopen did not stop cleanly; see {}",
            server.log().display()
        );
    }
    Ok(outcome)
}

fn run_dovecot(run: &Run<'_>) -> anyhow::Result<Outcome> {
    let mut server = dovecot::Dovecot::start(run.dir, run.users)?;
    let spec = run.spec(server.lmtp, caliopen::DOMAIN);
    let pid = server.server.pid();
    let (cpu0, tree0) = (MachineCpu::now(), sys::tree_cpu(pid));
    let load = drive(&spec, run.corpus.clone(), "dovecot")?;
    let machine_cpu = MachineCpu::now().since(&cpu0);
    let server_cpu = sys::tree_cpu(pid).saturating_sub(tree0);
    let peak_rss_mib = sys::tree_rss_mib(pid);
    let files = server.stored_files()?;
    let settings = server.settings(&["mail_fsync", "mail_location", "lmtp_user_concurrency_limit"]);
    server.server.stop(Duration::from_secs(60));
    Ok(Outcome {
        target: Some(Target::Dovecot),
        stored_after: load.elapsed,
        machine_cpu,
        server_cpu,
        peak_rss_mib,
        stored_check: format!(
            "{files} mail files in the maildirs for {} accepted deliveries",
            load.deliveries_accepted
        ),
        settings,
        load,
        ..Outcome::default()
    })
}
