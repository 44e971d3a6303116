//! The network edges of a real `caliopen serve` under hostile load, written as the attacks:
//! sixteen 40 MB mails sent at once over LMTP (the server's resident memory must stay well
//! below their sum, and every one is stored whole), and a flood of half-sent HTTP requests against
//! a server held to 1024 file descriptors (it must keep descriptors for LMTP, still take mail,
//! and still answer). Clients: Python's smtplib, curl; the flood is raw sockets.

use crate::common;
use crate::common::drills;

use std::io::Write as _;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use caliopen_core::Core;
use caliopen_runtime::config::Config;
use common::node::{Node, Server};
use drills::{PASSWORD, RCPT, USER, rss_kib, server_pid};
use sha2::{Digest, Sha256};

/// Enough big mails at once that memory which grew with them could not pass for a bound.
const MAILS: usize = 16;
const MAIL_BYTES: usize = 40 << 20;
/// Half-sent HTTP requests held open at once, more than the 1024 descriptors the server
/// is held to.
const FLOOD: usize = 1100;

/// Sends each file of `mails` over its own LMTP connection, all at once, with smtplib;
/// the reply code for each, in order.
fn send_concurrently(lmtp_port: u16, mails: &[std::path::PathBuf]) -> Vec<u16> {
    let script = r#"
import json, smtplib, sys, threading
port, rcpt, paths = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
codes = [None] * len(paths)
def send(i):
    try:
        with open(paths[i], "rb") as f:
            data = f.read()
        lmtp = smtplib.LMTP("127.0.0.1", port, timeout=300)
        refused = lmtp.sendmail("sender@example.org", [rcpt], data)
        codes[i] = refused[rcpt][0] if refused else 250
        lmtp.quit()
    except smtplib.SMTPRecipientsRefused as e:
        codes[i] = e.recipients[rcpt][0]
    except smtplib.SMTPResponseException as e:
        codes[i] = e.smtp_code
    except Exception as e:
        sys.stderr.write(f"{paths[i]}: {e!r}\n")
        codes[i] = 0
threads = [threading.Thread(target=send, args=(i,)) for i in range(len(paths))]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(codes))
"#;
    let out = Command::new("python3")
        .args(["-c", script, &lmtp_port.to_string(), RCPT])
        .args(mails)
        .output()
        .expect("python3 is needed for the LMTP client");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the codes")
}

/// One big mail: a text part of base64-like lines, different for each `n`.
fn big_mail(n: usize) -> Vec<u8> {
    let mut mail = format!(
        "From: sender@example.org\r\nTo: {RCPT}\r\nSubject: big {n}\r\n\
         Message-ID: <big-{n}@example.org>\r\n\r\n"
    )
    .into_bytes();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state = 0x9e37_79b9_u32.wrapping_mul(n as u32 + 1);
    while mail.len() < MAIL_BYTES {
        for _ in 0..76 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            mail.push(alphabet[(state % 64) as usize]);
        }
        mail.extend_from_slice(b"\r\n");
    }
    mail
}

/// A `/proc/<pid>/status` field in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in {status}"))
}

/// The SHA-256 of every raw mail waiting for delivery in the node's store (server stopped).
fn stored_mail_digests(node: &Node) -> Vec<[u8; 32]> {
    let config = Config::load(&node.config).expect("the node's configuration");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let storage = caliopen_runtime::server::open_storage(&config)
            .await
            .expect("open the store");
        let stores = storage.stores();
        let core = Core::new(stores.clone(), config.core.clone());
        let mut digests = Vec::new();
        for delivery in core.pending_deliveries().await.expect("the deliveries") {
            let raw = stores.blobs.get(&delivery.raw.0).await.unwrap().unwrap();
            digests.push(Sha256::digest(&raw).into());
        }
        drop((core, stores));
        storage.close().await.expect("close the store");
        digests
    })
}

