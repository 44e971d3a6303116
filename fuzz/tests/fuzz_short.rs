//! The stable driver of the fuzz targets as tests: each target on its committed seeds (and
//! on `corpus/<target>/`, what libFuzzer found locally), then `CALIOPEN_FUZZ_SECONDS`
//! seconds (0 unless set) of seeded random mutations. `cargo test` replays the seeds;
//! `cargo xtask test` gives each target 10 s, `cargo xtask fuzz` as long as asked.
//! `CALIOPEN_FUZZ_SEED` changes the mutation sequence. See docs/fuzzing.md.

use std::path::Path;
use std::time::Duration;

use caliopen_fuzz::{TARGETS, runner};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
    })
}

fn fuzz(name: &str) {
    let target = *TARGETS
        .iter()
        .find(|(t, _)| *t == name)
        .expect("a known target");
    let budget = Duration::from_secs(env_number("CALIOPEN_FUZZ_SECONDS", 0));
    let seed = env_number("CALIOPEN_FUZZ_SEED", 1);
    if name == "parser_component" {
        // Loading the engine and component is not part of the budget.
        caliopen_fuzz::parser::warm_up_parser();
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let outcome = runner::run(dir, target, budget, seed);
    eprintln!(
        "fuzz {name}: {} seeds, {} inputs, {budget:?} of mutations, seed {seed}",
        outcome.seeds, outcome.executions
    );
    assert!(
        outcome.seeds >= 3,
        "seeds/{name}/ has {} inputs: the seed folder is missing",
        outcome.seeds
    );
    if let Some(path) = outcome.finding {
        panic!(
            "fuzz {name}: a check failed (message above); input saved to {}\n\
             reproduce: cargo run -p caliopen-fuzz --bin fuzz-ci -- --replay {} {name}",
            path.display(),
            path.display()
        );
    }
}

#[test]
fn command() {
    fuzz("command");
}

#[test]
fn session() {
    fuzz("session");
}

#[test]
fn rest_json() {
    fuzz("rest_json");
}

#[test]
fn parser_component() {
    fuzz("parser_component");
}
