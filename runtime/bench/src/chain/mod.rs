//! `caliopen-bench chain`: the cost of the sandbox. The same corpus goes, one message
//! at a time on one thread, through
//!
//! - the Wasm chain as `caliopen serve` runs it: [`ComponentPipeline`] with the six
//!   components of `configs/caliopen.toml` (a fresh instance per call, limits, host
//!   calls to core for the user and contacts, conversion to core's types);
//! - the same guest crates compiled natively and called as plain Rust functions: the
//!   parser's `parse`, the broker's `inbound`, then the four qualifiers' pure functions
//!   with their host answers given up front (no contacts), through the module the
//!   qualifiers' corpus test uses (`components/qualifier-spam/tests/chain`);
//! - the fixed cost of a component call: six calls per message of the test
//!   qualifier, which does no work of its own, given each message's view. It bounds
//!   the ratio the chain could reach if the guests' code ran as fast as native code.
//!
//! Passes alternate (native, Wasm, native, ...) so that the noise of a shared machine
//! falls on both; the median pass of each is reported, and their ratio.
//!
//! [`ComponentPipeline`]: caliopen_runtime::pipeline::ComponentPipeline

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use caliopen_core::delivery::MailProcessor as _;
use caliopen_runtime::wasm::bindings::types::MessageView;
use caliopen_runtime::wasm::{EngineSettings, LoadedComponent, Manifest, WasmEngine};
use caliopen_storage_traits::blocking::blocking_allowed;
use clap::{Args, FromArgMatches};

use crate::corpus::Corpus;
use crate::node::{self, Node};
use crate::scenario::{Context, Scenario, Section};

mod figures;

use figures::Figures;

/// The native chain of the qualifiers' corpus test, compiled here as it is there.
#[allow(dead_code, clippy::all)]
#[path = "../../../../components/qualifier-spam/tests/chain/mod.rs"]
mod native;

/// The `chain` scenario.
#[derive(Debug)]
pub struct Chain;

/// Options of `caliopen-bench chain`.
#[derive(Debug, Clone, Args)]
pub struct ChainArgs {
    /// Passes over the corpus for each of Wasm and native (alternated).
    #[arg(long, default_value_t = 7)]
    pub passes: usize,
    /// Use on-demand instance allocation instead of the pooling allocator.
    #[arg(long)]
    pub on_demand: bool,
}

/// The product target: the Wasm chain at 0.8 of native or more.
const TARGET_RATIO: f64 = 0.8;

/// Component calls per message in the chain: parser, broker, four qualifiers.
const CALLS: usize = 6;

