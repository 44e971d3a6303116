//! What a path given to `caliopen import` is, and reading it: a file is an mbox
//! (plain, or gzip-compressed: told by its magic bytes, not its name) or a single
//! mail; a folder with `cur/` or `new/` is a maildir (its Maildir++ subfolders
//! `.Name/` too); any other folder is walked for mail files, mbox files and
//! maildirs. Folders are walked once each (a symbolic link back up is not followed
//! again), hidden files are left alone.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use caliopen_core::delivery::ImportedMail;
use flate2::read::MultiGzDecoder;

use super::mbox::{MboxEntry, MboxReader};
use super::{Entry, Found, Position, Refusal};

/// Deepest folder walked.
const MAX_DEPTH: usize = 32;
/// Read buffer of an mbox.
const BUFFER: usize = 256 * 1024;

/// Why a whole path could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}: no such file or directory")]
    Missing(PathBuf),
    #[error("{path}: {reason}")]
    NotMail { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The consumer stopped (it answered false).
    #[error("stopped")]
    Stopped,
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> SourceError + '_ {
    move |source| {
        if source.kind() == io::ErrorKind::NotFound {
            SourceError::Missing(path.to_owned())
        } else {
            SourceError::Io {
                path: path.to_owned(),
                source,
            }
        }
    }
}

/// Reads `path`, handing each entry to `emit` (which answers false to stop).
/// Messages over `max` bytes are refused with their position.
pub fn read(
    path: &Path,
    max: usize,
    emit: &mut dyn FnMut(Entry) -> bool,
) -> Result<(), SourceError> {
    let meta = fs::metadata(path).map_err(io_error(path))?;
    let mut walk = Walk {
        max,
        emit,
        seen: HashSet::new(),
    };
    if meta.is_dir() {
        walk.folder(path, 0)
    } else {
        walk.file(path, &meta, true)
    }
}

struct Walk<'a> {
    max: usize,
    emit: &'a mut dyn FnMut(Entry) -> bool,
    /// Folders walked, by (device, inode).
    seen: HashSet<(u64, u64)>,
}