/// A node without components whose one delivery worker tries each mail once in the test's
/// time (there is no parser to process it): what is measured is the inbound path.
fn node_for_inbound() -> Node {
    let node = Node::without_components();
    let config = std::fs::read_to_string(&node.config).expect("the configuration");
    let config = config.replace("retry_base = 100\n", "retry_base = 3600000\nworkers = 1\n");
    std::fs::write(&node.config, config).expect("write the configuration");
    node
}

#[test]
fn sixteen_concurrent_big_mails_are_stored_whole_with_bounded_memory() {
    let node = node_for_inbound();
    node.cli(&["user", "add", USER, "--password-stdin"], Some(PASSWORD))
        .expect("user add");
    let mut expected = Vec::new();
    let mut files = Vec::new();
    for n in 0..MAILS {
        let mail = big_mail(n);
        expected.push(<[u8; 32]>::from(Sha256::digest(&mail)));
        let path = node.dir.path().join(format!("big-{n}.eml"));
        std::fs::write(&path, &mail).expect("write a mail");
        files.push(path);
    }
    let server = node.serve();
    let pid = server_pid(&node);
    let idle_kib = rss_kib(pid);
    let sending = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sending = Arc::clone(&sending);
        std::thread::spawn(move || {
            let mut peak = 0;
            while sending.load(Ordering::SeqCst) {
                peak = peak.max(rss_kib(pid));
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        })
    };
    let codes = send_concurrently(node.lmtp, &files);
    sending.store(false, Ordering::SeqCst);
    let sampled_kib = sampler.join().expect("the sampler");
    let peak_kib = status_kib(pid, "VmHWM:");
    let sum_kib = (MAILS * MAIL_BYTES / 1024) as u64;
    eprintln!(
        "{MAILS} mails of {} MiB: RSS idle {} MiB, sampled peak {} MiB, VmHWM {} MiB",
        MAIL_BYTES >> 20,
        idle_kib / 1024,
        sampled_kib / 1024,
        peak_kib / 1024
    );
    assert_eq!(codes, [250; MAILS], "server log:\n{}", server.log());
    assert!(
        peak_kib < sum_kib / 2,
        "peak RSS {} MiB for {} MiB of mail in flight",
        peak_kib / 1024,
        sum_kib / 1024
    );
    server.kill();
    let mut stored = stored_mail_digests(&node);
    stored.sort_unstable();
    expected.sort_unstable();
    assert_eq!(stored, expected, "every mail stored as sent");
}

/// Opens half-sent requests to `port` until `flooding` turns false, keeping `count` open
/// (the server's closes are replaced) and `holding` up to date; returns how many
/// connections it opened in all.
fn flood(port: u16, count: usize, flooding: &AtomicBool, holding: &AtomicUsize) -> usize {
    let mut open: Vec<TcpStream> = Vec::new();
    let mut opened = 0;
    while flooding.load(Ordering::SeqCst) {
        // Drop the connections the server closed.
        open.retain(|tcp| {
            let mut probe = [0u8; 1];
            tcp.set_nonblocking(true).ok();
            match tcp.peek(&mut probe) {
                Ok(n) => n > 0,
                Err(e) => e.kind() == std::io::ErrorKind::WouldBlock,
            }
        });
        while open.len() < count {
            let Ok(mut tcp) = TcpStream::connect(("127.0.0.1", port)) else {
                break;
            };
            let _ = tcp.write_all(b"GET /api/v2/me HTTP/1.1\r\nHost: caliopen\r\nX-Slow: ");
            open.push(tcp);
            opened += 1;
        }
        holding.store(open.len(), Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(200));
    }
    opened
}

/// Open file descriptors of `pid`, and its limit.
fn descriptors(pid: u32) -> (usize, u64) {
    let open = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count);
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap_or_default();
    let limit = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (open, limit)
}

/// One mail over LMTP with smtplib, bounded by a timeout; the reply code (0: no answer).
fn lmtp_deliver(port: u16, subject: &str) -> u16 {
    let script = r#"
import smtplib, sys
port, rcpt, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3]
try:
    lmtp = smtplib.LMTP("127.0.0.1", port, timeout=60)
    lmtp.sendmail("sender@example.org", [rcpt], f"Subject: {subject}\r\n\r\nHello.\r\n")
    lmtp.quit()
    print(250)
