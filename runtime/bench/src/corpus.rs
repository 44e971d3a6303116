//! The real mail the load is made of: every `.eml` under `corpus/rspamd` and every file
//! under `corpus/caliopen/mbox`, in path order, cycled.
//!
//! Each message is prepared once for the wire: line ends made CRLF, its `Message-ID`
//! header removed (the load generator writes a unique one per send, so that a server
//! that folds duplicates still does the full work for every message), and dot-stuffed.
//! Messages with a line longer than RFC 5321's 998 octets are left out and counted: an
//! MTA would not relay them as they are.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// The longest text line of RFC 5321 §4.5.3.1.6, without its CRLF.
const MAX_LINE: usize = 998;

/// Messages ready to send.
#[derive(Debug, Default)]
pub struct Corpus {
    /// Header and body without Message-ID, CRLF, dot-stuffed, ending with CRLF.
    pub messages: Vec<Vec<u8>>,
    /// Every file as read (the long-line ones too), for the scenarios that do not
    /// send over LMTP.
    pub raw: Vec<Vec<u8>>,
    /// Bytes of the prepared messages.
    pub bytes: u64,
    /// Files left out for a line longer than 998 octets.
    pub long_lines: usize,
    /// The folders read, for the report.
    pub sources: Vec<String>,
}

impl Corpus {
    /// Reads the corpus under `dir` (`../shared/corpus`).
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        if !dir.is_dir() {
            bail!(
                "the corpus is missing: expected {} (see the project's README)",
                dir.display()
            );
        }
        let mut files = Vec::new();
        collect(
            &dir.join("rspamd"),
            &mut |p| p.extension().is_some_and(|e| e == "eml"),
            &mut files,
        )?;
        let rspamd = files.len();
        collect(&dir.join("caliopen/mbox"), &mut |_| true, &mut files)?;
        let mbox = files.len() - rspamd;
        let mut corpus = Corpus {
            sources: vec![
                format!("{rspamd} files of `corpus/rspamd/**/*.eml`"),
                format!("{mbox} files of `corpus/caliopen/mbox`"),
            ],
            ..Self::default()
        };
        for path in files {
            let raw =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            match prepare(&raw) {
                Some(wire) => {
                    corpus.bytes += wire.len() as u64;
                    corpus.messages.push(wire);
                }
                None => corpus.long_lines += 1,
            }
            corpus.raw.push(raw);
        }
        if corpus.messages.is_empty() {
            bail!("no message found in {}", dir.display());
        }
        Ok(corpus)
    }

    /// One line for the report.
    pub fn describe(&self) -> String {
        format!(
            "{} ({} messages sent, mean {} bytes; {} left out for lines over 998 octets)",
            self.sources.join(" + "),
            self.messages.len(),
            self.bytes / self.messages.len().max(1) as u64,
            self.long_lines
        )
    }
}

/// Files under `dir` that `keep` accepts, recursively, sorted.
fn collect(
    dir: &Path,
    keep: &mut dyn FnMut(&Path) -> bool,
    out: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, keep, out)?;
        } else if keep(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// The wire form of a raw message, or `None` if a line is too long.
fn prepare(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
    let mut in_headers = true;
    let mut skipping_message_id = false;
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let text = line
            .strip_suffix(b"\n")
            .map_or(line, |l| l.strip_suffix(b"\r").unwrap_or(l));
        if text.len() > MAX_LINE {
            return None;
        }
        if in_headers {
            if text.is_empty() {
                in_headers = false;
            } else if skipping_message_id && matches!(text[0], b' ' | b'\t') {
                continue;
            } else {
                skipping_message_id =
                    text.len() >= 11 && text[..11].eq_ignore_ascii_case(b"message-id:");
                if skipping_message_id {
                    continue;
                }
            }
        }
        if text.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(text);
        out.extend_from_slice(b"\r\n");
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_is_removed_with_its_continuation_and_lines_become_crlf() {
        let raw = b"From: a@example.org\nMessage-Id:\n <x@y>\nSubject: s\n\nbody\nMessage-ID: <kept@body>\n";
        let wire = prepare(raw).unwrap();
        assert_eq!(
            wire,
            b"From: a@example.org\r\nSubject: s\r\n\r\nbody\r\nMessage-ID: <kept@body>\r\n"
        );
    }

    #[test]
    fn lines_starting_with_a_dot_are_stuffed() {
        let wire = prepare(b"Subject: s\r\n\r\n.hidden\r\n..two\r\nlast").unwrap();
        assert_eq!(wire, b"Subject: s\r\n\r\n..hidden\r\n...two\r\nlast\r\n");
    }

    #[test]
    fn a_line_over_998_octets_leaves_the_message_out() {
        let mut raw = b"Subject: s\r\n\r\n".to_vec();
        raw.extend(std::iter::repeat_n(b'x', 998));
        assert!(prepare(&raw).is_some());
        raw.push(b'x');
        assert!(prepare(&raw).is_none());
    }
}
