//! `caliopen-bench runtime`: what the Wasm runtime costs per call and per deploy.
//!
//! - Instantiation: a fresh `Store` and `InstancePre::instantiate` (what every call of
//!   the message path does), with the pooling allocator and with on-demand allocation,
//!   for the trivial test qualifier and for the email parser. Imports are defined as
//!   traps (they are not called while instantiating), so only the instance is measured.
//! - Call overhead: a whole `qualify` call of the test qualifier through the runtime
//!   (store, limits, instantiation, the call with three host calls, metrics).
//! - Deploy: `LoadedComponent::load` compiling the component, against loading its
//!   precompiled artefact from the cache (what a restart does).
//! - Memory: resident memory added by 100 live instances, and the peak linear memory
//!   each chain component reaches on the corpus (the runtime's limiter records it).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use caliopen_runtime::wasm::bindings::types::MessageView;
use caliopen_runtime::wasm::{EngineSettings, LoadedComponent, Manifest, WasmEngine};
use clap::{Args, FromArgMatches};
use wasmtime::Store;
use wasmtime::component::{Component, Linker};

use crate::corpus::Corpus;
use crate::node::{self, Node};
use crate::scenario::{Context, Scenario, Section};
use crate::stats::Latencies;

/// The `runtime` scenario.
#[derive(Debug)]
pub struct Runtime;

/// Options of `caliopen-bench runtime`.
#[derive(Debug, Clone, Args)]
pub struct RuntimeArgs {
    /// Instantiations and calls measured per case.
    #[arg(long, default_value_t = 3000)]
    pub iterations: usize,
    /// Live instances for the memory-per-instance figure (at most 120: the pool holds 128).
    #[arg(long, default_value_t = 100)]
    pub instances: usize,
    /// Precompiled loads per component (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub loads: usize,
}

/// The product target: instantiation under 10 µs with pooling.
const TARGET_INSTANTIATION: Duration = Duration::from_micros(10);

/// The test qualifier, well behaved: it reads its config and logs one line.
pub(crate) const TEST_QUALIFIER: &str = "name = \"test-qualifier\"\nversion = \"1.0.0\"\nworld = \"qualifier\"\n\
    slot = \"qualifier:test\"\ngrants = [\"log\", \"config\", \"contacts\", \"user\"]\n[config]\nmode = \"tag\"\n";

