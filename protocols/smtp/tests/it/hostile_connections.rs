//! Clients that try to hold the inbound server's connection slots or to probe its users,
//! written as the attacks: idle and byte-trickling connections (in a command, in DATA, and
//! with commands that never end in a message), many connections from one address, and a
//! dictionary of unknown recipients in one SMTP session. The legitimate client is swaks or
//! smtplib; the attackers are raw sockets, as attackers are.

use crate::common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use caliopen_smtp::{InboundMode, InboundSettings};
use caliopen_smtp_proto::SessionConfig;
use common::{ALICE, Bench, SENDER, Swaks, UNKNOWN, settings, smtplib, swaks};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// Longest wait for anything that the server's deadlines should bring about.
const WAIT: Duration = Duration::from_secs(120);

/// What an attacker does once greeted.
#[derive(Debug, Clone, Copy)]
enum Attack {
    /// Nothing at all.
    Silent,
    /// One byte of a command line every half second, never its end.
    TrickleCommand,
    /// Valid commands every half second, never a message.
    Noop,
    /// A whole transaction up to DATA, then one message byte every half second.
    TrickleData,
}

/// How the attackers fared.
#[derive(Debug, Default)]
struct Tally {
    greeted: AtomicUsize,
    refused: AtomicUsize,
    /// Greeted attackers the server has since disconnected.
    cut: AtomicUsize,
}

/// Starts `count` attackers of each kind in `attacks` against `addr`; they run until the
/// server closes them or the set is dropped. Returns once every one has its first reply.
async fn attackers(addr: SocketAddr, attacks: &[(Attack, usize)]) -> (JoinSet<()>, Arc<Tally>) {
    let tally = Arc::new(Tally::default());
    let mut set = JoinSet::new();
    for &(attack, count) in attacks {
        for _ in 0..count {
            set.spawn(attacker(addr, attack, Arc::clone(&tally)));
        }
    }
    let total: usize = attacks.iter().map(|(_, n)| n).sum();
    let start = Instant::now();
    while tally.greeted.load(Ordering::SeqCst) + tally.refused.load(Ordering::SeqCst) < total {
        assert!(start.elapsed() < WAIT, "attackers not answered: {tally:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (set, tally)
}

async fn attacker(addr: SocketAddr, attack: Attack, tally: Arc<Tally>) {
    let Ok(tcp) = TcpStream::connect(addr).await else {
        tally.refused.fetch_add(1, Ordering::SeqCst);
        return;
    };
    let (read, mut write) = tcp.into_split();
    let mut read = BufReader::new(read);
    let mut greeting = String::new();
    let _ = read.read_line(&mut greeting).await;
    if !greeting.starts_with("220") {
        tally.refused.fetch_add(1, Ordering::SeqCst);
        return;
    }
    tally.greeted.fetch_add(1, Ordering::SeqCst);
    let opening = format!("LHLO attacker\r\nMAIL FROM:<{SENDER}>\r\nRCPT TO:<{ALICE}>\r\nDATA\r\n");
    let (start, step): (&[u8], &[u8]) = match attack {
        Attack::Silent => (b"", b""),
        Attack::TrickleCommand => (b"", b"LHLO slowly-slowly-slowly"),
        Attack::Noop => (b"LHLO attacker\r\n", b"NOOP\r\n"),
        Attack::TrickleData => (opening.as_bytes(), b"Subject: never ending\r\n"),
    };
    let _ = write.write_all(start).await;
    // The server's side: a read that ends (EOF or reset) means it closed the connection.
    let closed = async {
        let mut sink = [0u8; 1024];
        while matches!(read.read(&mut sink).await, Ok(n) if n > 0) {}
    };
    let trickle = async {
        let mut i = 0;
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let chunk: &[u8] = match attack {
                Attack::Noop => step,
                _ if step.is_empty() => continue,
                _ => &step[i % step.len()..i % step.len() + 1],
            };
            i += 1;
            if write.write_all(chunk).await.is_err() {
                // Keep waiting for the read side to see the close.
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = closed => {}
        () = trickle => {}
    }
    tally.cut.fetch_add(1, Ordering::SeqCst);
}

/// A delivery to alice with swaks over LMTP, from `source`.
async fn deliver_from(addr: SocketAddr, source: &str) -> Swaks {
    swaks(
        addr,
        &[
            "--protocol",
            "LMTP",
            "--local-interface",
            source,
            "--from",
            SENDER,
            "--to",
            ALICE,
            "--timeout",
            "30",
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_slow_connections_from_one_address_leave_room_for_another() {
    let bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let (_attack, tally) = attackers(
        bench.addr,
        &[(Attack::Silent, 55), (Attack::TrickleCommand, 55)],
    )
    .await;
    let per_ip = InboundSettings::default().max_connections_per_ip;
    assert_eq!(tally.greeted.load(Ordering::SeqCst), per_ip, "{tally:?}");
    let run = deliver_from(bench.addr, "127.0.0.2").await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(bench.pending().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_trickling_connections_are_cut_by_their_deadlines() {
    let bench = Bench::start(InboundSettings {
        command_timeout: Duration::from_secs(2),
        data_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(4),
        transaction_timeout: Duration::from_secs(6),
        // Every slot for the attackers' one address: only the deadlines can free them.
        max_connections_per_ip: 0,
        ..settings(InboundMode::Lmtp)
    })
    .await;
    let (_attack, tally) = attackers(
        bench.addr,
        &[
            (Attack::TrickleCommand, 37),
            (Attack::Noop, 37),
            (Attack::TrickleData, 36),
        ],
    )
    .await;
    let max = InboundSettings::default().max_connections;
    assert_eq!(tally.greeted.load(Ordering::SeqCst), max, "{tally:?}");
    // A client from the same address gets in once the deadlines have freed slots.
    let start = Instant::now();
    loop {
        let run = deliver_from(bench.addr, "127.0.0.1").await;
        if run.code == Some(0) {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "still kept out: {tally:?}\n{}",
            run.stdout
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Every attacker is cut, the slowest by the transaction deadline, and none stored mail.
    while tally.cut.load(Ordering::SeqCst) < max {
        assert!(
            start.elapsed() < WAIT,
            "attackers still connected: {tally:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        bench.pending().await.len(),
        1,
        "only the real client's mail"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_unknown_recipients_in_one_smtp_session_end_with_a_disconnect() {
    let bench = Bench::start(settings(InboundMode::Smtp)).await;
    let mut steps = vec![
        json!({"op": "hello"}),
        json!({"op": "mail", "from": SENDER}),
    ];
    for i in 0..2000 {
        let to = UNKNOWN.replacen('@', &format!("{i}@"), 1);
        steps.push(json!({"op": "rcpt", "to": to}));
    }
    let steps = smtplib(bench.addr, json!({"protocol": "smtp", "steps": steps})).await;
    let rcpts: Vec<_> = steps.iter().filter(|s| s.op() == "rcpt").collect();
    let refused = rcpts
        .iter()
        .filter(|s| s.error().is_none() && s.code() == 550)
        .count();
    assert_eq!(refused, SessionConfig::DEFAULT_MAX_REFUSED_RECIPIENTS);
    let after = &rcpts[refused];
    assert!(
        after.error().is_some() || after.code() == 421,
        "the session goes on after {refused} refusals: {after:?}"
    );
    assert!(rcpts.len() < 25, "{} recipients answered", rcpts.len());
    assert!(bench.pending().await.is_empty());
}