impl Walk<'_> {
    fn emit(&mut self, entry: Entry) -> Result<(), SourceError> {
        if (self.emit)(entry) {
            Ok(())
        } else {
            Err(SourceError::Stopped)
        }
    }

    fn refuse(
        &mut self,
        position: Position,
        size: Option<u64>,
        reason: String,
    ) -> Result<(), SourceError> {
        self.emit(Entry::Refused(Refusal {
            position,
            size,
            reason,
        }))
    }

    /// A path inside a walked folder that cannot be read is refused, and the walk goes on.
    fn refuse_error(&mut self, e: SourceError) -> Result<(), SourceError> {
        match e {
            SourceError::Stopped => Err(e),
            SourceError::Missing(path) => {
                self.refuse(Position::File(path), None, "vanished while read".into())
            }
            SourceError::NotMail { path, reason } => {
                self.refuse(Position::File(path), None, reason)
            }
            SourceError::Io { path, source } => {
                self.refuse(Position::File(path), None, describe_io(&source))
            }
        }
    }

    fn first_visit(&mut self, meta: &fs::Metadata) -> bool {
        use std::os::unix::fs::MetadataExt as _;
        self.seen.insert((meta.dev(), meta.ino()))
    }

    fn folder(&mut self, dir: &Path, depth: usize) -> Result<(), SourceError> {
        let meta = fs::metadata(dir).map_err(io_error(dir))?;
        if !self.first_visit(&meta) {
            return Ok(());
        }
        if depth > MAX_DEPTH {
            return self.refuse(
                Position::File(dir.to_owned()),
                None,
                format!("folders nested deeper than {MAX_DEPTH}: not walked"),
            );
        }
        if dir.join("cur").is_dir() || dir.join("new").is_dir() {
            return self.maildir(dir, depth);
        }
        for (path, meta) in self.list(dir)? {
            match meta {
                Err(e) => self.refuse_error(e)?,
                Ok(m) if m.is_dir() => match self.folder(&path, depth + 1) {
                    Err(SourceError::Stopped) => return Err(SourceError::Stopped),
                    Err(e) => self.refuse_error(e)?,
                    Ok(()) => {}
                },
                Ok(m) => match self.file(&path, &m, false) {
                    Err(SourceError::Stopped) => return Err(SourceError::Stopped),
                    Err(e) => self.refuse_error(e)?,
                    Ok(()) => {}
                },
            }
        }
        Ok(())
    }

    /// The entries of `dir` not hidden, sorted, with their metadata (links followed).
    #[allow(clippy::type_complexity)]
    fn list(
        &mut self,
        dir: &Path,
    ) -> Result<Vec<(PathBuf, Result<fs::Metadata, SourceError>)>, SourceError> {
        let mut paths: Vec<PathBuf> = fs::read_dir(dir)
            .map_err(io_error(dir))?
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        paths.sort();
        Ok(paths
            .into_iter()
            .map(|p| {
                let m = fs::metadata(&p).map_err(io_error(&p));
                (p, m)
            })
            .collect())
    }

    fn maildir(&mut self, dir: &Path, depth: usize) -> Result<(), SourceError> {
        for sub in ["new", "cur"] {
            let folder = dir.join(sub);
            if !folder.is_dir() {
                continue;
            }
            for (path, meta) in self.list(&folder)? {
                match meta {
                    Err(e) => self.refuse_error(e)?,
                    Ok(m) if m.is_dir() => self.refuse(
                        Position::File(path),
                        None,
                        "a folder inside a maildir's cur/ or new/: not walked".into(),
                    )?,
                    Ok(m) => {
                        let flags = maildir_flags(&path);
                        match self.single(&path, &m, flags) {
                            Err(SourceError::Stopped) => return Err(SourceError::Stopped),
                            Err(e) => self.refuse_error(e)?,
                            Ok(()) => {}
                        }
                    }
                }
            }
        }
        // Maildir++: subfolders are hidden folders beside cur/ and new/.
        let mut subs: Vec<PathBuf> = fs::read_dir(dir)
            .map_err(io_error(dir))?
            .filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with('.') && name != "." && name != ".."
            })
            .map(|e| e.path())
            .filter(|p| p.join("cur").is_dir() || p.join("new").is_dir())
            .collect();
        subs.sort();
        for sub in subs {
            match self.folder(&sub, depth + 1) {
                Err(SourceError::Stopped) => return Err(SourceError::Stopped),
                Err(e) => self.refuse_error(e)?,
                Ok(()) => {}
            }
        }
        Ok(())
    }

    /// A file: an mbox (plain or gzip), or one mail. `top` is a path the operator
    /// named: anything else there is an error, not a refusal.
    fn file(&mut self, path: &Path, meta: &fs::Metadata, top: bool) -> Result<(), SourceError> {
        let file = File::open(path).map_err(io_error(path))?;
        let mut reader = BufReader::with_capacity(BUFFER, file);
        let head = fill(&mut reader, path)?;
        if head.starts_with(&[0x1f, 0x8b]) {
            let mut inner = BufReader::with_capacity(BUFFER, MultiGzDecoder::new(reader));
            let head = fill(&mut inner, path)?;
            if head.starts_with(b"From ") {
                return self.mbox(path, inner, true);
            }
            return Err(SourceError::NotMail {
                path: path.to_owned(),
                reason: "a gzip-compressed file that holds no mbox (no `From ` line at its start)"
                    .into(),
            });
        }
        if head.starts_with(b"From ") {
            return self.mbox(path, reader, false);
        }
        if looks_like_mail(head) {
            return self.single(path, meta, ImportedMail::default());
        }
        let what = if top {
            "neither an mbox (no `From ` line at its start), a gzip-compressed mbox, a \
             maildir nor a mail"
        } else {
            "not a mail (no header field at its start)"
        };
        Err(SourceError::NotMail {
            path: path.to_owned(),
            reason: what.into(),
        })
    }

    fn mbox(&mut self, path: &Path, reader: impl BufRead, gzip: bool) -> Result<(), SourceError> {
        let mut mbox = MboxReader::new(reader, self.max);
        let position = |offset| Position::Mbox {
            path: path.to_owned(),
            offset,
            gzip,
        };
        loop {
            let entry = match mbox.next_entry() {
                Ok(Some(entry)) => entry,
                Ok(None) => return Ok(()),
                Err(e) => {
                    // What was read is imported; the rest cannot be.
                    let reason = format!("reading stopped: {}", describe_io(&e));
                    return self.refuse(position(mbox.position()), None, reason);
                }
            };
            match entry {
                MboxEntry::Mail {
                    offset,
                    raw,
                    envelope_from,
                    flags,
                    truncated,
                } => {
                    if truncated {
                        self.emit(Entry::Note(format!(
                            "{}: the file ends inside a message, without a final newline: it may be cut short (imported as it is)",
                            position(offset)
                        )))?;
                    }
                    if raw.is_empty() {
                        self.refuse(position(offset), Some(0), "an empty message".into())?;
                        continue;
                    }
                    self.emit(Entry::Mail(Found {
                        position: position(offset),
                        raw,
                        envelope_from,
                        flags,
                    }))?;
                }
                MboxEntry::TooLarge { offset, size } => self.refuse(
                    position(offset),
                    Some(size),
                    format!("{size} bytes, over the size limit of {} bytes", self.max),
                )?,
                MboxEntry::Junk { offset, size } => self.refuse(
                    position(offset),
                    Some(size),
                    format!("{size} bytes before the first `From ` line: not a message"),
                )?,
            }
        }
    }

    /// A file holding one mail.
    fn single(
        &mut self,
        path: &Path,
        meta: &fs::Metadata,
        flags: ImportedMail,
    ) -> Result<(), SourceError> {
        let position = Position::File(path.to_owned());
        if meta.len() > self.max as u64 {
            return self.refuse(
                position,
                Some(meta.len()),
                format!(
                    "{} bytes, over the size limit of {} bytes",
                    meta.len(),
                    self.max
                ),
            );
        }
        let mut raw = Vec::new();
        File::open(path)
            .and_then(|f| f.take(self.max as u64 + 1).read_to_end(&mut raw))
            .map_err(io_error(path))?;
        if raw.len() > self.max {
            return self.refuse(position, None, "grew over the size limit while read".into());
        }
        if raw.is_empty() {
            return self.refuse(position, Some(0), "an empty file".into());
        }
        self.emit(Entry::Mail(Found {
            position,
            raw,
            envelope_from: String::new(),
            flags,
        }))
    }
}

