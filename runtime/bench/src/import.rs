//! `caliopen-bench import`: an mbox of `--messages` corpus mails (cycled, each made
//! unique by an `X-Bench-Import` field) imported three ways on this machine, one
//! after the other, each into an empty store:
//!
//! - `caliopen import --user bench1 FILE` with the server stopped: the clock runs from
//!   the command's start (store opened, components compiled) to its end, once every
//!   mail is stored, processed and indexed; its peak RSS is the command's `VmHWM`.
//! - the same mails over LMTP (`caliopen-bench ingest`'s Caliopen run: 8 connections,
//!   up to stored and indexed).
//! - `doveadm import` of the same mbox into a maildir (Dovecot, the outside anchor).

use std::fmt::Write as _;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Args, FromArgMatches};

use crate::corpus::Corpus;
use crate::ingest::{self, IngestArgs, Target, caliopen, dovecot};
use crate::procs;
use crate::scenario::{Context, Scenario, Section};

/// The `import` scenario.
#[derive(Debug)]
pub struct Import;

/// Options of `caliopen-bench import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Mails in the mbox (corpus mails, cycled).
    #[arg(long, default_value_t = 20_000)]
    pub messages: u64,
    /// LMTP connections of the ingest run of the same mails.
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
    /// The `caliopen` binary [default: <repo>/target/release/caliopen].
    #[arg(long)]
    pub caliopen_bin: Option<PathBuf>,
    /// Do not run `cargo build --release` first.
    #[arg(long)]
    pub no_build: bool,
    /// Where the temporary data directories go [default: the system's temp dir].
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
}

/// One way of importing, measured.
struct Row {
    what: String,
    stored: u64,
    elapsed: Duration,
    peak_rss_mib: Option<f64>,
    check: String,
}

impl Scenario for Import {
    fn name(&self) -> &'static str {
        "import"
    }

    fn about(&self) -> &'static str {
        "`caliopen import` of an mbox against LMTP ingest of the same mails and `doveadm import`"
    }

    fn args(&self, command: clap::Command) -> clap::Command {
        ImportArgs::augment_args(command)
    }

    fn run(&self, matches: &clap::ArgMatches, ctx: &Context) -> anyhow::Result<Section> {
        let args = ImportArgs::from_arg_matches(matches)?;
        let corpus = Arc::new(Corpus::load(&ctx.corpus_dir())?);
        let bin = args
            .caliopen_bin
            .clone()
            .unwrap_or_else(|| ctx.root.join("target/release/caliopen"));
        if !args.no_build {
            caliopen::build(&ctx.root)?;
        }
        let work = |name: &str| match &args.work_dir {
            Some(dir) => tempfile::Builder::new().prefix(name).tempdir_in(dir),
            None => tempfile::Builder::new().prefix(name).tempdir(),
        };
        let src = work("caliopen-bench-import-src-")?;
        let mbox = src.path().join("bench.mbox");
        let bytes = write_mbox(&corpus, args.messages, &mbox)?;
        let users = vec!["bench1".to_owned()];
        let config = ctx.root.join("configs/caliopen.toml");

        let mut rows = Vec::new();
        eprintln!("caliopen-bench: caliopen import of {} mails", args.messages);
        let dir = work("caliopen-bench-import-")?;
        rows.push(run_import(&bin, &config, dir.path(), &mbox, args.messages)?);

        eprintln!("caliopen-bench: the same mails over LMTP");
        let dir = work("caliopen-bench-import-lmtp-")?;
        let ingest_args = IngestArgs {
            connections: vec![args.connections],
            messages: args.messages,
            mailboxes: 1,
            recipients: 1,
            servers: vec![Target::Caliopen],
            caliopen_bin: Some(bin.clone()),
            config: Some(config.clone()),
            no_build: true,
            work_dir: None,
            keep: false,
            accept_only: false,
            drain_timeout: 3600,
            reply_timeout: 120,
        };
        let run = ingest::Run {
            args: &ingest_args,
            connections: args.connections,
            users: &users,
            corpus: corpus.clone(),
            dir: dir.path(),
        };
        let lmtp = ingest::run_caliopen(&run, ctx, &bin)?;
        rows.push(Row {
            what: format!("Caliopen, LMTP ingest, {} connections", args.connections),
            stored: lmtp.load.deliveries_accepted,
            elapsed: lmtp.indexed_after.unwrap_or(lmtp.stored_after),
            peak_rss_mib: lmtp.peak_rss_mib,
            check: lmtp.stored_check,
        });

        eprintln!("caliopen-bench: doveadm import into a maildir");
        dovecot::ensure_installed()?;
        let dir = work("caliopen-bench-import-dovecot-")?;
        let server = dovecot::Dovecot::start(dir.path(), &users)?;
        let (elapsed, peak) = server.import_mbox("bench1", &mbox)?;
        let files = server.stored_files()?;
        let mut server = server;
        server.server.stop(Duration::from_secs(60));
        rows.push(Row {
            what: "Dovecot, `doveadm import` into a maildir".into(),
            stored: files,
            elapsed,
            peak_rss_mib: peak,
            check: format!("{files} mail files in the maildir"),
        });

        Ok(Section {
            title: "Import of an mbox: Caliopen and Dovecot".into(),
            corpus: Some(format!(
                "{}, cycled into one mbox of {} mails ({:.0} MiB), each made unique by an `X-Bench-Import` field",
                corpus.sources.join(" + "),
                args.messages,
                bytes as f64 / (1024.0 * 1024.0)
            )),
            versions: vec![
                ("caliopen".into(), caliopen::version(&bin)),
                ("dovecot".into(), dovecot::version()),
            ],
            settings: vec![(
                "LMTP connections of the ingest row".into(),
                args.connections.to_string(),
            )],
            body: body(&rows, args.messages),
        })
    }
}

