//! The stable runner: every seed of a target, then seeded random mutations of them until a
//! time budget is spent. Not coverage-guided (that is libFuzzer's job in long runs), but it
//! needs no nightly compiler and is reproducible: the same `--seed` replays the same inputs.
//!
//! Seeds come from `seeds/<target>/` (committed) and `corpus/<target>/` (what libFuzzer
//! found locally, if present). A finding is written to `artifacts/<target>/` so that
//! `cargo +nightly fuzz run <target> <file>` (or this runner with `--replay`) reproduces it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::Target;

/// Longest mutated input.
const MAX_LEN: usize = 64 * 1024;

/// Words worth splicing in: protocol verbs, separators and JSON or MIME punctuation.
const TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b"\r\n.\r\n",
    b".",
    b"\0",
    b" ",
    b":",
    b"<>",
    b"<a@b>",
    b"MAIL FROM:",
    b"RCPT TO:",
    b"DATA\r\n",
    b"BDAT ",
    b"LHLO x\r\n",
    b"EHLO x\r\n",
    b"STARTTLS\r\n",
    b"RSET\r\n",
    b" SIZE=",
    b" BODY=8BITMIME",
    b"\xff",
    b"\xc3\xa9",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"\\u0000",
    b"null",
    b"1e999",
    b"-0",
    b"\"participants\":",
    b"\"actions\":",
    b"Content-Type: multipart/mixed; boundary=b\r\n",
    b"--b\r\n",
    b"--b--\r\n",
    b"=?utf-8?b?",
    b"?=",
    b"Content-Transfer-Encoding: base64\r\n",
    b"\r\n\r\n",
];

/// What a run did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub seeds: usize,
    pub executions: u64,
    /// Where the failing input was written, if a check failed.
    pub finding: Option<PathBuf>,
}

/// A small, fast, reproducible generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }
}

/// The seed inputs of `target` under the fuzz crate's directory `dir`, sorted by name.
pub fn seeds(dir: &Path, target: &str) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = ["seeds", "corpus"]
        .iter()
        .filter_map(|kind| std::fs::read_dir(dir.join(kind).join(target)).ok())
        .flatten()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .collect()
}

/// Runs `target` on its seeds, then on mutations until `budget` is spent.
pub fn run(dir: &Path, (name, check): Target, budget: Duration, seed: u64) -> Outcome {
    let mut seeds = seeds(dir, name);
    if seeds.is_empty() {
        seeds.push(Vec::new());
    }
    let mut outcome = Outcome {
        seeds: seeds.len(),
        ..Outcome::default()
    };
    let started = Instant::now();
    for input in &seeds {
        outcome.executions += 1;
        if let Some(path) = try_one(dir, name, check, input) {
            outcome.finding = Some(path);
            return outcome;
        }
    }
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut input = Vec::new();
    while started.elapsed() < budget {
        input.clear();
        input.extend_from_slice(&seeds[rng.below(seeds.len())]);
        for _ in 0..=rng.below(8) {
            mutate(&mut rng, &mut input, &seeds);
        }
        input.truncate(MAX_LEN);
        outcome.executions += 1;
        if let Some(path) = try_one(dir, name, check, &input) {
            outcome.finding = Some(path);
            return outcome;
        }
    }
    outcome
}

/// Runs one input; on a failed check, saves it and says where.
fn try_one(dir: &Path, name: &str, check: fn(&[u8]), input: &[u8]) -> Option<PathBuf> {
    if catch_unwind(AssertUnwindSafe(|| check(input))).is_ok() {
        return None;
    }
    let folder = dir.join("artifacts").join(name);
    let path = folder.join(format!("crash-{:016x}", fnv1a(input)));
    let saved = std::fs::create_dir_all(&folder).and_then(|()| std::fs::write(&path, input));
    if let Err(e) = saved {
        eprintln!("cannot save the failing input to {}: {e}", path.display());
    }
    Some(path)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One random edit: byte changes, insertions, deletions, copies, tokens, or a splice.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    let len = input.len();
    let at = rng.below(len + 1);
    match rng.below(8) {
        0 if len > 0 => {
            let i = rng.below(len);
            input[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            input[i] = rng.next().to_le_bytes()[0];
        }
        2 => input.insert(at, rng.next().to_le_bytes()[0]),
        3 if len > 0 => {
            let end = (at + 1 + rng.below(16)).min(len);
            input.drain(at.min(end)..end);
        }
        4 if len > 0 => {
            // Repeat a slice: long lines, many recipients, deep nesting.
            let start = rng.below(len);
            let end = (start + 1 + rng.below(64)).min(len);
            let piece = input[start..end].to_vec();
            for _ in 0..=rng.below(32) {
                input.splice(at..at, piece.iter().copied());
            }
        }
        5 => {
            let token = TOKENS[rng.below(TOKENS.len())];
            input.splice(at..at, token.iter().copied());
        }
        6 => {
            let other = &seeds[rng.below(seeds.len())];
            let from = rng.below(other.len() + 1);
            input.truncate(at);
            input.extend_from_slice(&other[from..]);
        }
        _ => {
            // An interesting number as text: limits and their neighbours.
            let n = [
                0_i64,
                1,
                -1,
                255,
                256,
                65_535,
                65_536,
                i64::from(u32::MAX),
                i64::MAX,
            ][rng.below(9)];
            input.splice(at..at, n.to_string().into_bytes());
        }
    }
}
