//! The short fuzz run of `cargo xtask test`: every target of the fuzz crate
//! (`fuzz/`) on its seeds, then seeded random mutations for a few
//! seconds, through its stable driver (the `fuzz_short` test). It needs no nightly
//! toolchain or cargo-fuzz, which a fresh CI machine lacks; long, coverage-guided runs use
//! `cargo +nightly fuzz` (docs/fuzzing.md).
//!
//! `--workspace` keeps the feature set of the test build, so nothing but the test itself
//! is compiled again.

use std::path::Path;

/// Seconds of mutation per target after its seeds, unless `CALIOPEN_FUZZ_SECONDS` is set
/// or a number is given (`cargo xtask fuzz 600 session`).
const SECONDS_PER_TARGET: &str = "10";

/// Runs every target (or those named in `args`) for the CI budget (or the one in `args`).
pub fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let (numbers, names): (Vec<&String>, Vec<&String>) =
        args.iter().partition(|a| a.parse::<u64>().is_ok());
    let seconds = numbers.first().map(|s| s.as_str()).map_or_else(
        || std::env::var("CALIOPEN_FUZZ_SECONDS").unwrap_or_else(|_| SECONDS_PER_TARGET.into()),
        str::to_owned,
    );
    let mut cmd = crate::cargo(root);
    cmd.env("CALIOPEN_FUZZ_SECONDS", &seconds);
    cmd.args(["test", "--workspace", "--test", "fuzz_short", "--"]);
    cmd.args(names);
    crate::run(cmd, "the fuzz targets (fuzz_short)")
}