except smtplib.SMTPResponseException as e:
    print(e.smtp_code)
except smtplib.SMTPRecipientsRefused as e:
    print(list(e.recipients.values())[0][0])
except Exception as e:
    sys.stderr.write(repr(e))
    print(0)
"#;
    let out = Command::new("python3")
        .args(["-c", script, &port.to_string(), RCPT, subject])
        .stderr(Stdio::inherit())
        .output()
        .expect("python3 is needed for the LMTP client");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// Holds the server to `limit` open files, as a service manager's LimitNOFILE would.
fn limit_open_files(pid: u32, limit: u32) {
    let status = Command::new("prlimit")
        .args([format!("--nofile={limit}:{limit}"), format!("--pid={pid}")])
        .status()
        .expect("prlimit (util-linux) is needed");
    assert!(status.success(), "prlimit failed");
}

#[test]
fn a_half_sent_http_request_flood_leaves_descriptors_for_lmtp_and_the_server_answers() {
    let node = Node::without_components();
    node.cli(&["user", "add", USER, "--password-stdin"], Some(PASSWORD))
        .expect("user add");
    let server = node.serve();
    let pid = server_pid(&node);
    limit_open_files(pid, 1024);
    let flooding = Arc::new(AtomicBool::new(true));
    let holding = Arc::new(AtomicUsize::new(0));
    let flooder = {
        let (flooding, holding, port) = (Arc::clone(&flooding), Arc::clone(&holding), node.http);
        std::thread::spawn(move || flood(port, FLOOD, &flooding, &holding))
    };
    // The flood is on: more half-sent requests than the server has descriptors.
    let start = Instant::now();
    while holding.load(Ordering::SeqCst) < FLOOD {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the flood does not build up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    let (open, limit) = descriptors(pid);
    eprintln!("during the flood: {open} descriptors open of {limit}");
    let code = lmtp_deliver(node.lmtp, "during the flood");
    let metrics = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "60",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ])
        .arg(format!("http://127.0.0.1:{}/metrics", node.admin))
        .output()
        .expect("curl");
    let (open_after, _) = descriptors(pid);
    assert_eq!(
        code,
        250,
        "LMTP during the flood; server log:\n{}",
        tail(&server)
    );
    assert_eq!(
        String::from_utf8_lossy(&metrics.stdout),
        "200",
        "the admin API answers"
    );
    assert!(
        (open.max(open_after) as u64) < limit * 9 / 10,
        "{open} then {open_after} descriptors open of {limit}"
    );
    // The REST API itself answers a real client, in its turn, while the flood goes on.
    let start = Instant::now();
    let body = format!(
        "{{\"username\": \"{USER}\", \"password\": \"{PASSWORD}\", \"device\": {{\"device_id\": \"default\"}}}}"
    );
    let login = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "300",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ])
        .args(["-H", "content-type: application/json", "-d", &body])
        .arg(format!(
            "http://127.0.0.1:{}/api/v1/authentications",
            node.http
        ))
        .output()
        .expect("curl");
    eprintln!(
        "a login answered {} after {:?} in the flood: {}",
        String::from_utf8_lossy(&login.stdout),
        start.elapsed(),
        String::from_utf8_lossy(&login.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&login.stdout),
        "200",
        "the REST API answers"
    );
    flooding.store(false, Ordering::SeqCst);
    let opened = flooder.join().expect("the flooder");
    assert!(opened >= FLOOD, "only {opened} flood connections");
    assert_eq!(lmtp_deliver(node.lmtp, "after the flood"), 250);
}

/// The end of the server's log, for failure messages.
fn tail(server: &Server<'_>) -> String {
    let log = server.log();
    let start = log.len().saturating_sub(4000);
    log[log.ceil_char_boundary(start)..].to_owned()
}
