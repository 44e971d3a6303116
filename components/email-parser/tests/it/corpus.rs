//! The shared corpus (`../shared/corpus` from the workspace root): every message goes
//! through `parse` without a panic, and what comes out is sensible. Passes, saying so
//! loudly, when the folder is absent. `--nocapture` shows the counts.

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use caliopen_email_parser::ParsedMail;

/// The message files of the corpus: rspamd's `*.eml` (recursively), and every file
/// of caliopen's `mbox/` (one message per file) and `raw_emails/`.
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

#[test]
fn corpus_parses_without_panic_and_sensibly() {
    let root = common::corpus_dir();
    let files = corpus_files(&root);
    assert!(
        !files.is_empty(),
        "corpus at {} has no message",
        root.display()
    );

    let mut stats = Stats::default();
    let mut failures = Vec::new();
    for file in &files {
        let raw = fs::read(file).expect("readable corpus file");
        let name = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        let result = catch_unwind(AssertUnwindSafe(|| caliopen_email_parser::parse(&raw)));
        match result {
            Err(_) => failures.push(format!("{name}: PANIC")),
            Ok(Err(error)) => {
                stats.errors += 1;
                if !raw.trim_ascii().is_empty() {
                    failures.push(format!("{name}: error {}: {}", error.kind, error.message));
                }
            }
            Ok(Ok(mail)) => {
                stats.count(&mail);
                failures.extend(
                    check(&mail, raw.len())
                        .into_iter()
                        .map(|f| format!("{name}: {f}")),
                );
            }
        }
    }
    stats.report(files.len());
    assert!(
        failures.is_empty(),
        "{} corpus failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The sensible things every parse of a real mail must satisfy.
fn check(mail: &ParsedMail, raw_len: usize) -> Vec<String> {
    let mut failures = Vec::new();
    let has_header = |name: &str| {
        mail.headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(name) && !h.value.is_empty())
    };
    let explained = |name: &str| mail.problems.iter().any(|p| p.contains(name));
    if has_header("From") && mail.from.is_empty() && !explained("From") {
        failures.push("From header, no mailbox, no problem".to_string());
    }
    if has_header("Message-ID") && mail.message_id.is_none() && !explained("Message-ID") {
        failures.push("Message-ID header, no message-id, no problem".to_string());
    }
    if has_header("Date") && mail.date.is_none() && !explained("Date") {
        failures.push("Date header, no date, no problem".to_string());
    }
    if mail.size != raw_len as u64 {
        failures.push(format!("size {} for {raw_len} bytes", mail.size));
    }
    if mail.parts.first().is_none_or(|p| p.depth != 0) {
        failures.push("parts do not start at depth 0".to_string());
    }
    if mail.parts.windows(2).any(|w| w[1].depth > w[0].depth + 1) {
        failures.push("parts skip a depth level".to_string());
    }
    let leaves = mail
        .parts
        .iter()
        .filter(|p| !p.content_type.starts_with("multipart/") || p.size > 0);
    let leaf_count = leaves.count() as u32;
    if let Some(a) = mail
        .attachments
        .iter()
        .find(|a| a.part_index >= leaf_count.max(1))
    {
        failures.push(format!(
            "attachment part-index {} out of {leaf_count} leaves",
            a.part_index
        ));
    }
    if mail
        .message_id
        .as_deref()
        .is_some_and(|id| id.starts_with('<') || id.ends_with('>'))
    {
        failures.push("message-id keeps its angle brackets".to_string());
    }
    failures
}

/// Counts printed at the end of the corpus test.
#[derive(Default)]
struct Stats {
    errors: usize,
    parsed: usize,
    with_from: usize,
    with_date: usize,
    with_message_id: usize,
    with_plain: usize,
    with_html: usize,
    with_attachments: usize,
    with_list_id: usize,
    without_problems: usize,
    content_types: BTreeMap<String, usize>,
    problems: BTreeMap<String, usize>,
}

impl Stats {
    fn count(&mut self, mail: &ParsedMail) {
        self.parsed += 1;
        self.with_from += usize::from(!mail.from.is_empty());
        self.with_date += usize::from(mail.date.is_some());
        self.with_message_id += usize::from(mail.message_id.is_some());
        self.with_plain += usize::from(mail.body_plain.is_some());
        self.with_html += usize::from(mail.body_html.is_some());
        self.with_attachments += usize::from(!mail.attachments.is_empty());
        self.with_list_id += usize::from(mail.list_id.is_some());
        self.without_problems += usize::from(mail.problems.is_empty());
        for part in &mail.parts {
            let interesting = part.content_type.starts_with("multipart/")
                || part.content_type.contains("pgp")
                || part.content_type.contains("pkcs7");
            if interesting {
                *self
                    .content_types
                    .entry(part.content_type.clone())
                    .or_default() += 1;
            }
        }
        for problem in &mail.problems {
            *self.problems.entry(problem_kind(problem)).or_default() += 1;
        }
    }

    fn report(&self, files: usize) {
        eprintln!(
            "corpus: {files} files, {} parsed, {} component errors",
            self.parsed, self.errors
        );
        eprintln!(
            "  from {}, date {}, message-id {}, body-plain {}, body-html {}, attachments {}, list-id {}, no problem {}",
            self.with_from,
            self.with_date,
            self.with_message_id,
            self.with_plain,
            self.with_html,
            self.with_attachments,
            self.with_list_id,
            self.without_problems
        );
        eprintln!("  structural parts: {:?}", self.content_types);
        let mut problems: Vec<_> = self.problems.iter().collect();
        problems.sort_by(|a, b| b.1.cmp(a.1));
        for (kind, n) in problems.iter().take(25) {
            eprintln!("  {n:5} x {kind}");
        }
    }
}

/// A problem without its quoted excerpt and part numbers, to count problems by kind.
fn problem_kind(problem: &str) -> String {
    let cut = problem.find('"').unwrap_or(problem.len());
    problem[..cut]
        .split_whitespace()
        .map(|w| {
            if w.chars().all(|c| c.is_ascii_digit()) {
                "N"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
