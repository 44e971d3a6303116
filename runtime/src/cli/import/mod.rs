//! `caliopen import --user NAME PATH...`: mbox files (gzip-compressed or not),
//! maildirs and folders of `.eml` files, read by [`crate::import`] and handed to
//! core one mail at a time: through the admin API when the server runs, else
//! through a node without listeners started here (`crate::node`), so imported mail
//! takes the delivery path and the components delivered mail takes. Running it again
//! (after a kill too) stores nothing twice: a mail is its raw bytes, and the user's
//! (user, raw mail) index answers "already present".

mod progress;
mod sink;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use sha2::{Digest as _, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::cli::Admin;
use crate::config::Config;
use crate::import::refused::RefusedDir;
use crate::import::source::{self, SourceError};
use crate::import::{Entry, Found, Position, Refusal};
use crate::node::Node;
use progress::{Counts, Progress};
use sink::{Failed, Sink, Stored};

/// Mails handed to the store at once (the store shares one fsync among them).
const IN_FLIGHT: usize = 8;
/// Refusals printed in the report (all are listed in the refused folder's `refused.tsv`).
const REFUSALS_SHOWN: usize = 20;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The user the mail is imported for.
    #[arg(long, short)]
    pub user: String,
    /// Return once the mail is stored durably, without waiting for it to be
    /// processed and indexed.
    #[arg(long)]
    pub no_wait: bool,
    /// Off a terminal, a progress line every this many messages.
    #[arg(long, default_value_t = progress::PLAIN_EVERY)]
    pub progress_every: u64,
    /// mbox files (plain or gzip), maildirs, folders of .eml files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// What became of one mail handed to the sink.
struct Done {
    position: Position,
    size: usize,
    result: Result<Stored, Failed>,
}

/// What the reading thread hands over.
enum Read {
    Entry(Entry),
    /// A path that could not be read at all.
    Failed(SourceError),
    /// A path that held nothing.
    Empty(PathBuf),
}

/// Runs an import on the running server, or on the store of a stopped one.
pub async fn run(args: ImportArgs, config: &Config) -> anyhow::Result<()> {
    match Admin::running(config) {
        Some(admin) => {
            let admin = admin.with_token(&crate::admin::admin_token(config)?);
            let sink = Sink::Remote {
                admin,
                agent: Admin::agent(),
                username: args.user.clone(),
            };
            import(&args, config, sink).await
        }
        None => {
            let node = Node::open(config).await?;
            let result = match node.core.import_recipient(&args.user).await {
                Ok(recipient) => {
                    let sink = Sink::Local {
                        core: node.core.clone(),
                        recipient,
                    };
                    import(&args, config, sink).await
                }
                Err(e) => Err(anyhow::anyhow!(e)).context(format!("user `{}`", args.user)),
            };
            node.close().await.context("closing the store")?;
            result
        }
    }
}

/// The import itself: reads the paths on a thread of their own, stores what they
/// give, waits for the pipeline, prints the report.
async fn import(args: &ImportArgs, config: &Config, sink: Sink) -> anyhow::Result<()> {
    let max = config.lmtp.max_message_size;
    let mut progress = Progress::new(estimate(&args.paths), args.progress_every.max(1));
    let (tx, mut rx) = mpsc::channel::<Read>(2);
    let paths = args.paths.clone();
    let reader = std::thread::spawn(move || read_all(&paths, max, &tx));

    let mut refused = RefusedDir::new(&config.data_dir);
    let mut report = Report::default();
    let mut tasks: JoinSet<Done> = JoinSet::new();
    // Bytes of the mail being stored: at most IN_FLIGHT mails, and no more than twice
    // the largest mail's size together (one large mail always goes).
    let mut in_flight = 0usize;
    let mut fatal = None;
    let mut accepted: HashSet<Uuid> = HashSet::new();
    // Digests of the mail read in this run (32 bytes a mail, not the mail).
    let mut seen: HashSet<[u8; 32]> = HashSet::new();
    let started = Instant::now();
    while let Some(read) = rx.recv().await {
        match read {
            Read::Entry(Entry::Mail(found)) => {
                let size = found.raw.len();
                // The same mail twice in the sources is stored once.
                if !seen.insert(<[u8; 32]>::from(Sha256::digest(&found.raw))) {
                    let done = Done {
                        position: found.position,
                        size,
                        result: Ok(Stored::Present),
                    };
                    report.outcome(done, &mut refused, &mut progress, &mut accepted)?;
                    continue;
                }
                while tasks.len() >= IN_FLIGHT || (!tasks.is_empty() && in_flight + size > 2 * max)
                {
                    let Some(done) = tasks.join_next().await else {
                        break;
                    };
                    let done = done?;
                    in_flight -= done.size;
                    if let Err(e) = report.outcome(done, &mut refused, &mut progress, &mut accepted)
                    {
                        fatal = Some(e);
                    }
                }
                if fatal.is_some() {
                    break;
                }
                in_flight += size;
                let sink = sink.clone();
                tasks.spawn(async move {
                    let Found {
                        position,
                        raw,
                        envelope_from,
                        flags,
                    } = found;
                    let result = sink.store(raw, &envelope_from, flags).await;
                    Done {
                        position,
                        size,
                        result,
                    }
                });
            }
            Read::Entry(Entry::Refused(refusal)) => {
                report.refuse(&refusal, &mut refused, &mut progress)?;
            }
            Read::Entry(Entry::Note(note)) => {
                progress.say(&note);
                report.notes.push(note);
            }
            Read::Failed(e) => {
                progress.say(&e.to_string());
                report.failed.push(e.to_string());
            }
            Read::Empty(path) => {
                let note = format!("{}: no message found", path.display());
                progress.say(&note);
                report.notes.push(note);
            }
        }
    }
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = report.outcome(done?, &mut refused, &mut progress, &mut accepted) {
            fatal.get_or_insert(e);
        }
    }
    drop(rx);
    let _ = reader.join();
    let stored_in = started.elapsed();

