//! `caliopen-bench swap`: a delivery stream while an operator swaps a qualifier.
//!
//! One release `caliopen serve` (the `ingest` scenario's set-up) takes the same LMTP
//! load twice: first untouched, then while a thread deploys a new version of a
//! qualifier through the admin API and rolls it back, again and again. Each phase
//! runs until everything acknowledged is stored and indexed; the report gives both
//! rates side by side, the swaps made, and what the server says it lost: deliveries
//! quarantined or still pending (the product target is zero).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::Engine as _;
use clap::{Args, FromArgMatches};

use crate::corpus::Corpus;
use crate::ingest::caliopen::{self, Caliopen};
use crate::lmtp::LoadSpec;
use crate::scenario::{Context, Scenario, Section};

/// The `swap` scenario.
#[derive(Debug)]
pub struct Swap;

/// Options of `caliopen-bench swap`.
#[derive(Debug, Clone, Args)]
pub struct SwapArgs {
    /// LMTP transactions of each phase.
    #[arg(long, default_value_t = 3000)]
    pub messages: u64,
    /// Concurrent LMTP connections.
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
    /// Milliseconds between two swaps (a deploy, then a rollback).
    #[arg(long, default_value_t = 100)]
    pub every_ms: u64,
    /// The qualifier swapped: a folder of `components/` built into `target/components`.
    #[arg(long, default_value = "qualifier-importance")]
    pub component: String,
    /// The `caliopen` binary [default: <repo>/target/release/caliopen].
    #[arg(long)]
    pub caliopen_bin: Option<PathBuf>,
}

impl Scenario for Swap {
    fn name(&self) -> &'static str {
        "swap"
    }

    fn about(&self) -> &'static str {
        "Hot swap under load: LMTP ingest untouched, then while a qualifier is deployed and rolled back again and again"
    }

    fn args(&self, command: clap::Command) -> clap::Command {
        SwapArgs::augment_args(command)
    }

    fn run(&self, matches: &clap::ArgMatches, ctx: &Context) -> anyhow::Result<Section> {
        let args = SwapArgs::from_arg_matches(matches)?;
        let bin = args
            .caliopen_bin
            .clone()
            .unwrap_or_else(|| ctx.root.join("target/release/caliopen"));
        let config = ctx.root.join("configs/caliopen.toml");
        let (manifest, wasm) = crate::node::component(
            &ctx.root,
            &args.component,
            &format!("caliopen_{}", args.component.replace('-', "_")),
        )?;
        let corpus = Arc::new(Corpus::load(&ctx.corpus_dir())?);
        // Each phase delivers to its own eight users: the same corpus sent again to the
        // same users would fold into the messages they have (same Message-ID).
        let users: Vec<String> = (1..=16).map(|i| format!("bench{i}")).collect();
        let dir = tempfile::Builder::new()
            .prefix("caliopen-bench-")
            .tempdir()?;
        let mut server = Caliopen::start(&bin, &config, dir.path(), &users)?;
        let token = std::fs::read_to_string(dir.path().join("data/admin.token"))
            .context("reading the generated admin token")?;
        let admin = Admin {
            base: format!("http://{}", server.admin()),
            token: token.trim().to_owned(),
        };
        let first = server.load(args.connections, args.messages, &users[..8]);
        let second = server.load(args.connections, args.messages, &users[8..]);

        let quiet = phase(&mut server, &first, &corpus, None)?;
        let swapper = Swapper {
            admin: &admin,
            manifest: &manifest,
            wasm: base64::engine::general_purpose::STANDARD.encode(&wasm),
            every: Duration::from_millis(args.every_ms),
        };
        let swapping = phase(&mut server, &second, &corpus, Some(&swapper))?;
        let end = server.metrics()?;
        server.server.stop(Duration::from_secs(60));

        let ratio = swapping.rate() / quiet.rate().max(f64::MIN_POSITIVE);
        let lost = end.quarantined + end.pending;
        let body = format!(
            "| phase | acknowledged | stored and indexed after | rate (msg/s) | swaps (deploy + rollback) | swap requests refused |\n\
             |---|---|---|---|---|---|\n\
             | no swap | {} of {n} | {:.1} s | {:.0} | — | — |\n\
             | swapping every {every} ms | {} of {n} | {:.1} s | {:.0} | {} | {} |\n\n\
             **Throughput while swapping / without: {ratio:.2}×.** Deliveries quarantined or still pending at the end \
             (both phases): **{lost}** (target: 0).\n\n\
             Each swap deploys `{component}` under a new version (the same Wasm: its precompiled artefact is reused, \
             as for any redeploy) through `POST /admin/components`, then rolls the slot back with \
             `POST /admin/slots/<slot>/rollback`. `runtime/tests/hot_swap.rs` checks in CI that every delivery \
             during swaps completes on exactly one version.",
            quiet.accepted,
            quiet.elapsed.as_secs_f64(),
            quiet.rate(),
            swapping.accepted,
            swapping.elapsed.as_secs_f64(),
            swapping.rate(),
            swapping.swaps,
            swapping.refused,
            n = args.messages,
            every = args.every_ms,
            component = args.component,
        );
        Ok(Section {
            title: "Hot swap under load".into(),
            corpus: Some(corpus.describe()),
            versions: vec![("caliopen".into(), caliopen::version(&bin))],
            settings: vec![(
                "load".into(),
                format!(
                    "{} LMTP transactions per phase over {} connections, 1 recipient among 8 mailboxes (other 8 in each phase)",
                    args.messages, args.connections
                ),
            )],
            body,
        })
    }
}

