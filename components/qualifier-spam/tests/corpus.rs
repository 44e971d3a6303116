//! The shared corpus (`../shared/corpus` from the workspace root) through the whole
//! qualification: parser, broker, then tags → spam → pi → importance (see `chain`).
//! Checks that every verdict is one the host accepts, that GTUBE and the obvious
//! spam samples are spam, that ham stays ham, and that PGP-encrypted mail gets a
//! higher technic score than plain mail; prints a summary table (`--nocapture`;
//! `CORPUS_VERBOSE=1` also lists every message).
//! Fails when the corpus folder is absent; `cargo xtask test` lists it as skipped then.

mod chain;

use std::collections::BTreeMap;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use chain::Outcome;

/// Samples that are spam by any sensible standard (GTUBE, advance-fee fraud, a
/// spam list sample); every message whose upstream filter said spam is added.
const OBVIOUS_SPAM: &[&str] = &[
    "rspamd/gtube.eml",
    "rspamd/spam_message.eml",
    "rspamd/advance_fee_fraud.eml",
    "caliopen/raw_emails/spam-multipart",
];

/// Samples that are plainly not spam.
const OBVIOUS_HAM: &[&str] = &[
    "rspamd/ham.eml",
    "caliopen/raw_emails/simple",
    "caliopen/raw_emails/signed-and-encrypted",
];

/// `CALIOPEN_CORPUS`, else `../shared/corpus` from the workspace root.
fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("CALIOPEN_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    assert!(
        dir.is_dir(),
        "the shared corpus is absent at {}: set CALIOPEN_CORPUS to its folder",
        dir.display()
    );
    dir
}

/// rspamd's `*.eml` (recursively), and every file of caliopen's `mbox/` and
/// `raw_emails/`.
fn corpus_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    collect(&root.join("rspamd"), &mut files, &|p| {
        p.extension().is_some_and(|e| e == "eml")
    });
    collect(&root.join("caliopen/mbox"), &mut files, &|_| true);
    collect(&root.join("caliopen/raw_emails"), &mut files, &|_| true);
    files.sort();
    files
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>, keep: &dyn Fn(&Path) -> bool) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files, keep);
        } else if keep(&path) {
            files.push(path);
        }
    }
}

/// A message of the corpus and what the chain made of it.
struct Result {
    name: String,
    group: &'static str,
    upstream_spam: Option<bool>,
    outcome: Outcome,
}

#[test]
fn corpus_through_the_qualifier_chain() {
    let root = corpus_dir();
    let files = corpus_files(&root);
    assert!(
        !files.is_empty(),
        "corpus at {} has no message",
        root.display()
    );

    let mut results = Vec::new();
    let mut failures = Vec::new();
    for path in &files {
        let name = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let raw = fs::read(path).expect("readable corpus file");
        let run = catch_unwind(AssertUnwindSafe(|| {
            let message = chain::broker(&raw)?;
            let user = chain::user_for(path, &message);
            Some((
                message.privacy_features.upstream_spam,
                chain::qualify(&message, &user),
            ))
        }));
        match run {
            Err(_) => failures.push(format!("{name}: panicked")),
            Ok(None) => {} // the parser refused it (empty input): nothing to qualify
            Ok(Some((upstream_spam, outcome))) => {
                if !outcome.invalid.is_empty() {
                    failures.push(format!("{name}: invalid output {:?}", outcome.invalid));
                }
                let group = if name.starts_with("rspamd") {
                    "rspamd"
                } else if name.starts_with("caliopen/mbox") {
                    "caliopen/mbox"
                } else {
                    "caliopen/raw_emails"
                };
                results.push(Result {
                    name,
                    group,
                    upstream_spam,
                    outcome,
                });
            }
        }
    }
    if std::env::var_os("CORPUS_VERBOSE").is_some_and(|v| v == "1") {
        for r in &results {
            let o = &r.outcome;
            eprintln!(
                "{:<60} spam={:<5} score={:>7.2} pi={:?} il={:>3} tags={:?} {:?}",
                r.name,
                o.is_spam,
                o.spam_score.unwrap_or(0.0),
                o.pi,
                o.importance,
                o.tags,
                o.rules
            );
        }
    }
    summary(&results);

    check_spam(&results, &mut failures);
    check_encryption(&results, &mut failures);
    assert!(
        failures.is_empty(),
        "corpus failures:\n{}",
        failures.join("\n")
    );
}

fn find<'a>(results: &'a [Result], name: &str) -> Option<&'a Result> {
    results.iter().find(|r| r.name == name)
}