/// The first bytes of `reader`, without consuming them.
fn fill<'r>(reader: &'r mut impl BufRead, path: &Path) -> Result<&'r [u8], SourceError> {
    reader.fill_buf().map_err(|source| SourceError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Whether `head` starts like a mail: a header field name and a colon.
fn looks_like_mail(head: &[u8]) -> bool {
    let name = head
        .iter()
        .take(998)
        .take_while(|&&b| b != b':')
        .collect::<Vec<_>>();
    !name.is_empty()
        && name.len() < head.len().min(998)
        && name.iter().all(|&&b| (33..=126).contains(&b))
}

/// A maildir file's flags, from the letters after `:2,` (or `!2,`, the
/// separator some tools use where `:` cannot be in a name): `S` seen, `R`
/// replied, `F` flagged; others (`T` trashed, `D` draft, `P` passed) are not kept.
pub fn maildir_flags(path: &Path) -> ImportedMail {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let letters = name
        .rsplit_once(":2,")
        .or_else(|| name.rsplit_once("!2,"))
        .map_or("", |(_, l)| l);
    ImportedMail {
        source_date: None,
        read: letters.contains('S'),
        answered: letters.contains('R'),
        flagged: letters.contains('F'),
    }
}

fn describe_io(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ELOOP) => "a loop of symbolic links".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maildir_names_give_flags() {
        let f = maildir_flags(Path::new("cur/1460463564.5266_317.host:2,FRS"));
        assert!(f.read && f.answered && f.flagged);
        let f = maildir_flags(Path::new("new/1460463564.5266_317.host"));
        assert_eq!(f, ImportedMail::default());
        assert!(maildir_flags(Path::new("cur/x!2,S")).read);
    }

    #[test]
    fn a_mail_starts_with_a_field() {
        assert!(looks_like_mail(b"Return-Path: <a@b>\r\n"));
        assert!(!looks_like_mail(b"\x7fELF\x02\x01\x01\0\0\0"));
        assert!(!looks_like_mail(b"hello world: yes"));
        assert!(!looks_like_mail(b""));
    }
}
