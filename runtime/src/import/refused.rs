//! Where `caliopen import` keeps what it refused, for the operator: a folder
//! `<data_dir>/import-refused/<UTC time of the import>/` (beside the store, whose
//! quarantine holds the mail that was accepted and could not be processed) with
//! one `.eml` file per refused mbox message, copied from its source in bounded
//! memory, and `refused.tsv` listing every refusal: position, reason, copy. A
//! refused file of a maildir or folder stays where it is and is listed only.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::{Position, Refusal};

/// The refusals of one import.
#[derive(Debug)]
pub struct RefusedDir {
    dir: PathBuf,
    list: Option<BufWriter<File>>,
    count: u64,
}

impl RefusedDir {
    /// The folder of an import started now, under `data_dir` (created at the first refusal).
    pub fn new(data_dir: &Path) -> Self {
        let stamp = format!(
            "{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
            std::process::id()
        );
        Self {
            dir: data_dir.join("import-refused").join(&stamp),
            list: None,
            count: 0,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How many refusals were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Records a refusal, keeping a copy of an mbox message (of a known size) read
    /// again from its source. Answers where the copy is.
    pub fn record(&mut self, refusal: &Refusal) -> io::Result<Option<PathBuf>> {
        if self.list.is_none() {
            fs::create_dir_all(&self.dir)?;
            let mut list = BufWriter::new(File::create(self.dir.join("refused.tsv"))?);
            writeln!(list, "position\treason\tcopy")?;
            self.list = Some(list);
        }
        self.count += 1;
        let copy = match (&refusal.position, refusal.size) {
            (position @ Position::Mbox { path, offset, gzip }, Some(size)) if size > 0 => {
                let to = self.copy_path(position);
                match copy_range(path, *gzip, *offset, size, &to) {
                    Ok(()) => Some(to),
                    Err(e) => {
                        tracing::warn!(error = %e, from = %position, "cannot keep a copy of a refused message");
                        let _ = fs::remove_file(&to);
                        None
                    }
                }
            }
            _ => None,
        };
        if let Some(list) = &mut self.list {
            writeln!(
                list,
                "{}\t{}\t{}",
                refusal.position,
                refusal.reason.replace(['\t', '\n'], " "),
                copy.as_deref()
                    .map_or_else(|| "left in place".into(), |p| p.display().to_string())
            )?;
            list.flush()?;
        }
        Ok(copy)
    }

    fn copy_path(&self, position: &Position) -> PathBuf {
        let (path, offset) = match position {
            Position::Mbox { path, offset, .. } => (path, Some(*offset)),
            Position::File(path) => (path, None),
        };
        let name: String = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(80)
            .collect();
        let at = offset.map_or_else(String::new, |o| format!("-at-{o}"));
        self.dir.join(format!("{:06}-{name}{at}.eml", self.count))
    }
}

/// Copies `len` bytes from `offset` of `path` (uncompressed, for a gzip file) to `to`.
fn copy_range(path: &Path, gzip: bool, offset: u64, len: u64, to: &Path) -> io::Result<()> {
    let mut file = File::open(path)?;
    let mut out = BufWriter::new(File::create(to)?);
    if gzip {
        let mut inner = MultiGzDecoder::new(io::BufReader::new(file));
        io::copy(&mut (&mut inner).take(offset), &mut io::sink())?;
        io::copy(&mut inner.take(len), &mut out)?;
    } else {
        file.seek(SeekFrom::Start(offset))?;
        io::copy(&mut file.take(len), &mut out)?;
    }
    out.flush()
}