impl Scenario for Runtime {
    fn name(&self) -> &'static str {
        "runtime"
    }

    fn about(&self) -> &'static str {
        "Wasm runtime: instantiation (pooling, on-demand), call overhead, deploy (compile, precompiled), memory per instance"
    }

    fn args(&self, command: clap::Command) -> clap::Command {
        RuntimeArgs::augment_args(command)
    }

    fn run(&self, matches: &clap::ArgMatches, ctx: &Context) -> anyhow::Result<Section> {
        let args = RuntimeArgs::from_arg_matches(matches)?;
        let rt = node::runtime()?;
        let _enter = rt.enter();
        let dir = tempfile::Builder::new()
            .prefix("caliopen-bench-")
            .tempdir()?;
        let node = rt.block_on(Node::new(
            &ctx.root,
            dir.path(),
            &EngineSettings::default(),
            &[],
        ))?;
        let (_, user) = rt.block_on(node.user("bench"))?;
        let pooled = WasmEngine::new(&EngineSettings::default())?;
        let on_demand = WasmEngine::new(&EngineSettings {
            pooling: false,
            ..EngineSettings::default()
        })?;
        let engines = [("pooling", &pooled), ("on-demand", &on_demand)];
        let test_wasm = node::artefact_bytes(&ctx.root, "caliopen_test_qualifier")?;
        let parser_wasm = node::artefact_bytes(&ctx.root, "caliopen_email_parser")?;

        let mut out = Body::default();
        // Instantiation, alternating engines so that noise falls on both.
        for (label, wasm) in [
            ("test qualifier", &test_wasm),
            ("email parser", &parser_wasm),
        ] {
            for (mode, engine) in engines {
                let lat = instantiation(engine, wasm, args.iterations)?;
                out.instantiation.push((label, mode, lat));
            }
        }
        // Whole calls of the test qualifier.
        let corpus = Corpus::load(&ctx.corpus_dir())?;
        let view = sample_view(ctx, &pooled, &user, &corpus)?;
        for (mode, engine) in engines {
            let manifest = Manifest::parse(TEST_QUALIFIER).map_err(anyhow::Error::msg)?;
            let (component, _) = LoadedComponent::load(engine, manifest, &test_wasm, None)?;
            let mut samples = Vec::with_capacity(args.iterations);
            for _ in 0..args.iterations {
                let t = Instant::now();
                let (verdict, _) = component.qualify(engine, user.clone(), &view);
                black_box(verdict.context("the test qualifier failed")?);
                samples.push(t.elapsed());
            }
            out.calls.push((mode, Latencies::new(samples)));
        }
        // Deploy: compile against precompiled load.
        let cache = dir.path().join("bench-cache");
        for (folder, artefact) in node::DEFAULT_CHAIN.iter().chain(node::INTERPRETED) {
            out.deploys
                .push(deploy(ctx, &pooled, folder, artefact, &cache, args.loads)?);
        }
        // Memory.
        let mean = (corpus.bytes / corpus.raw.len().max(1) as u64) as usize;
        let typical = corpus
            .raw
            .iter()
            .min_by_key(|m| m.len().abs_diff(mean))
            .context("an empty corpus")?;
        out.typical_bytes = typical.len();
        for (mode, engine) in engines {
            out.resident.push((
                mode,
                resident_per_instance(engine, &parser_wasm, args.instances, typical)?,
            ));
        }
        out.linear = linear_memory(ctx, &pooled, &user, &corpus)?;
        Ok(Section {
            title: "Wasm runtime: instantiation, calls, deploy, memory".into(),
            corpus: Some(format!(
                "linear-memory peaks over {} (all {} files)",
                corpus.sources.join(" + "),
                corpus.raw.len()
            )),
            versions: vec![("wasmtime".into(), "48 (workspace)".into())],
            settings: vec![
                (
                    "engine".into(),
                    "`EngineSettings::default()` (as `configs/caliopen.toml`): pool of 128 instances, 256 MiB \
                     memory slots, epoch interruption"
                        .into(),
                ),
                (
                    "pooling available".into(),
                    format!("{}", pooled.pooling()),
                ),
                ("iterations per case".into(), args.iterations.to_string()),
            ],
            body: out.render(args.instances),
        })
    }
}