fn check_spam(results: &[Result], failures: &mut Vec<String>) {
    let gtube = find(results, "rspamd/gtube.eml");
    if !gtube.is_some_and(|r| r.outcome.rules.iter().any(|x| x == "spam/GTUBE")) {
        failures.push("rspamd/gtube.eml: GTUBE did not fire".into());
    }
    let upstream = results.iter().filter(|r| r.upstream_spam == Some(true));
    let obvious = OBVIOUS_SPAM
        .iter()
        .filter_map(|n| find(results, n))
        .chain(upstream);
    for r in obvious {
        if !r.outcome.is_spam || !r.outcome.tags.contains(&"spam".to_owned()) {
            failures.push(format!(
                "{}: spam expected, score {:?}",
                r.name, r.outcome.spam_score
            ));
        }
        if r.outcome.importance > -5 {
            failures.push(format!(
                "{}: spam with importance {}",
                r.name, r.outcome.importance
            ));
        }
    }
    for name in OBVIOUS_HAM {
        match find(results, name) {
            Some(r) if r.outcome.is_spam => failures.push(format!(
                "{name}: ham marked spam ({:?}, {:?})",
                r.outcome.spam_score, r.outcome.rules
            )),
            Some(_) => {}
            None => failures.push(format!("{name}: missing from the corpus run")),
        }
    }
    // Where the upstream filter said ham, we should rarely disagree.
    let ham: Vec<&Result> = results
        .iter()
        .filter(|r| r.upstream_spam == Some(false))
        .collect();
    let disagree: Vec<&str> = ham
        .iter()
        .filter(|r| r.outcome.is_spam)
        .map(|r| r.name.as_str())
        .collect();
    if disagree.len() * 20 > ham.len() {
        failures.push(format!(
            "more than 5% of upstream ham marked spam: {disagree:?}"
        ));
    }
}

fn check_encryption(results: &[Result], failures: &mut Vec<String>) {
    let technic = |r: &Result| f32::from(r.outcome.pi.map_or(0, |p| p.0));
    let caliopen: Vec<&Result> = results
        .iter()
        .filter(|r| r.name.starts_with("caliopen"))
        .collect();
    let (encrypted, plain): (Vec<&Result>, Vec<&Result>) =
        caliopen.iter().partition(|r| r.outcome.encrypted);
    if encrypted.is_empty() || plain.is_empty() {
        failures.push("no encrypted or no plain sample in caliopen/".into());
        return;
    }
    let plain_mean = plain.iter().map(|r| technic(r)).sum::<f32>() / plain.len() as f32;
    let plain_max = plain.iter().map(|r| technic(r)).fold(0.0, f32::max);
    eprintln!(
        "encrypted technic: {:?} vs plain mean {plain_mean:.1}, max {plain_max}",
        encrypted
            .iter()
            .map(|r| (r.name.as_str(), technic(r)))
            .collect::<Vec<_>>()
    );
    for r in encrypted {
        if technic(r) <= plain_mean {
            failures.push(format!(
                "{}: technic {} not above plain mean {plain_mean:.1}",
                r.name,
                technic(r)
            ));
        }
    }
}

/// One score of a `(technic, comportment, context)` triple.
type PiAxis = fn((u8, u8, u8)) -> u8;

fn summary(results: &[Result]) {
    eprintln!(
        "\n{:<22} {:>6} {:>6} {:>9}",
        "group", "total", "spam", "not spam"
    );
    let mut groups: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for r in results {
        let entry = groups.entry(r.group).or_default();
        entry.0 += 1;
        entry.1 += usize::from(r.outcome.is_spam);
    }
    for (group, (total, spam)) in &groups {
        eprintln!("{group:<22} {total:>6} {spam:>6} {:>9}", total - spam);
    }
    let spam = results.iter().filter(|r| r.outcome.is_spam).count();
    eprintln!(
        "{:<22} {:>6} {spam:>6} {:>9}",
        "all",
        results.len(),
        results.len() - spam
    );

    let buckets = ["0-19", "20-39", "40-59", "60-79", "80-100"];
    eprintln!(
        "\nPI {:<12} {}   mean",
        "axis",
        buckets.map(|b| format!("{b:>7}")).join("")
    );
    let axes: [(&str, PiAxis); 3] = [
        ("technic", |p| p.0),
        ("comportment", |p| p.1),
        ("context", |p| p.2),
    ];
    for (axis, get) in axes {
        let values: Vec<u8> = results
            .iter()
            .filter_map(|r| r.outcome.pi.map(get))
            .collect();
        let mut counts = [0usize; 5];
        for v in &values {
            counts[usize::from((*v).min(99) / 20)] += 1;
        }
        let mean = values.iter().map(|v| f32::from(*v)).sum::<f32>() / values.len().max(1) as f32;
        eprintln!(
            "   {axis:<12} {} {mean:>5.1}",
            counts.map(|c| format!("{c:>7}")).join("")
        );
    }

    let mut levels: BTreeMap<i8, usize> = BTreeMap::new();
    for r in results {
        *levels.entry(r.outcome.importance).or_default() += 1;
    }
    eprintln!("\nimportance level: count  {levels:?}");

    let mut fired: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results {
        for rule in &r.outcome.rules {
            *fired.entry(rule.as_str()).or_default() += 1;
        }
    }
    let spam_rules: Vec<String> = fired
        .iter()
        .filter(|(rule, _)| rule.starts_with("spam/") || rule.starts_with("tags/"))
        .map(|(rule, n)| format!("{rule}={n}"))
        .collect();
    eprintln!("rules fired (tags, spam): {}\n", spam_rules.join(" "));
}