/// Writes an mbox of `n` corpus mails; answers its size.
fn write_mbox(corpus: &Corpus, n: u64, path: &Path) -> anyhow::Result<u64> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    let mut bytes = 0u64;
    for i in 0..n {
        let raw = &corpus.raw[usize::try_from(i)? % corpus.raw.len()];
        let mut mail =
            format!("From bench@example.org Thu Jan  1 00:00:00 2015\nX-Bench-Import: {i}\n")
                .into_bytes();
        for line in raw.split_inclusive(|&b| b == b'\n') {
            let quotes = line.iter().take_while(|&&b| b == b'>').count();
            if line[quotes..].starts_with(b"From ") {
                mail.push(b'>');
            }
            mail.extend_from_slice(line);
        }
        if !mail.ends_with(b"\n") {
            mail.push(b'\n');
        }
        mail.push(b'\n');
        bytes += mail.len() as u64;
        out.write_all(&mail)?;
    }
    out.flush()?;
    Ok(bytes)
}

/// `caliopen user add`, then `caliopen import` timed, its peak RSS sampled.
fn run_import(
    bin: &Path,
    config: &Path,
    dir: &Path,
    mbox: &Path,
    messages: u64,
) -> anyhow::Result<Row> {
    let ports = (
        procs::free_port()?,
        procs::free_port()?,
        procs::free_port()?,
    );
    caliopen::add_user(
        caliopen::command(
            bin,
            config,
            dir,
            ports,
            &["user", "add", "bench1", "--password-stdin"],
        ),
        "bench1",
    )?;
    let mbox = mbox.to_string_lossy();
    let mut cmd = caliopen::command(
        bin,
        config,
        dir,
        ports,
        &[
            "import",
            "--user",
            "bench1",
            "--progress-every",
            "5000",
            &mbox,
        ],
    );
    let log = std::fs::File::create(dir.join("import.log"))?;
    cmd.stdout(Stdio::piped())
        .stderr(log)
        .env("RUST_LOG", "warn");
    let start = Instant::now();
    let mut child = cmd.spawn().context("cannot run caliopen import")?;
    let mut peak = None;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if let Some(p) = crate::sys::peak_rss_mib(child.id()) {
            peak = Some(p);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = start.elapsed();
    let mut report = String::new();
    if let Some(mut out) = child.stdout.take() {
        std::io::Read::read_to_string(&mut out, &mut report)?;
    }
    if !status.success() {
        bail!(
            "caliopen import failed ({status}):\n{report}\nsee {}",
            dir.join("import.log").display()
        );
    }
    let imported = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("imported:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let check = report
        .lines()
        .filter(|l| l.contains("refused:") || l.contains("quarantined:") || l.contains("time:"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ");
    if imported != messages {
        eprintln!("caliopen-bench: caliopen import stored {imported} of {messages}:\n{report}");
    }
    Ok(Row {
        what: "Caliopen, `caliopen import` (server stopped)".into(),
        stored: imported,
        elapsed,
        peak_rss_mib: peak,
        check,
    })
}

fn body(rows: &[Row], messages: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Each row starts from an empty store and ends when every mail is stored (and, for\n\
         Caliopen, processed by the components and indexed). `caliopen import` includes\n\
         opening the store and compiling the components at its start.\n"
    );
    let _ = writeln!(
        out,
        "| Path | Mails stored | Time (s) | Mails/s | Peak RSS (MiB) | Checked |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---|");
    for r in rows {
        let secs = r.elapsed.as_secs_f64().max(0.001);
        let _ = writeln!(
            out,
            "| {} | {} of {messages} | {:.1} | {:.0} | {} | {} |",
            r.what,
            r.stored,
            secs,
            r.stored as f64 / secs,
            r.peak_rss_mib
                .map_or_else(|| "-".into(), |m| format!("{m:.0}")),
            r.check
        );
    }
    out
}