impl Scenario for Chain {
    fn name(&self) -> &'static str {
        "chain"
    }

    fn about(&self) -> &'static str {
        "Sandbox cost: the parser, broker and four qualifiers in Wasm against the same crates compiled natively"
    }

    fn args(&self, command: clap::Command) -> clap::Command {
        ChainArgs::augment_args(command)
    }

    fn run(&self, matches: &clap::ArgMatches, ctx: &Context) -> anyhow::Result<Section> {
        let args = ChainArgs::from_arg_matches(matches)?;
        let corpus = Corpus::load(&ctx.corpus_dir())?;
        let rt = node::runtime()?;
        let dir = tempfile::Builder::new()
            .prefix("caliopen-bench-")
            .tempdir()?;
        let settings = EngineSettings {
            pooling: !args.on_demand,
            ..EngineSettings::default()
        };
        let node = rt.block_on(Node::new(
            &ctx.root,
            dir.path(),
            &settings,
            node::DEFAULT_CHAIN,
        ))?;
        let (_, user) = rt.block_on(node.user("bench"))?;
        let native_user = native::User {
            identities: user.addresses().to_vec(),
        };
        let pipeline = node.pipeline();
        let messages: Arc<Vec<Arc<Vec<u8>>>> =
            Arc::new(corpus.raw.iter().cloned().map(Arc::new).collect());

        let native_pass = |stages: &mut [Duration; 2]| {
            let mut failed = 0;
            for raw in messages.iter() {
                let t = Instant::now();
                let message = native::broker(raw);
                stages[0] += t.elapsed();
                let t = Instant::now();
                match message {
                    Some(m) => {
                        black_box(native::qualify(&m, &native_user));
                    }
                    None => failed += 1,
                }
                stages[1] += t.elapsed();
            }
            failed
        };
        // As a delivery worker calls it: from a blocking thread, inside
        // `blocking_allowed`, waiting on the runtime's handle. The worker's own
        // hand-off to that thread (once per delivery, storing included) is ingest's.
        let wasm_pass = || {
            let (pipeline, user, messages) = (pipeline.clone(), user.clone(), messages.clone());
            let handle = rt.handle().clone();
            let pass = rt.spawn_blocking(move || {
                blocking_allowed(|| {
                    messages
                        .iter()
                        .filter(|raw| {
                            let processed = handle.block_on(pipeline.process_inbound(
                                user.clone(),
                                Arc::clone(raw),
                                chrono::Utc::now(),
                            ));
                            black_box(processed).is_err()
                        })
                        .count()
                })
            });
            rt.block_on(pass).expect("a Wasm pass panicked")
        };

        // The fixed cost of a call, on an engine of its own so that the chain's
        // per-component metrics stay the chain's.
        let idle_engine = WasmEngine::new(&settings)?;
        let views = {
            let _runtime = rt.enter();
            views(ctx, &idle_engine, &user, &messages)?
        };
        let idle = idle_qualifier(ctx, &idle_engine)?;
        let floor_pass = || -> anyhow::Result<()> {
            let _runtime = rt.enter();
            for view in &views {
                for _ in 0..CALLS {
                    let (verdict, _) = idle.qualify(&idle_engine, user.clone(), view);
                    black_box(verdict.context("the test qualifier failed")?);
                }
            }
            Ok(())
        };

        // One pass each to warm caches, allocators and the pool.
        let mut warm = [Duration::ZERO; 2];
        let native_failed = native_pass(&mut warm);
        let wasm_failed = wasm_pass();
        floor_pass()?;
        let metrics_before = component_seconds(&node);
        let (mut native_times, mut wasm_times, mut floor_times) =
            (Vec::new(), Vec::new(), Vec::new());
        let mut stages = [Duration::ZERO; 2];
        for pass in 0..args.passes.max(1) {
            let t = Instant::now();
            native_pass(&mut stages);
            native_times.push(t.elapsed());
            let t = Instant::now();
            wasm_pass();
            wasm_times.push(t.elapsed());
            let t = Instant::now();
            floor_pass()?;
            floor_times.push(t.elapsed());
            eprintln!(
                "caliopen-bench: chain pass {}: native {:.0} ms, wasm {:.0} ms, fixed cost {:.0} ms",
                pass + 1,
                native_times[pass].as_secs_f64() * 1e3,
                wasm_times[pass].as_secs_f64() * 1e3,
                floor_times[pass].as_secs_f64() * 1e3
            );
        }
        let per_component: Vec<(String, u64, f64)> = component_seconds(&node)
            .into_iter()
            .map(|(name, calls, secs)| {
                let (c0, s0) = metrics_before
                    .iter()
                    .find(|(n, _, _)| *n == name)
                    .map_or((0, 0.0), |(_, c, s)| (*c, *s));
                (name, calls - c0, secs - s0)
            })
            .collect();
        let figures = Figures {
            messages: messages.len(),
            native: median(&mut native_times),
            wasm: median(&mut wasm_times),
            floor: median(&mut floor_times),
            floor_messages: views.len(),
            passes: args.passes.max(1),
            native_stages: stages,
            per_component,
            native_failed,
            wasm_failed,
        };
        Ok(Section {
            title: "Sandbox cost: the component chain in Wasm and native".into(),
            corpus: Some(format!(
                "{} ({} files, mean {} bytes, read as they are)",
                corpus.sources.join(" + "),
                messages.len(),
                messages.iter().map(|m| m.len()).sum::<usize>() / messages.len().max(1)
            )),
            versions: vec![("wasmtime".into(), "48 (workspace)".into())],
            settings: vec![
                (
                    "allocation".into(),
                    if node.engine.pooling() {
                        "pooling allocator"
                    } else {
                        "on-demand"
                    }
                    .into(),
                ),
                (
                    "method".into(),
                    format!(
                        "{} passes over the corpus each, alternated, one message at a time on one thread; median pass",
                        figures.passes
                    ),
                ),
            ],
            body: figures.body(),
        })
    }
}

/// The test qualifier in its well-behaved mode, on `engine`.
fn idle_qualifier(ctx: &Context, engine: &WasmEngine) -> anyhow::Result<LoadedComponent> {
    let manifest = Manifest::parse(crate::runtime::TEST_QUALIFIER).map_err(anyhow::Error::msg)?;
    let wasm = node::artefact_bytes(&ctx.root, "caliopen_test_qualifier")?;
    Ok(LoadedComponent::load(engine, manifest, &wasm, None)?.0)
}

/// The view a qualifier gets of each message the parser and broker accept.
fn views(
    ctx: &Context,
    engine: &WasmEngine,
    user: &caliopen_core::context::UserContext,
    messages: &[Arc<Vec<u8>>],
) -> anyhow::Result<Vec<MessageView>> {
    let parser = crate::runtime::load(ctx, engine, "email-parser", "caliopen_email_parser")?;
    let broker = crate::runtime::load(ctx, engine, "email-broker", "caliopen_email_broker")?;
    Ok(messages
        .iter()
        .filter_map(|raw| {
            let parsed = parser.parse(engine, raw).0.ok()?;
            let message = broker.inbound(engine, user.clone(), &parsed, 0).0.ok()?;
            Some(crate::runtime::view(message))
        })
        .collect())
}

/// Per component: (name, calls, seconds), from the engine's Prometheus text.
fn component_seconds(node: &Node) -> Vec<(String, u64, f64)> {
    let mut text = String::new();
    node.engine.metrics().render(&mut text);
    crate::ingest::parse_metrics(&text).components
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or_default()
}