#[derive(Default)]
struct Body {
    instantiation: Vec<(&'static str, &'static str, Latencies)>,
    calls: Vec<(&'static str, Latencies)>,
    deploys: Vec<Deploy>,
    resident: Vec<(&'static str, f64)>,
    /// Size of the message each instance parsed for `resident`.
    typical_bytes: usize,
    /// (component, mean peak KiB, max peak KiB)
    linear: Vec<(String, f64, f64)>,
}

struct Deploy {
    component: String,
    wasm_kib: usize,
    compile: Duration,
    precompiled: Duration,
}

impl Body {
    fn render(&self, instances: usize) -> String {
        use std::fmt::Write as _;
        let us = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6);
        let mut out = String::from(
            "Instantiation per call (fresh store + `instantiate`):\n\n\
             | component | allocator | p50 | p99 | mean |\n|---|---|---|---|---|\n",
        );
        for (label, mode, l) in &self.instantiation {
            let _ = writeln!(
                out,
                "| {label} | {mode} | {} | {} | {} |",
                us(l.percentile(50.0)),
                us(l.percentile(99.0)),
                us(l.mean())
            );
        }
        let pooled = |label: &str| {
            self.instantiation
                .iter()
                .find(|(l, m, _)| *l == label && *m == "pooling")
                .map(|(_, _, l)| l.percentile(50.0))
        };
        for label in ["test qualifier", "email parser"] {
            if let Some(p50) = pooled(label) {
                let _ = writeln!(
                    out,
                    "\n{label} with pooling: p50 {} against the target of 10 µs: **{}**.",
                    us(p50),
                    if p50 < TARGET_INSTANTIATION {
                        "met"
                    } else {
                        "not met"
                    }
                );
            }
        }
        let ratio = |label: &str| {
            let find = |mode: &str| {
                self.instantiation
                    .iter()
                    .find(|(l, m, _)| *l == label && *m == mode)
                    .map(|(_, _, l)| l.percentile(50.0).as_secs_f64())
            };
            find("on-demand")
                .zip(find("pooling"))
                .map(|(o, p)| o / p.max(f64::MIN_POSITIVE))
        };
        for label in ["test qualifier", "email parser"] {
            if let Some(r) = ratio(label) {
                let _ = writeln!(out, "{label}: on-demand / pooling p50 = {r:.2}×.");
            }
        }
        out.push_str(
            "\nA whole call of the test qualifier through the runtime (store, limits, instantiation, `qualify` with \
             three host calls, metrics):\n\n| allocator | p50 | p99 | mean |\n|---|---|---|---|\n",
        );
        for (mode, l) in &self.calls {
            let _ = writeln!(
                out,
                "| {mode} | {} | {} | {} |",
                us(l.percentile(50.0)),
                us(l.percentile(99.0)),
                us(l.mean())
            );
        }
        out.push_str(
            "\nDeploy (`LoadedComponent::load`: compile or precompiled load, import check, linking, `InstancePre`), \
             pooling engine:\n\n| component | .wasm | compile | precompiled load | ratio |\n|---|---|---|---|---|\n",
        );
        for d in &self.deploys {
            let _ = writeln!(
                out,
                "| {} | {} KiB | {:.0} ms | {:.2} ms | {:.0}× |",
                d.component,
                d.wasm_kib,
                d.compile.as_secs_f64() * 1e3,
                d.precompiled.as_secs_f64() * 1e3,
                d.compile.as_secs_f64() / d.precompiled.as_secs_f64().max(f64::MIN_POSITIVE)
            );
        }
        let _ = writeln!(
            out,
            "\nMemory per instance: resident memory added by {instances} live email-parser instances, \
             each having parsed one corpus message ({} bytes, the nearest to the mean), divided by {instances}:\n",
            self.typical_bytes
        );
        for (mode, mib) in &self.resident {
            let _ = writeln!(out, "- {mode}: {:.0} KiB per instance", mib * 1024.0);
        }
        out.push_str(
            "\nPeak linear memory of each chain component per call over the corpus (the runtime's limiter):\n\n\
             | component | mean | max |\n|---|---|---|\n",
        );
        for (name, mean, max) in &self.linear {
            let _ = writeln!(out, "| {name} | {mean:.0} KiB | {max:.0} KiB |");
        }
        out
    }
}

/// Wasmtime's error, with its causes, as an `anyhow` error.
#[allow(clippy::needless_pass_by_value)] // used as `map_err(wt)`
fn wt(e: wasmtime::Error) -> anyhow::Error {
    anyhow::anyhow!("{e:#}")
}

/// Fresh store + instantiate, `iterations` times.
fn instantiation(engine: &WasmEngine, wasm: &[u8], iterations: usize) -> anyhow::Result<Latencies> {
    let engine = engine.engine();
    let component = Component::new(engine, wasm).map_err(wt)?;
    let mut linker = Linker::<()>::new(engine);
    linker
        .define_unknown_imports_as_traps(&component)
        .map_err(wt)?;
    let pre = linker.instantiate_pre(&component).map_err(wt)?;
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations.max(1) {
        let t = Instant::now();
        let mut store = Store::new(engine, ());
        store.set_epoch_deadline(1 << 40);
        black_box(pre.instantiate(&mut store).map_err(wt)?);
        drop(store);
        samples.push(t.elapsed());
    }
    Ok(Latencies::new(samples))
}

/// Resident memory added per live instance, in MiB: each instance has parsed one
/// corpus message (an instance that has run, not only one that was mapped).
fn resident_per_instance(
    engine: &WasmEngine,
    wasm: &[u8],
    count: usize,
    raw: &[u8],
) -> anyhow::Result<f64> {
    let count = count.clamp(1, 120);
    let engine = engine.engine();
    let component = Component::new(engine, wasm).map_err(wt)?;
    let mut linker = Linker::<()>::new(engine);
    linker
        .define_unknown_imports_as_traps(&component)
        .map_err(wt)?;
    let pre = linker.instantiate_pre(&component).map_err(wt)?;
    let me = std::process::id();
    let before = crate::sys::rss_mib(me).unwrap_or(0.0);
    let mut live = Vec::with_capacity(count);
    for _ in 0..count {
        let mut store = Store::new(engine, ());
        store.set_epoch_deadline(1 << 40);
        let instance = pre.instantiate(&mut store).map_err(wt)?;
        let parser = caliopen_runtime::wasm::bindings::parser::Parser::new(&mut store, &instance)
            .map_err(wt)?;
        let parsed = parser.call_parse(&mut store, raw).map_err(wt)?;
        black_box(parsed.map_err(|e| anyhow::anyhow!("the parser refused: {}", e.message))?);
        live.push((store, instance));
    }
    let after = crate::sys::rss_mib(me).unwrap_or(0.0);
    drop(live);
    Ok((after - before).max(0.0) / count as f64)
}

fn deploy(
    ctx: &Context,
    engine: &WasmEngine,
    folder: &str,
    artefact: &str,
    cache: &Path,
    loads: usize,
) -> anyhow::Result<Deploy> {
    let (_, wasm) = node::component(&ctx.root, folder, artefact)?;
    let manifest = node::manifest(&ctx.root, folder)?;
    let t = Instant::now();
    let (_, source) = LoadedComponent::load(engine, manifest.clone(), &wasm, None)?;
    let compile = t.elapsed();
    debug_assert_eq!(source, caliopen_runtime::wasm::CompileSource::Compiled);
    // Writes the artefact (not timed), then loads it.
    LoadedComponent::load(engine, manifest.clone(), &wasm, Some(cache))?;
    let mut times = Vec::new();
    for _ in 0..loads.max(1) {
        let t = Instant::now();
        let (_, source) = LoadedComponent::load(engine, manifest.clone(), &wasm, Some(cache))?;
        times.push(t.elapsed());
        anyhow::ensure!(
            source == caliopen_runtime::wasm::CompileSource::Cache,
            "{folder}: the precompiled artefact was not used"
        );
    }
    times.sort_unstable();
    Ok(Deploy {
        component: manifest.to_string(),
        wasm_kib: wasm.len() / 1024,
        compile,
        precompiled: times[times.len() / 2],
    })
}

/// A message view of a corpus message, as the first qualifier sees it.
fn sample_view(
    ctx: &Context,
    engine: &WasmEngine,
    user: &caliopen_core::context::UserContext,
    corpus: &Corpus,
) -> anyhow::Result<MessageView> {
    let parser = load(ctx, engine, "email-parser", "caliopen_email_parser")?;
    let broker = load(ctx, engine, "email-broker", "caliopen_email_broker")?;
    let raw = &corpus.raw[corpus.raw.len() / 2];
    let parsed = parser.parse(engine, raw).0?;
    let message = broker.inbound(engine, user.clone(), &parsed, 0).0?;
    Ok(view(message))
}

pub(crate) fn view(message: caliopen_runtime::wasm::bindings::types::Message) -> MessageView {
    MessageView {
        message,
        tags: Vec::new(),
        pi: None,
        importance_level: 0,
        is_spam: false,
        spam_score: None,
    }
}

pub(crate) fn load(
    ctx: &Context,
    engine: &WasmEngine,
    folder: &str,
    artefact: &str,
) -> anyhow::Result<LoadedComponent> {
    let (_, wasm) = node::component(&ctx.root, folder, artefact)?;
    Ok(LoadedComponent::load(engine, node::manifest(&ctx.root, folder)?, &wasm, None)?.0)
}

/// (component, mean KiB, max KiB) of the linear-memory peak per call over the corpus.
fn linear_memory(
    ctx: &Context,
    engine: &WasmEngine,
    user: &caliopen_core::context::UserContext,
    corpus: &Corpus,
) -> anyhow::Result<Vec<(String, f64, f64)>> {
    let chain: Vec<LoadedComponent> = node::DEFAULT_CHAIN
        .iter()
        .map(|(folder, artefact)| load(ctx, engine, folder, artefact))
        .collect::<anyhow::Result<_>>()?;
    let mut peaks: Vec<Vec<usize>> = vec![Vec::new(); chain.len()];
    for raw in &corpus.raw {
        let (parsed, stats) = chain[0].parse(engine, raw);
        peaks[0].push(stats.memory_peak);
        let Ok(parsed) = parsed else { continue };
        let (message, stats) = chain[1].inbound(engine, user.clone(), &parsed, 0);
        peaks[1].push(stats.memory_peak);
        let Ok(message) = message else { continue };
        let v = view(message);
        for (i, q) in chain.iter().enumerate().skip(2) {
            let (_, stats) = q.qualify(engine, user.clone(), &v);
            peaks[i].push(stats.memory_peak);
        }
    }
    Ok(chain
        .iter()
        .zip(peaks)
        .map(|(c, p)| {
            let mean = p.iter().sum::<usize>() as f64 / p.len().max(1) as f64 / 1024.0;
            let max = p.iter().copied().max().unwrap_or(0) as f64 / 1024.0;
            (c.manifest.to_string(), mean, max)
        })
        .collect())
}