    let mut quarantined = 0;
    if fatal.is_none() && !args.no_wait && !accepted.is_empty() {
        wait_for_pipeline(&sink, &progress).await?;
        let ids = sink.quarantined().await?;
        quarantined = accepted.iter().filter(|id| ids.contains(id)).count();
    }
    progress.finish();
    report.print(
        args,
        &refused,
        quarantined,
        stored_in,
        started.elapsed(),
        !args.no_wait,
    );
    if let Some(e) = fatal {
        return Err(
            e.context("the import stopped; run it again to go on (what is stored stays, once)")
        );
    }
    if !report.failed.is_empty() {
        bail!("{} of the paths could not be read", report.failed.len());
    }
    Ok(())
}

/// Reads every path in turn (on its own thread: reading blocks).
fn read_all(paths: &[PathBuf], max: usize, tx: &mpsc::Sender<Read>) {
    for path in paths {
        let mut found = 0u64;
        let result = source::read(path, max, &mut |entry| {
            found += 1;
            tx.blocking_send(Read::Entry(entry)).is_ok()
        });
        let sent = match result {
            Err(SourceError::Stopped) => return,
            Err(e) => tx.blocking_send(Read::Failed(e)),
            Ok(()) if found == 0 => tx.blocking_send(Read::Empty(path.clone())),
            Ok(()) => Ok(()),
        };
        if sent.is_err() {
            return;
        }
    }
}

