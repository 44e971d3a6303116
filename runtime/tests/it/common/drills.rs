//! Helpers of the fault drills (`drills_*.rs`, which include this file with `#[path]`): a
//! concurrent LMTP load generator (Python's smtplib.LMTP, one thread per sender, one
//! connection each) whose every 250 is reported as it arrives, and readers of what the node
//! stored and of its resident memory.
#![allow(dead_code)] // Each drill uses part of it.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::common::node::{Node, Server, Session};

/// The recipient of every drill mail; the drills create this user.
pub const RCPT: &str = "alice@caliopen.local";
pub const USER: &str = "alice";
pub const PASSWORD: &str = "correct horse battery";

/// The load generator. One line per outcome on stdout: `ACK <id>` after a 250,
/// `REFUSED <id> <code>` after a 4xx/5xx reply, `ERR <id> <error>` when the connection
/// fails (then the sender stops, or reconnects after a pause with `retry`).
const LOADER: &str = r#"
import smtplib, sys, threading, time
port, threads, per, rate, prefix, mode = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6]
lock = threading.Lock()
stop = threading.Event()
def out(line):
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
def worker(t):
    interval = threads / rate if rate > 0 else 0.0
    due = time.monotonic()
    lmtp, i = None, 0
    while (per == 0 or i < per) and not stop.is_set():
        mid = f"{prefix}-{t}-{i}@drill.test"
        data = (f"From: sender@example.org\r\nTo: alice@caliopen.local\r\nSubject: drill {t} {i}\r\n"
                f"Message-ID: <{mid}>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\n"
                f"Drill mail {i} of sender {t}.\r\n" + "Some text to make it a mail.\r\n" * 20).encode()
        try:
            if lmtp is None:
                lmtp = smtplib.LMTP("127.0.0.1", port)
            lmtp.sendmail("sender@example.org", ["alice@caliopen.local"], data)
            out(f"ACK {mid}")
        except smtplib.SMTPRecipientsRefused as e:
            out(f"REFUSED {mid} {list(e.recipients.values())[0][0]}")
        except smtplib.SMTPResponseException as e:
            out(f"REFUSED {mid} {e.smtp_code}")
        except (OSError, smtplib.SMTPException) as e:
            out(f"ERR {mid} {e!r}")
            lmtp = None
            if mode != "retry":
                return
            time.sleep(0.2)
        i += 1
        if interval:
            due += interval
            time.sleep(max(0.0, due - time.monotonic()))
    if lmtp is not None:
        try:
            lmtp.quit()
        except Exception:
            pass
workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
for w in workers:
    w.start()
if per == 0:
    sys.stdin.read()  # unbounded senders run until stdin closes
    stop.set()
for w in workers:
    w.join()
"#;

/// What a sender got for one mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Acked(String),
    Refused(String, u16),
    Failed(String, String),
}

/// What to do when a connection fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// The sender stops (the server is gone for good).
    Stop,
    /// The sender reconnects after a pause.
    Retry,
}

/// A running load generator.
pub struct Loader {
    child: Child,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
    reader: Option<JoinHandle<()>>,
}

impl Loader {
    /// Starts `threads` senders, each sending `per_thread` mails (0: until stopped), at
    /// `rate` mails per second in all (0: as fast as the server answers).
    pub fn start(
        lmtp_port: u16,
        threads: u32,
        per_thread: u32,
        rate: f64,
        prefix: &str,
        on_error: OnError,
    ) -> Self {
        let mode = match on_error {
            OnError::Stop => "stop",
            OnError::Retry => "retry",
        };
        let mut child = Command::new("python3")
            .args(["-c", LOADER])
            .args([
                lmtp_port.to_string(),
                threads.to_string(),
                per_thread.to_string(),
                rate.to_string(),
                prefix.to_owned(),
                mode.to_owned(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 is needed for the LMTP load generator");
        let stdout = child.stdout.take().expect("piped stdout");
        let outcomes = Arc::new(Mutex::new(Vec::new()));
        let sink = outcomes.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let mut parts = line.splitn(3, ' ');
                let (kind, id, rest) = (
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default().to_owned(),
                    parts.next().unwrap_or_default().to_owned(),
                );
                let outcome = match kind {
                    "ACK" => Outcome::Acked(id),
                    "REFUSED" => Outcome::Refused(id, rest.parse().unwrap_or(0)),
                    _ => Outcome::Failed(id, rest),
                };
                sink.lock().expect("outcomes").push(outcome);
            }
        });
        Self {
            child,
            outcomes,
            reader: Some(reader),
        }
    }

    /// Every outcome so far.
    pub fn outcomes(&self) -> Vec<Outcome> {
        self.outcomes.lock().expect("outcomes").clone()
    }

    /// How many mails got a 250 so far.
    pub fn acked(&self) -> usize {
        self.outcomes()
            .iter()
            .filter(|o| matches!(o, Outcome::Acked(_)))
            .count()
    }

