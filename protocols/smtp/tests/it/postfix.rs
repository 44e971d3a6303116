//! A real MTA in front of the LMTP server, as in production: swaks submits to a private
//! Postfix (loopback smtpd), whose `transport_maps` send mail for `caliopen.local` over
//! LMTP to our server running over a real embedded store. The mail must end up as a pending
//! delivery whose raw bytes are the original message with only Postfix's trace headers
//! prepended, and Postfix must log the LMTP replies it got, recipient by recipient.
//!
//! Without Postfix (or swaks) these tests fail with the command that installs it: CI
//! installs both (`cargo xtask setup`).

use crate::common;
#[path = "common/postfix.rs"]
mod private_postfix;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use caliopen_smtp::InboundMode;
use common::{ALICE, BOB, Bench, SENDER, UNKNOWN, settings, swaks};
use private_postfix::{POSTFIX_TIMEOUT, Postfix};

/// A message with every header Postfix would otherwise add, and a dot-stuffed line.
fn original(subject: &str) -> String {
    format!(
        "From: sender@example.org\r\nTo: alice@caliopen.local\r\nSubject: {subject}\r\n\
         Date: Thu, 27 Nov 2025 10:00:00 +0000\r\nMessage-ID: <{subject}@example.org>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Hello through Postfix.\r\n.A line that starts with a dot.\r\nBye.\r\n"
    )
}

/// Submits `raw` to Postfix's smtpd with swaks; swaks ends the data with its own CRLF.
async fn submit(postfix: &Postfix, dir: &tempfile::TempDir, raw: &str, to: &str) {
    let path = dir.path().join("mail.eml");
    std::fs::write(&path, raw.strip_suffix("\r\n").unwrap_or(raw)).expect("write the message");
    let data = format!("@{}", path.display());
    let run = swaks(
        postfix.smtpd,
        &["--from", SENDER, "--to", to, "--data", &data],
    )
    .await;
    assert_eq!(
        run.code,
        Some(0),
        "swaks → Postfix failed:\n{}\n{}\n{}",
        run.stdout,
        run.stderr,
        postfix.diagnostics()
    );
    assert_eq!(
        run.replies_starting("250 2.0.0 Ok: queued").len(),
        1,
        "{}",
        run.stdout
    );
}

/// Waits, bounded, until the server holds `count` pending deliveries.
async fn wait_pending(
    bench: &Bench,
    postfix: &Postfix,
    count: usize,
) -> Vec<caliopen_core::delivery::accept::PendingDelivery> {
    let deadline = Instant::now() + POSTFIX_TIMEOUT;
    loop {
        let pending = bench.pending().await;
        if pending.len() >= count {
            return pending;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {count} deliveries after {POSTFIX_TIMEOUT:?}:\n{}",
            pending.len(),
            postfix.diagnostics()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Splits a raw mail at its header/body boundary (the CRLF CRLF).
fn header_lines(raw: &str) -> Vec<&str> {
    let end = raw.find("\r\n\r\n").expect("a header/body boundary");
    raw[..end].split("\r\n").collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_relays_over_lmtp_and_the_mail_is_stored_as_sent() {
    let mut bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let mut postfix = Postfix::start(bench.addr).await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let raw = original("through-postfix");
    submit(&postfix, &dir, &raw, ALICE).await;

    let pending = wait_pending(&bench, &postfix, 1).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].user_id, bench.alice);
    assert_eq!(pending[0].envelope_from, SENDER);
    let stored = String::from_utf8(bench.raw(&pending[0]).await).expect("UTF-8 mail");

    // The original, byte for byte, after what Postfix prepends.
    let added = stored
        .strip_suffix(raw.as_str())
        .unwrap_or_else(|| panic!("the stored mail does not end with the original:\n{stored}"));
    assert!(added.ends_with("\r\n"), "{added:?}");
    let added_fields: Vec<&str> = added
        .lines()
        .filter(|l| !l.starts_with([' ', '\t']))
        .map(|l| l.split(':').next().unwrap_or_default())
        .collect();
    assert!(
        !added_fields.is_empty(),
        "Postfix added no trace header:\n{stored}"
    );
    assert!(
        added_fields
            .iter()
            .all(|f| ["Received", "Return-Path", "Delivered-To", "X-Original-To"].contains(f)),
        "unexpected headers added by Postfix: {added_fields:?}\n{stored}"
    );
    assert!(added.starts_with("Received: from client.test"), "{added}");
    assert!(
        added.contains("by mx.postfix.test (Postfix) with ESMTP"),
        "{added}"
    );
    // The original headers and body, in order, untouched.
    let original_headers = header_lines(&raw);
    let stored_headers = header_lines(&stored);
    assert_eq!(
        &stored_headers[stored_headers.len() - original_headers.len()..],
        &original_headers[..]
    );
    assert!(stored.ends_with(
        "\r\n\r\nHello through Postfix.\r\n.A line that starts with a dot.\r\nBye.\r\n"
    ));

    // Postfix got our 250 over LMTP.
    let sent = postfix
        .wait_log(
            &["postfix/lmtp", "to=<alice@caliopen.local>", "status=sent"],
            1,
        )
        .await;
    assert!(
        sent[0].contains(&format!("relay={}", bench.addr.ip())),
        "{sent:?}"
    );
    assert!(sent[0].contains("250 2.0.0"), "{sent:?}");

    postfix.stop();
    bench.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_gets_one_lmtp_reply_per_recipient() {
    let mut bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let mut postfix = Postfix::start(bench.addr).await;
    let dir = tempfile::tempdir().expect("temporary directory");
    submit(
        &postfix,
        &dir,
        &original("three-recipients"),
        &format!("{ALICE},{UNKNOWN},{BOB}"),
    )
    .await;

    let pending = wait_pending(&bench, &postfix, 2).await;
    let users: HashSet<_> = pending.iter().map(|d| d.user_id).collect();
    assert_eq!(users, HashSet::from([bench.alice, bench.bob]));
    assert_eq!(
        bench.raw(&pending[0]).await,
        bench.raw(&pending[1]).await,
        "one raw mail for both"
    );

    for rcpt in [ALICE, BOB] {
        postfix
            .wait_log(&["postfix/lmtp", &format!("to=<{rcpt}>"), "status=sent"], 1)
            .await;
    }
    // The unknown recipient was refused at RCPT with 550 5.1.1: Postfix bounces it and
    // does not retry.
    let bounced = postfix
        .wait_log(
            &["postfix/lmtp", &format!("to=<{UNKNOWN}>"), "status=bounced"],
            1,
        )
        .await;
    assert!(bounced[0].contains("550 5.1.1"), "{bounced:?}");

    postfix.stop();
    bench.stop().await;
    assert_eq!(bench.pending().await.len(), 2, "nothing more was stored");
}