/// Waits until the deliveries are processed and the search index is up to date.
async fn wait_for_pipeline(sink: &Sink, progress: &Progress) -> anyhow::Result<()> {
    loop {
        let (pending, backlog) = sink.backlog().await?;
        if pending == 0 && backlog == 0 {
            return Ok(());
        }
        progress.waiting(pending, backlog);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The bytes of the sources, for the ETA; unknown with a gzip-compressed one.
fn estimate(paths: &[PathBuf]) -> Option<u64> {
    fn walk(path: &Path, depth: usize, seen: &mut HashSet<(u64, u64)>) -> Option<u64> {
        use std::io::Read as _;
        use std::os::unix::fs::MetadataExt as _;
        let meta = std::fs::metadata(path).ok()?;
        if meta.is_file() && depth > 0 {
            return Some(meta.len());
        }
        if meta.is_file() {
            // A named file may be a gzip-compressed mbox, whose size says little.
            let mut magic = [0u8; 2];
            let gzip = std::fs::File::open(path)
                .and_then(|mut f| f.read_exact(&mut magic))
                .is_ok()
                && magic == [0x1f, 0x8b];
            return (!gzip).then_some(meta.len());
        }
        if depth > 32 || !seen.insert((meta.dev(), meta.ino())) {
            return Some(0);
        }
        let mut total = 0;
        for e in std::fs::read_dir(path).ok()?.flatten() {
            total += walk(&e.path(), depth + 1, seen).unwrap_or(0);
        }
        Some(total)
    }
    let mut seen = HashSet::new();
    paths.iter().map(|p| walk(p, 0, &mut seen)).sum()
}

/// What the report says.
#[derive(Debug, Default)]
struct Report {
    counts: Counts,
    refusals: Vec<String>,
    failed: Vec<String>,
    notes: Vec<String>,
}

impl Report {
    /// Records what became of one mail; a fatal failure is answered.
    fn outcome(
        &mut self,
        done: Done,
        refused: &mut RefusedDir,
        progress: &mut Progress,
        accepted: &mut HashSet<Uuid>,
    ) -> Result<(), anyhow::Error> {
        match done.result {
            Ok(Stored::Imported(id)) => {
                self.counts.read += 1;
                self.counts.imported += 1;
                accepted.insert(id);
            }
            Ok(Stored::Present) => {
                self.counts.read += 1;
                self.counts.present += 1;
            }
            Err(Failed::Refused(reason)) => {
                // Left in its source (its position says where).
                let refusal = Refusal {
                    position: done.position,
                    size: None,
                    reason,
                };
                self.refuse(&refusal, refused, progress)?;
                return Ok(());
            }
            Err(Failed::Fatal(e)) => return Err(e),
        }
        progress.advance(&self.counts, done.size as u64);
        Ok(())
    }

    fn refuse(
        &mut self,
        refusal: &Refusal,
        refused: &mut RefusedDir,
        progress: &mut Progress,
    ) -> anyhow::Result<()> {
        self.counts.read += 1;
        self.counts.refused += 1;
        let copy = refused
            .record(refusal)
            .with_context(|| format!("cannot write in {}", refused.dir().display()))?;
        let line = format!(
            "refused: {}: {}{}",
            refusal.position,
            refusal.reason,
            copy.map_or_else(String::new, |c| format!(" (kept as {})", c.display()))
        );
        if self.refusals.len() < REFUSALS_SHOWN {
            self.refusals.push(line.clone());
        }
        progress.say(&line);
        progress.advance(&self.counts, refusal.size.unwrap_or(0));
        Ok(())
    }

    #[allow(clippy::print_stdout)]
    fn print(
        &self,
        args: &ImportArgs,
        refused: &RefusedDir,
        quarantined: usize,
        stored_in: Duration,
        total: Duration,
        waited: bool,
    ) {
        let c = &self.counts;
        println!("import for {}:", args.user);
        println!("  messages read:    {}", c.read);
        println!(
            "  imported:         {}{}",
            c.imported,
            if waited {
                " (processed and indexed)"
            } else {
                " (stored; processing goes on in the server)"
            }
        );
        println!("  already present:  {}", c.present);
        println!("  refused:          {}", c.refused);
        if c.refused > 0 {
            println!(
                "  refused mail and their list (refused.tsv) are in {}",
                refused.dir().display()
            );
            for r in &self.refusals {
                println!("    {r}");
            }
            if c.refused as usize > self.refusals.len() {
                println!(
                    "    ... and {} more in refused.tsv",
                    c.refused as usize - self.refusals.len()
                );
            }
        }
        if quarantined > 0 {
            println!(
                "  quarantined:      {quarantined} (accepted, could not be processed: `caliopen quarantine list`)"
            );
        }
        for n in &self.notes {
            println!("  note: {n}");
        }
        for f in &self.failed {
            println!("  not read: {f}");
        }
        let secs = total.as_secs_f64().max(0.001);
        println!(
            "  time:             {:.1} s ({:.1} s to store, {:.0} messages/s overall)",
            secs,
            stored_in.as_secs_f64(),
            (c.imported + c.present) as f64 / secs
        );
    }
}