/// What one phase did.
struct Phase {
    accepted: u64,
    elapsed: Duration,
    swaps: u64,
    refused: u64,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// Sends the load (swapping meanwhile when asked) and waits until it is stored and indexed.
fn phase(
    server: &mut Caliopen,
    spec: &LoadSpec,
    corpus: &Arc<Corpus>,
    swapper: Option<&Swapper<'_>>,
) -> anyhow::Result<Phase> {
    let started = Instant::now();
    let done = AtomicBool::new(false);
    let (swaps, refused) = (AtomicU64::new(0), AtomicU64::new(0));
    let load = std::thread::scope(|scope| {
        if let Some(swapper) = swapper {
            scope.spawn(|| swapper.run(&done, &swaps, &refused));
        }
        let load = crate::ingest::drive(spec, corpus.clone(), "swap");
        let drained = server.wait_until(Duration::from_secs(1800), |m| {
            m.pending == 0 && m.index_backlog == 0
        });
        done.store(true, Ordering::Relaxed);
        load.and_then(|l| drained.map(|_| l))
    })?;
    Ok(Phase {
        accepted: load.messages_accepted,
        elapsed: started.elapsed(),
        swaps: swaps.load(Ordering::Relaxed),
        refused: refused.load(Ordering::Relaxed),
    })
}

/// The admin API of the server.
struct Admin {
    base: String,
    token: String,
}

impl Admin {
    fn post(&self, path: &str, body: &serde_json::Value) -> anyhow::Result<()> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        agent
            .post(&format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {}", self.token))
            .send_json(body)
            .with_context(|| format!("POST {path}"))?;
        Ok(())
    }
}

/// Deploys and rolls back one qualifier until told to stop.
struct Swapper<'a> {
    admin: &'a Admin,
    manifest: &'a str,
    wasm: String,
    every: Duration,
}

impl Swapper<'_> {
    fn run(&self, done: &AtomicBool, swaps: &AtomicU64, refused: &AtomicU64) {
        let slot = self
            .manifest
            .lines()
            .find_map(|l| l.strip_prefix("slot = "))
            .map(|s| s.trim().trim_matches('"').to_owned())
            .unwrap_or_default();
        let mut k = 0u64;
        while !done.load(Ordering::Relaxed) {
            k += 1;
            let manifest = with_version(self.manifest, &format!("9.{k}.0"));
            let deployed = self.admin.post(
                "/admin/components",
                &serde_json::json!({"manifest": manifest, "wasm": self.wasm, "shadow": false}),
            );
            let rolled_back = deployed.and_then(|()| {
                self.admin.post(
                    &format!("/admin/slots/{slot}/rollback"),
                    &serde_json::json!({}),
                )
            });
            match rolled_back {
                Ok(()) => swaps.fetch_add(1, Ordering::Relaxed),
                Err(e) => {
                    eprintln!("caliopen-bench: swap: {e:#}");
                    refused.fetch_add(1, Ordering::Relaxed)
                }
            };
            std::thread::sleep(self.every);
        }
    }
}

/// The manifest with its `version` line replaced.
fn with_version(manifest: &str, version: &str) -> String {
    manifest
        .lines()
        .map(|l| {
            if l.starts_with("version = ") {
                format!("version = \"{version}\"")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
