//! `caliopen-bench`: the one benchmark harness of the project.
//!
//! `caliopen-bench <scenario> [options] [--write]` runs one scenario on this machine,
//! prints its markdown section (machine, versions, corpus, the exact command, the
//! figures) and, with `--write`, replaces that scenario's section of `BENCHMARKS.md`
//! at the repository root.
//!
//! Module map:
//! - [`scenario`]: the [`scenario::Scenario`] trait, the table of scenarios, the
//!   [`scenario::Context`] they run in and the [`scenario::Section`] they return.
//! - [`report`]: machine and version facts, rendering a section, and the marker-delimited
//!   update of `BENCHMARKS.md`.
//! - [`corpus`]: the real mail of `../shared/corpus`, prepared for sending.
//! - [`lmtp`]: the LMTP load generator (N connections, pipelined transactions,
//!   latency of every final reply).
//! - [`stats`], [`sys`], [`procs`]: percentiles, CPU accounting from `/proc`, child
//!   processes that are always stopped.
//! - [`node`]: an in-process node (embedded store, core, engine, components) for the
//!   scenarios below the protocols.
//! - [`wrk`]: runs `wrk` and reads its report.
//!
//! The scenarios, in the order of `caliopen-bench --help`:
//! - [`ingest`]: Caliopen against Dovecot over LMTP, up to stored and indexed.
//! - [`import`]: `caliopen import` of an mbox against LMTP ingest of the same mails and
//!   Dovecot's `doveadm import`.
//! - [`chain`]: the component chain in Wasm against the same crates native.
//! - [`runtime`]: instantiation, call overhead, deploy, memory per instance.
//! - [`api`]: insert rate, then list and search latency under `wrk` on 100k messages.
//! - [`memory`]: resident memory of `caliopen serve` at idle and under ingest.
//! - [`swap`]: ingest throughput while a qualifier is deployed and rolled back.
//!
//! A new scenario is one module implementing [`scenario::Scenario`] plus one line in
//! [`scenario::all`].

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

mod api;
mod chain;
mod corpus;
mod import;
mod ingest;
mod lmtp;
mod memory;
mod node;
mod procs;
mod report;
mod runtime;
mod scenario;
mod stats;
mod swap;
mod sys;
mod wrk;

use anyhow::Context as _;

/// The same allocator as the `caliopen` binary (the api scenario serves REST in process).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    caliopen_runtime::trim::configure();
    let scenarios = scenario::all();
    let mut cli = clap::Command::new("caliopen-bench")
        .about("Measures Caliopen on this machine; --write records the result in BENCHMARKS.md")
        .subcommand_required(true)
        .arg_required_else_help(true);
    for s in &scenarios {
        let sub = clap::Command::new(s.name()).about(s.about()).arg(
            clap::Arg::new("write")
                .long("write")
                .action(clap::ArgAction::SetTrue)
                .help("Replace this scenario's section of BENCHMARKS.md at the repository root"),
        );
        cli = cli.subcommand(s.args(sub));
    }
    let matches = cli.get_matches();
    let (name, sub) = matches.subcommand().context("a scenario is required")?;
    let scenario = scenarios
        .iter()
        .find(|s| s.name() == name)
        .context("unknown scenario")?;

    let ctx = scenario::Context::new()?;
    let section = scenario.run(sub, &ctx)?;
    let text = report::render(scenario.name(), &section, &ctx);
    println!("{text}");
    if sub.get_flag("write") {
        let path = ctx.root.join("BENCHMARKS.md");
        report::write_section(&path, scenario.name(), &text)?;
        eprintln!(
            "caliopen-bench: wrote the `{name}` section of {}",
            path.display()
        );
    }
    Ok(())
}
