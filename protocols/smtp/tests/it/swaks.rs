//! The inbound server driven by swaks, the MTA admin's test tool: LMTP and SMTP deliveries,
//! pipelining, size refusal and STARTTLS. Without swaks these tests fail and say how to
//! install it (CI installs it; a silent skip would hide a missing install).

use crate::common;

use std::collections::HashSet;

use caliopen_smtp::{InboundMode, InboundSettings};
use common::{ALICE, BOB, Bench, SENDER, Swaks, UNKNOWN, message, settings, swaks};

/// Writes `raw` to a file swaks can send with `--data @file`. swaks ends the data with its
/// own line break, so the file leaves out the last one.
fn data_file(dir: &tempfile::TempDir, raw: &str) -> String {
    let path = dir.path().join("mail.eml");
    std::fs::write(&path, raw.strip_suffix("\r\n").unwrap_or(raw)).expect("write the message");
    format!("@{}", path.display())
}

fn assert_success(run: &Swaks) {
    assert_eq!(
        run.code,
        Some(0),
        "swaks failed:\n{}\n{}",
        run.stdout,
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_lmtp_delivery_is_stored_as_sent() {
    let bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let raw = message("swaks");
    let data = data_file(&dir, &raw);
    let run = swaks(
        bench.addr,
        &[
            "--protocol",
            "LMTP",
            "--from",
            SENDER,
            "--to",
            ALICE,
            "--data",
            &data,
        ],
    )
    .await;
    assert_success(&run);
    assert!(
        run.replies()
            .iter()
            .any(|r| r.starts_with("220 mx.test LMTP")),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.replies_starting("250 2.0.0 Message accepted").len(),
        1,
        "{}",
        run.stdout
    );

    let pending = bench.pending().await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].user_id, bench.alice);
    assert_eq!(pending[0].size, raw.len() as u64);
    assert_eq!(bench.raw(&pending[0]).await, raw.as_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_lmtp_with_an_unknown_recipient_among_known_ones() {
    let bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let to = format!("{ALICE},{UNKNOWN},{BOB}");
    let run = swaks(
        bench.addr,
        &["--protocol", "LMTP", "--from", SENDER, "--to", &to],
    )
    .await;
    assert_success(&run);
    assert_eq!(run.replies_starting("550 5.1.1").len(), 1, "{}", run.stdout);
    assert_eq!(
        run.replies_starting("250 2.0.0 Message accepted").len(),
        2,
        "{}",
        run.stdout
    );

    let pending = bench.pending().await;
    let users: HashSet<_> = pending.iter().map(|d| d.user_id).collect();
    assert_eq!(pending.len(), 2);
    assert_eq!(users, HashSet::from([bench.alice, bench.bob]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_lmtp_pipelining() {
    let bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let to = format!("{ALICE},{BOB}");
    let run = swaks(
        bench.addr,
        &[
            "--protocol",
            "LMTP",
            "--pipeline",
            "--from",
            SENDER,
            "--to",
            &to,
        ],
    )
    .await;
    assert_success(&run);
    assert!(
        run.replies().iter().any(|r| r == "250-PIPELINING"),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.replies_starting("250 2.0.0 Message accepted").len(),
        2,
        "{}",
        run.stdout
    );
    assert_eq!(bench.pending().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_smtp_mode_with_ehlo() {
    let bench = Bench::start(settings(InboundMode::Smtp)).await;
    let to = format!("{ALICE},{BOB}");
    let run = swaks(bench.addr, &["--from", SENDER, "--to", &to]).await;
    assert_success(&run);
    let replies = run.replies();
    assert!(
        replies.iter().any(|r| r.starts_with("220 mx.test ESMTP")),
        "{}",
        run.stdout
    );
    assert!(
        replies.iter().any(|r| r == "250-8BITMIME"),
        "{}",
        run.stdout
    );
    assert!(
        !replies.iter().any(|r| r.contains("STARTTLS")),
        "{}",
        run.stdout
    );
    // SMTP: one reply after DATA for both recipients.
    assert_eq!(
        run.replies_starting("250 2.0.0 Message accepted").len(),
        1,
        "{}",
        run.stdout
    );
    assert_eq!(bench.pending().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_oversized_mail_gets_552_and_nothing_is_stored() {
    let mut bench = Bench::start(InboundSettings {
        max_message_size: 1024,
        ..settings(InboundMode::Lmtp)
    })
    .await;
    let body = "0123456789abcdef".repeat(200);
    let run = swaks(
        bench.addr,
        &[
            "--protocol",
            "LMTP",
            "--from",
            SENDER,
            "--to",
            ALICE,
            "--body",
            &body,
        ],
    )
    .await;
    assert_ne!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.replies_starting("552 5.3.4").len(), 1, "{}", run.stdout);
    bench.stop().await;
    assert!(bench.pending().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_starttls_in_smtp_mode() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let bench = Bench::start(common::tls_settings(InboundMode::Smtp, dir.path())).await;
    let raw = message("tls");
    let data = data_file(&dir, &raw);
    let run = swaks(
        bench.addr,
        &["--tls", "--from", SENDER, "--to", ALICE, "--data", &data],
    )
    .await;
    assert_success(&run);
    let before_tls: Vec<_> = run
        .stdout
        .lines()
        .take_while(|l| !l.starts_with("<~"))
        .collect();
    assert!(
        before_tls
            .iter()
            .any(|l| l.starts_with("<-") && l.ends_with("250 STARTTLS")),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.replies_starting("220 2.0.0 Ready to start TLS").len(),
        1,
        "{}",
        run.stdout
    );
    // Replies after the handshake are read over TLS (`<~` in swaks' transcript).
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("<~") && l.contains("250 2.0.0 Message accepted")),
        "{}",
        run.stdout
    );
    let pending = bench.pending().await;
    assert_eq!(pending.len(), 1);
    assert_eq!(bench.raw(&pending[0]).await, raw.as_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_starttls_in_lmtp_mode() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let bench = Bench::start(common::tls_settings(InboundMode::Lmtp, dir.path())).await;
    let run = swaks(
        bench.addr,
        &[
            "--protocol",
            "LMTP",
            "--tls",
            "--from",
            SENDER,
            "--to",
            ALICE,
        ],
    )
    .await;
    assert_success(&run);
    assert_eq!(bench.pending().await.len(), 1);
}
