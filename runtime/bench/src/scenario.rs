//! What a scenario is: a name, its own command-line options, and a run that returns a
//! [`Section`]. The harness owns everything around it (machine facts, versions, the exact
//! command, writing `BENCHMARKS.md`), so a scenario only measures and says what it saw.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// One benchmark scenario. Implementations are unit structs listed in [`all`].
pub trait Scenario: Sync {
    /// The subcommand, also the `<!-- bench:NAME -->` marker of its section.
    fn name(&self) -> &'static str;
    /// One line for `--help`.
    fn about(&self) -> &'static str;
    /// Adds the scenario's options (usually `<Args as clap::Args>::augment_args`).
    fn args(&self, command: clap::Command) -> clap::Command;
    /// Measures, then says what it measured.
    fn run(&self, matches: &clap::ArgMatches, ctx: &Context) -> anyhow::Result<Section>;
}

/// Every scenario, in `--help` order. Add a line here for a new one.
pub fn all() -> Vec<&'static dyn Scenario> {
    vec![
        &crate::ingest::Ingest,
        &crate::import::Import,
        &crate::chain::Chain,
        &crate::runtime::Runtime,
        &crate::api::Api,
        &crate::memory::Memory,
        &crate::swap::Swap,
    ]
}

/// Where and how the harness was started.
#[derive(Debug, Clone)]
pub struct Context {
    /// The repository root (where `BENCHMARKS.md` and `configs/` live).
    pub root: PathBuf,
    /// The command as typed, program name normalised to `caliopen-bench`.
    pub command_line: String,
}

impl Context {
    pub fn new() -> anyhow::Result<Self> {
        let root = repository_root()?;
        let args: Vec<String> = std::env::args().skip(1).map(|a| shell_quote(&a)).collect();
        Ok(Self {
            root,
            command_line: format!("caliopen-bench {}", args.join(" "))
                .trim_end()
                .to_owned(),
        })
    }

    /// The corpus where the project's tests find it (`cargo xtask test`): `CALIOPEN_CORPUS`,
    /// else `shared/corpus` beside the repository or beside one of its parent folders (a
    /// git worktree in a folder of worktrees), else `../shared/corpus` (reported missing).
    pub fn corpus_dir(&self) -> PathBuf {
        if let Some(dir) = std::env::var_os("CALIOPEN_CORPUS") {
            return PathBuf::from(dir);
        }
        self.root
            .ancestors()
            .skip(1)
            .map(|a| a.join("shared/corpus"))
            .find(|d| d.is_dir())
            .unwrap_or_else(|| self.root.join("../shared/corpus"))
    }
}

/// What a scenario reports. The harness adds the machine, the versions and the command.
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// The heading, e.g. "Ingest over LMTP: Caliopen and Dovecot".
    pub title: String,
    /// The data used, one line of markdown.
    pub corpus: Option<String>,
    /// Versions of the peers measured beside Caliopen, as (name, version).
    pub versions: Vec<(String, String)>,
    /// Settings that matter for reading the figures, as (name, value).
    pub settings: Vec<(String, String)>,
    /// The figures and findings, markdown.
    pub body: String,
}

/// The repository root: `CALIOPEN_BENCH_ROOT`, else the workspace this crate was built in
/// (`runtime/bench` → two levels up), else the current directory if it has a `Cargo.toml`.
fn repository_root() -> anyhow::Result<PathBuf> {
    if let Ok(root) = std::env::var("CALIOPEN_BENCH_ROOT") {
        return Ok(PathBuf::from(root));
    }
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for candidate in [built_in, std::env::current_dir()?] {
        if candidate.join("Cargo.toml").is_file() && candidate.join("configs").is_dir() {
            return candidate
                .canonicalize()
                .with_context(|| format!("cannot resolve {}", candidate.display()));
        }
    }
    anyhow::bail!("cannot find the repository root: set CALIOPEN_BENCH_ROOT")
}

/// Quotes an argument for a POSIX shell when it needs it.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=.,/:@+".contains(&b));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_names_are_unique_markers() {
        let names: Vec<_> = all().iter().map(|s| s.name()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names.len(), sorted.len(), "{names:?}");
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        );
    }

    #[test]
    fn arguments_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("--connections=8"), "--connections=8");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