    /// Waits, bounded, until `count` mails got a 250.
    pub fn wait_acked(&self, count: usize, timeout: Duration, log: impl Fn() -> String) {
        let start = Instant::now();
        while self.acked() < count {
            assert!(
                start.elapsed() < timeout,
                "{} of {count} mails acknowledged after {timeout:?}: {:?}\nserver log:\n{}",
                self.acked(),
                self.outcomes().last(),
                log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops unbounded senders (each ends its current mail), or waits for bounded ones to
    /// send all theirs, and returns every outcome.
    pub fn finish(mut self) -> Vec<Outcome> {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.child.try_wait().expect("poll the loader").is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the loader's reader");
        }
        self.outcomes()
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The ids of the acknowledged mails.
pub fn acked_ids(outcomes: &[Outcome]) -> Vec<String> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Acked(id) => Some(id.clone()),
            _ => None,
        })
        .collect()
}

/// A node with the components and the drills' user.
pub fn node_with_user() -> Node {
    let node = Node::new();
    node.cli(&["user", "add", USER, "--password-stdin"], Some(PASSWORD))
        .expect("user add");
    node
}

/// Waits until the node has processed and indexed everything it accepted.
pub fn wait_settled(server: &Server<'_>, timeout: Duration) {
    let start = Instant::now();
    loop {
        let metrics = server.metrics();
        let zero = |name: &str| metrics.lines().any(|l| l == format!("{name} 0"));
        if zero("caliopen_deliveries_pending") && zero("caliopen_index_backlog") {
            return;
        }
        assert!(
            start.elapsed() < timeout,
            "the node has not settled after {timeout:?}:\n{metrics}\nserver log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// How many stored messages carry each Message-ID (read through the REST API).
pub fn stored_message_ids(server: &Server<'_>, session: &Session) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    let mut offset = 0;
    loop {
        let (code, page) = server.get(
            session,
            &format!("/api/v2/messages?limit=1000&offset={offset}"),
        );
        assert_eq!(code, 200, "{page}");
        let messages = page["messages"].as_array().cloned().unwrap_or_default();
        for m in &messages {
            let id = m["external_references"]["message_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            *counts.entry(id).or_insert(0) += 1;
        }
        offset += messages.len();
        if messages.is_empty() || offset as u64 >= page["total"].as_u64().unwrap_or(0) {
            return counts;
        }
    }
}

/// Checks that every acknowledged mail is stored exactly once, and no mail twice.
pub fn assert_stored_once(acked: &[String], stored: &HashMap<String, usize>) {
    let missing: Vec<&String> = acked
        .iter()
        .filter(|id| !stored.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged mails are lost, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
    let twice: Vec<(&String, &usize)> = stored.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "mails stored more than once: {twice:?}");
}

/// The pid of the `caliopen serve` of `node` (its configuration path is unique).
pub fn server_pid(node: &Node) -> u32 {
    let out = Command::new("pgrep")
        .args(["-f", &format!("{} serve", node.config.display())])
        .output()
        .expect("pgrep (procps) is needed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .expect("the server's pid")
}

/// Resident memory of a process, in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// A small file system mounted for one test (tmpfs, or a loop-mounted ext4 image), so that
/// it can fill up or turn read-only; unmounted when dropped.
pub struct SmallDisk {
    pub path: std::path::PathBuf,
    image: Option<tempfile::NamedTempFile>,
}

impl SmallDisk {
    /// Mounts `size_mib` MiB at `path` (created), or says why it cannot.
    pub fn mount(path: &std::path::Path, size_mib: u32) -> Result<Self, String> {
        std::fs::create_dir_all(path).map_err(|e| e.to_string())?;
        let run = |cmd: &mut Command| -> Result<(), String> {
            let out = cmd.output().map_err(|e| e.to_string())?;
            if out.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
            }
        };
        let tmpfs = run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(path));
        let tmpfs_error = match tmpfs {
            Ok(()) => {
                return Ok(Self {
                    path: path.to_owned(),
                    image: None,
                });
            }
            Err(e) => e,
        };
        let image = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
        let loop_ext4 = run(Command::new("truncate")
            .args(["-s", &format!("{size_mib}M")])
            .arg(image.path()))
        .and_then(|()| {
            run(Command::new("mkfs.ext4")
                .args(["-q", "-F"])
                .arg(image.path()))
        })
        .and_then(|()| {
            run(Command::new("mount")
                .args(["-o", "loop"])
                .arg(image.path())
                .arg(path))
        });
        match loop_ext4 {
            Ok(()) => Ok(Self {
                path: path.to_owned(),
                image: Some(image),
            }),
            Err(e) => Err(format!(
                "cannot mount a small file system (tmpfs: {tmpfs_error}; loop ext4: {e}); \
                 run as root with CAP_SYS_ADMIN"
            )),
        }
    }

    /// Remounts read-only (`true`) or read-write.
    pub fn set_read_only(&self, read_only: bool) {
        let option = if read_only {
            "remount,ro"
        } else {
            "remount,rw"
        };
        let status = Command::new("mount")
            .args(["-o", option])
            .arg(&self.path)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount -o {option} failed");
    }

    /// Fills the file system with a ballast file until it is full.
    pub fn fill(&self) -> std::path::PathBuf {
        use std::io::Write as _;
        let ballast = self.path.join("ballast");
        let mut file = std::fs::File::create(&ballast).expect("create the ballast");
        let chunk = vec![0xa5_u8; 256 * 1024];
        while file.write_all(&chunk).is_ok() {}
        // The last bytes, up to the block.
        while file.write_all(&chunk[..512]).is_ok() {}
        let _ = file.sync_all();
        ballast
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: a killed server's files may still be closing.
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        drop(self.image.take());
    }
}
