//! Reading mailbox exports for `caliopen import`: an mbox file (mboxrd or mboxo,
//! gzip-compressed or not), a maildir (with Maildir++ subfolders) or a folder of
//! `.eml` files, turned into one [`Entry`] per message found, in memory bounded by
//! the largest message taken (the LMTP listener's `max_message_size`).
//!
//! - [`mbox`]: the streamed mbox reader.
//! - [`source`]: what a path is, and walking it (maildir flags, folders, symlink loops).
//! - [`refused`]: where refused mail is kept for the operator.
//!
//! Nothing here stores anything: the CLI (`crate::cli`) hands each message to core,
//! directly or through the admin API.

pub mod mbox;
pub mod refused;
pub mod source;

use std::fmt;
use std::path::PathBuf;

use caliopen_core::delivery::ImportedMail;

/// Where a message is in its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// In an mbox: the byte offset of its `From ` line (in the uncompressed bytes of
    /// a gzip-compressed one).
    Mbox {
        path: PathBuf,
        offset: u64,
        gzip: bool,
    },
    /// A file of its own (maildir, folder of `.eml` files).
    File(PathBuf),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mbox {
                path,
                offset,
                gzip: false,
            } => write!(f, "{} at byte {offset}", path.display()),
            Self::Mbox { path, offset, .. } => {
                write!(f, "{} at byte {offset} (uncompressed)", path.display())
            }
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A message read from a source.
#[derive(Debug)]
pub struct Found {
    pub position: Position,
    pub raw: Vec<u8>,
    /// The mbox `From ` line's sender; empty otherwise.
    pub envelope_from: String,
    pub flags: ImportedMail,
}

/// A message (or a part of a source) that is not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub position: Position,
    /// Its size in the source, when known (for keeping a copy).
    pub size: Option<u64>,
    pub reason: String,
}

/// What reading a source gives, one at a time.
#[derive(Debug)]
pub enum Entry {
    Mail(Found),
    Refused(Refusal),
    /// Something the operator should know that refuses nothing (an mbox cut short).
    Note(String),
}
