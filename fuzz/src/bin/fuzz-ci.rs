//! The stable runner of every fuzz target (see `caliopen_fuzz::runner`).
//!
//! `fuzz-ci [--seconds N] [--seed S] [--replay FILE] [TARGET...]`: N seconds per target
//! (default 10) after its seeds, all targets unless some are named. `--replay FILE` runs
//! the named target (exactly one) on one input, e.g. an artefact of a failed run.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line tool reports on stdout

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use caliopen_fuzz::{TARGETS, Target, runner};

fn main() -> ExitCode {
    let mut seconds = 10_u64;
    let mut seed = 1_u64;
    let mut replay: Option<PathBuf> = None;
    let mut names = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().unwrap_or_else(|| panic!("{arg} needs {what}"));
        match arg.as_str() {
            "--seconds" => seconds = value("a number").parse().expect("--seconds N"),
            "--seed" => seed = value("a number").parse().expect("--seed S"),
            "--replay" => replay = Some(PathBuf::from(value("a file"))),
            name => names.push(name.to_owned()),
        }
    }
    let targets: Vec<Target> = if names.is_empty() {
        TARGETS.to_vec()
    } else {
        names
            .iter()
            .map(|n| {
                *TARGETS.iter().find(|(t, _)| t == n).unwrap_or_else(|| {
                    let known: Vec<&str> = TARGETS.iter().map(|(t, _)| *t).collect();
                    panic!("unknown target {n}; targets: {}", known.join(", "))
                })
            })
            .collect()
    };
    if let Some(file) = replay {
        let [(_, check)] = targets[..] else {
            panic!("--replay needs exactly one target")
        };
        check(&std::fs::read(&file).expect("read the input to replay"));
        println!("{}: passes", file.display());
        return ExitCode::SUCCESS;
    }

    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failed = false;
    for target in targets {
        if target.0 == "parser_component" {
            caliopen_fuzz::parser::warm_up_parser();
        }
        let outcome = runner::run(dir, target, Duration::from_secs(seconds), seed);
        match &outcome.finding {
            None => println!(
                "fuzz {}: ok, {} seeds, {} inputs in {seconds} s (seed {seed})",
                target.0, outcome.seeds, outcome.executions
            ),
            Some(path) => {
                failed = true;
                println!(
                    "fuzz {}: FAILED after {} inputs; input saved to {}\n  reproduce: cargo run -p caliopen-fuzz --bin fuzz-ci -- --replay {} {}",
                    target.0,
                    outcome.executions,
                    path.display(),
                    path.display(),
                    target.0
                );
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
