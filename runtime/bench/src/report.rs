//! The markdown around a scenario's figures: the machine (`nproc`, memory, CPU model),
//! the versions (rustc, the Caliopen commit, peers), the corpus and the exact command; and
//! `BENCHMARKS.md`, where each scenario owns the text between `<!-- bench:NAME -->` and
//! `<!-- /bench:NAME -->`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::Context as _;

use crate::scenario::{Context, Section};

/// The start of a new `BENCHMARKS.md`, and of the committed one (a test checks): what
/// is measured, on which machine, and how to reproduce it. The summary of current
/// figures and what bounds them, written by hand, follows it there.
const INTRO: &str = include_str!("intro.md");

/// The scenario's section, markers included.
pub fn render(name: &str, section: &Section, ctx: &Context) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", open_marker(name));
    let _ = writeln!(out, "## {}\n", section.title);
    let _ = writeln!(
        out,
        "Measured {} with:\n\n```sh\n{}\n```\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        ctx.command_line
    );
    let _ = writeln!(out, "| | |\n|---|---|");
    for (k, v) in facts(ctx, section) {
        let _ = writeln!(out, "| {k} | {} |", v.replace('|', "\\|"));
    }
    let _ = writeln!(out, "\n{}", section.body.trim_end());
    let _ = write!(out, "{}", close_marker(name));
    out
}

fn facts(ctx: &Context, section: &Section) -> Vec<(String, String)> {
    let mut facts = vec![
        ("machine: CPUs (`nproc`)".to_owned(), nproc()),
        ("machine: memory".to_owned(), memory()),
        ("machine: CPU model".to_owned(), cpu_model()),
        (
            "machine: kernel".to_owned(),
            output("uname", &["-r"]).unwrap_or_else(unknown),
        ),
        (
            "rustc".to_owned(),
            output("rustc", &["--version"]).unwrap_or_else(unknown),
        ),
        ("caliopen commit".to_owned(), commit(&ctx.root)),
    ];
    facts.extend(section.versions.iter().cloned());
    if let Some(corpus) = &section.corpus {
        facts.push(("corpus".to_owned(), corpus.clone()));
    }
    facts.extend(section.settings.iter().cloned());
    facts
}

fn unknown() -> String {
    "unknown".to_owned()
}

fn open_marker(name: &str) -> String {
    format!("<!-- bench:{name} -->")
}

fn close_marker(name: &str) -> String {
    format!("<!-- /bench:{name} -->")
}

/// Replaces the section of `name` in the file at `path` (created with an intro when
/// missing); a section not there yet is appended.
pub fn write_section(path: &Path, name: &str, section: &str) -> anyhow::Result<()> {
    let current = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => INTRO.to_owned(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let updated = replace_section(&current, name, section)?;
    std::fs::write(path, updated).with_context(|| format!("cannot write {}", path.display()))
}

fn replace_section(text: &str, name: &str, section: &str) -> anyhow::Result<String> {
    let (open, close) = (open_marker(name), close_marker(name));
    match (text.find(&open), text.find(&close)) {
        (Some(start), Some(end)) if end > start => Ok(format!(
            "{}{}{}",
            &text[..start],
            section.trim_end(),
            &text[end + close.len()..]
        )),
        (None, None) => Ok(format!("{}\n\n{}\n", text.trim_end(), section.trim_end())),
        _ => {
            anyhow::bail!("BENCHMARKS.md has a broken `{open}` ... `{close}` pair: fix it by hand")
        }
    }
}

/// Standard output of a command, trimmed, if it ran and succeeded.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn nproc() -> String {
    output("nproc", &[])
        .or_else(|| {
            std::thread::available_parallelism()
                .ok()
                .map(|n| n.to_string())
        })
        .unwrap_or_else(unknown)
}

fn memory() -> String {
    let kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    });
    kib.map_or_else(unknown, |k| {
        format!("{:.1} GiB", k as f64 / (1024.0 * 1024.0))
    })
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(unknown)
}

/// The short commit of the repository, with a note when the work tree has changes
/// other than to BENCHMARKS.md itself (which every `--write` changes).
fn commit(root: &Path) -> String {
    let root = root.to_string_lossy();
    let Some(head) = output("git", &["-C", &root, "rev-parse", "--short", "HEAD"]) else {
        return unknown();
    };
    match output(
        "git",
        &[
            "-C",
            &root,
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":(exclude)BENCHMARKS.md",
        ],
    ) {
        Some(changes) if !changes.is_empty() => format!("{head} (with uncommitted changes)"),
        _ => head,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECTION: &str = "<!-- bench:ingest -->\nnew\n<!-- /bench:ingest -->";

    #[test]
    fn a_missing_section_is_appended() {
        let out = replace_section(INTRO, "ingest", SECTION).unwrap();
        assert!(out.starts_with(INTRO.trim_end()));
        assert!(out.ends_with(&format!("{SECTION}\n")));
    }

    #[test]
    fn an_existing_section_is_replaced_and_the_others_kept() {
        let text = "intro\n\n<!-- bench:storage -->\ns\n<!-- /bench:storage -->\n\n\
                    <!-- bench:ingest -->\nold\nold\n<!-- /bench:ingest -->\n\ntail\n";
        let out = replace_section(text, "ingest", SECTION).unwrap();
        assert_eq!(
            out,
            "intro\n\n<!-- bench:storage -->\ns\n<!-- /bench:storage -->\n\n\
             <!-- bench:ingest -->\nnew\n<!-- /bench:ingest -->\n\ntail\n"
        );
        // Writing twice gives the same file.
        assert_eq!(replace_section(&out, "ingest", SECTION).unwrap(), out);
    }

    #[test]
    fn the_committed_file_starts_with_the_intro() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../BENCHMARKS.md");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(INTRO),
            "BENCHMARKS.md does not start with runtime/bench/src/intro.md: make them the same"
        );
    }

    #[test]
    fn a_broken_marker_pair_is_refused() {
        let text = "<!-- /bench:ingest -->\n<!-- bench:ingest -->\n";
        assert!(replace_section(text, "ingest", SECTION).is_err());
        assert!(replace_section("<!-- bench:ingest -->\n", "ingest", SECTION).is_err());
    }
}
