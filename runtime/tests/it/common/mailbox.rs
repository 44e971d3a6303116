//! Mailboxes built at test time for the import tests (mbox, maildir), the shared
//! corpus they are made from, and what a user has in a node's store once the node
//! is stopped.

use std::path::{Path, PathBuf};

use caliopen_core::Core;
use caliopen_core::model::Message;
use caliopen_core::model::discussion::ANY_LEVEL;
use caliopen_core::service::discussions::DiscussionView;
use caliopen_core::service::messages::MessageFilter;
use sha2::{Digest as _, Sha256};

use super::root;

/// The shared corpus: `CALIOPEN_CORPUS`, else `../shared/corpus` from the workspace
/// root. A test that needs it fails when it is absent; `cargo xtask test` lists it as
/// skipped then.
pub fn corpus_root() -> PathBuf {
    let root = std::env::var_os("CALIOPEN_CORPUS")
        .map_or_else(|| root().join("../shared/corpus"), PathBuf::from);
    assert!(
        root.is_dir(),
        "the shared corpus is absent at {}: set CALIOPEN_CORPUS to its folder",
        root.display()
    );
    root
}

/// Files under `dir` that `keep` accepts, recursively, in path order.
pub fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>, keep: &dyn Fn(&Path) -> bool) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out, keep);
            } else if keep(&p) {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files, keep);
    files.sort();
    files
}

/// An mbox (mboxrd) of `mails`, each after its `From ` line: lines starting with
/// `From ` (after any `>`) are quoted with one more `>`. Each mail must end with a
/// newline (else the file would change it).
pub fn mbox(mails: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (from_line, raw) in mails {
        assert!(
            raw.ends_with(b"\n"),
            "a mail of an mbox ends with a newline"
        );
        out.extend_from_slice(from_line.as_bytes());
        out.push(b'\n');
        for line in raw.split_inclusive(|&b| b == b'\n') {
            let quotes = line.iter().take_while(|&&b| b == b'>').count();
            if line[quotes..].starts_with(b"From ") {
                out.push(b'>');
            }
            out.extend_from_slice(line);
        }
        out.push(b'\n');
    }
    out
}

/// A mail built here: a subject, a date (none when `date` is empty), a body.
pub fn mail(n: usize, date: &str, body: &str) -> Vec<u8> {
    let date = if date.is_empty() {
        String::new()
    } else {
        format!("Date: {date}\n")
    };
    format!(
        "From: Sender {n} <sender{n}@example.org>\nTo: alice@caliopen.local\nSubject: mail {n}\n{date}Message-ID: <import-{n}@example.org>\n\n{body}\n"
    )
    .into_bytes()
}

/// The hex SHA-256 of `raw`: what a stored message's `raw_msg_id` is.
pub fn raw_id(raw: &[u8]) -> String {
    hex::encode(Sha256::digest(raw))
}

/// What a user has in a stopped node's store.
pub struct Stored {
    /// Newest first, as lists give them.
    pub messages: Vec<Message>,
    pub discussions: Vec<DiscussionView>,
}

/// Opens the store of the stopped node configured by `config` and reads `username`'s
/// messages and discussions.
pub async fn stored(config: &Path, username: &str) -> Stored {
    let config = caliopen_runtime::config::Config::load(config).unwrap();
    let storage = caliopen_runtime::server::open_storage(&config)
        .await
        .unwrap();
    let core = Core::new(storage.stores(), config.core.clone());
    let user = core.user_by_name(username).await.unwrap().unwrap();
    let filter = MessageFilter {
        limit: 100_000,
        ..MessageFilter::default()
    };
    let messages = core.list_messages(user.id, &filter).await.unwrap().1;
    let discussions = core
        .list_discussions(user.id, ANY_LEVEL, 100_000, 0)
        .await
        .unwrap()
        .1;
    drop(core);
    storage.close().await.unwrap();
    Stored {
        messages,
        discussions,
    }
}
