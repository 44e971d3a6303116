//! The inbound server driven by Python's `smtplib` (LMTP and SMTP) over a real embedded
//! store: what a 250 promises, what refusals leave behind, pipelining, SMTP mode, STARTTLS.

use crate::common;

use std::collections::HashSet;

use caliopen_smtp::InboundMode;
use common::{ALICE, BOB, Bench, SENDER, UNKNOWN, lmtp, message, opening, settings, smtplib};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_to_a_known_user_is_durable_before_the_250() {
    let bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let raw = message("durable");
    let steps = smtplib(
        bench.addr,
        lmtp(&[
            json!({"op": "sendmail", "from": SENDER, "to": [ALICE], "message": raw}),
            json!({"op": "quit"}),
        ]),
    )
    .await;
    assert_eq!(steps[1].op(), "sendmail");
    assert_eq!(steps[1].result()["refused"], json!({}));

    // The 250 came back: the delivery is there, for alice, with the raw bytes exactly as
    // sent (dot-unstuffed, no header added).
    let pending = bench.pending().await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].user_id, bench.alice);
    assert_eq!(pending[0].size, raw.len() as u64);
    assert_eq!(pending[0].envelope_from, SENDER);
    assert_eq!(bench.raw(&pending[0]).await, raw.as_bytes());

    // And it survives closing and reopening the store.
    let alice = bench.alice;
    let reopened = bench.pending_after_reopen().await;
    assert_eq!(reopened.len(), 1);
    assert_eq!(reopened[0].user_id, alice);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lmtp_answers_each_recipient_and_refuses_the_unknown_one() {
    let bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let mut steps = opening(&[ALICE, UNKNOWN, BOB]);
    steps.push(json!({"op": "data", "message": message("three"), "replies": 2}));
    steps.push(json!({"op": "quit"}));
    let steps = smtplib(bench.addr, lmtp(&steps)).await;

    assert_eq!(steps[3].code(), 250, "RCPT alice");
    assert_eq!(steps[4].code(), 550, "RCPT unknown");
    assert!(steps[4].text().starts_with("5.1.1"), "{:?}", steps[4]);
    assert_eq!(steps[5].code(), 250, "RCPT bob");
    // One reply per accepted recipient after DATA (RFC 2033 §4.2).
    assert_eq!(steps[6].codes(), [250, 250]);

    let pending = bench.pending().await;
    let users: HashSet<_> = pending.iter().map(|d| d.user_id).collect();
    assert_eq!(pending.len(), 2);
    assert_eq!(users, HashSet::from([bench.alice, bench.bob]));
    assert_eq!(pending[0].raw, pending[1].raw, "one blob for both");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_unknown_recipients_store_nothing() {
    let mut bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let steps = smtplib(
        bench.addr,
        lmtp(&[
            json!({"op": "sendmail", "from": SENDER, "to": [UNKNOWN], "message": message("x")}),
        ]),
    )
    .await;
    let (kind, detail) = steps[1].error().expect("every recipient refused");
    assert_eq!(kind, "SMTPRecipientsRefused");
    assert!(detail.contains("550"), "{detail}");
    bench.stop().await;
    assert!(bench.pending().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipelined_session_gets_its_replies_in_order() {
    let bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let raw = message("pipelined");
    let mut lines = vec![
        format!("MAIL FROM:<{SENDER}>"),
        format!("RCPT TO:<{ALICE}>"),
        format!("RCPT TO:<{UNKNOWN}>"),
        format!("RCPT TO:<{BOB}>"),
        "DATA".to_owned(),
    ];
    // The whole message in the same write, as a greedy client would.
    lines.extend(raw.trim_end().split("\r\n").map(|l| {
        if l.starts_with('.') {
            format!(".{l}")
        } else {
            l.to_owned()
        }
    }));
    lines.push(".".into());
    lines.push("QUIT".into());
    let steps = smtplib(
        bench.addr,
        lmtp(&[
            json!({"op": "hello"}),
            json!({"op": "pipeline", "lines": lines, "replies": 8}),
        ]),
    )
    .await;
    let extensions = steps[1].result()["extensions"].to_string();
    assert!(extensions.contains("pipelining"), "{extensions}");
    assert_eq!(
        steps[2].codes(),
        [250, 250, 550, 250, 354, 250, 250, 221],
        "{:?}",
        steps[2]
    );
    let pending = bench.pending().await;
    assert_eq!(pending.len(), 2);
    assert_eq!(bench.raw(&pending[0]).await, raw.as_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_mail_gets_552_and_nothing_is_stored() {
    let mut bench = Bench::start(caliopen_smtp::InboundSettings {
        max_message_size: 1024,
        ..settings(InboundMode::Lmtp)
    })
    .await;
    let big = format!("Subject: big\r\n\r\n{}", "0123456789abcdef\r\n".repeat(200));
    let mut steps = opening(&[ALICE]);
    steps.push(json!({"op": "data", "message": big, "replies": 1}));
    // The session goes on: a small mail is still accepted.
    steps.push(
        json!({"op": "sendmail", "from": SENDER, "to": [ALICE], "message": message("small")}),
    );
    steps.push(json!({"op": "quit"}));
    let steps = smtplib(bench.addr, lmtp(&steps)).await;

    let extensions = steps[1].result()["extensions"].to_string();
    assert!(extensions.contains("size"), "{extensions}");
    assert_eq!(steps[4].codes(), [552]);
    assert_eq!(steps[5].result()["refused"], json!({}));
    bench.stop().await;
    let pending = bench.pending().await;
    assert_eq!(pending.len(), 1, "only the small mail");
    assert_eq!(pending[0].size, message("small").len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_commands_get_5xx_and_the_session_goes_on() {
    let bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let bad = [
        ("MAIL FROM:<sender@example.org>", 503), // before LHLO
        ("FROBNICATE", 500),
        ("EHLO client.test", 500), // SMTP greeting in LMTP
        ("LHLO client.test", 250),
        ("MAIL FROM:<not an address", 501),
        ("RCPT TO:<alice@caliopen.local>", 503), // no MAIL yet
        ("MAIL FROM:<sender@example.org> FROB=1", 555),
        ("DATA", 503),
        ("MAIL FROM:<sender@example.org>", 250),
        ("RCPT TO:<alice@caliopen.local> NOTIFY=NEVER", 555),
        ("RCPT TO:alice", 501),
        ("RSET", 250),
    ];
    let mut steps: Vec<_> = bad
        .iter()
        .map(|(line, _)| json!({"op": "docmd", "line": line}))
        .collect();
    steps.push(
        json!({"op": "sendmail", "from": SENDER, "to": [ALICE], "message": message("after")}),
    );
    steps.push(json!({"op": "quit"}));
    let steps = smtplib(bench.addr, lmtp(&steps)).await;
    for (i, (line, code)) in bad.iter().enumerate() {
        assert_eq!(steps[i + 1].code(), *code, "{line}: {:?}", steps[i + 1]);
    }
    assert_eq!(steps[bad.len() + 1].result()["refused"], json!({}));
    assert_eq!(steps[bad.len() + 2].code(), 221);
    assert_eq!(bench.pending().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_message_is_refused_permanently() {
    let mut bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let lines = [
        format!("MAIL FROM:<{SENDER}>"),
        format!("RCPT TO:<{ALICE}>"),
        "DATA".to_owned(),
        ".".to_owned(),
    ];
    let steps = smtplib(
        bench.addr,
        lmtp(&[
            json!({"op": "hello"}),
            json!({"op": "pipeline", "lines": lines, "replies": 4}),
            json!({"op": "quit"}),
        ]),
    )
    .await;
    assert_eq!(steps[2].codes(), [250, 250, 354, 554], "{:?}", steps[2]);
    bench.stop().await;
    assert!(bench.pending().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_during_data_stores_nothing() {
    let mut bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let mut steps = opening(&[ALICE, BOB]);
    steps.push(json!({"op": "partial_data", "message": message("cut")}));
    steps.push(json!({"op": "close"}));
    let steps = smtplib(bench.addr, lmtp(&steps)).await;
    assert_eq!(steps[5].code(), 354);
    // Once the server has stopped, every session is over: nothing can arrive later.
    bench.stop().await;
    assert!(bench.pending().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_mode_speaks_ehlo_and_answers_once_after_data() {
    let bench = Bench::start(settings(InboundMode::Smtp)).await;
    let steps = smtplib(
        bench.addr,
        json!({"protocol": "smtp", "steps": [
            {"op": "hello"},
            {"op": "sendmail", "from": SENDER, "to": [ALICE, UNKNOWN, BOB], "message": message("smtp")},
            {"op": "quit"},
        ]}),
    )
    .await;
    assert_eq!(steps[1].result()["reply"][0], 250);
    let extensions: Vec<String> =
        serde_json::from_value(steps[1].result()["extensions"].clone()).expect("a list");
    for extension in [
        "pipelining",
        "size",
        "8bitmime",
        "enhancedstatuscodes",
        "smtputf8",
    ] {
        assert!(extensions.iter().any(|e| e == extension), "{extensions:?}");
    }
    assert!(
        !extensions.iter().any(|e| e == "starttls"),
        "no TLS configured"
    );
    let refused = &steps[2].result()["refused"];
    assert_eq!(refused.as_object().map(|o| o.len()), Some(1), "{refused}");
    assert_eq!(refused[UNKNOWN][0], 550);
    assert_eq!(bench.pending().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_with_smtplib_then_delivery_over_tls() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let bench = Bench::start(common::tls_settings(InboundMode::Lmtp, dir.path())).await;
    let raw = message("over tls");
    let steps = smtplib(
        bench.addr,
        lmtp(&[
            json!({"op": "hello"}),
            json!({"op": "starttls"}),
            json!({"op": "sendmail", "from": SENDER, "to": [ALICE], "message": raw}),
            json!({"op": "quit"}),
        ]),
    )
    .await;
    let offered = steps[1].result()["extensions"].to_string();
    assert!(offered.contains("starttls"), "{offered}");
    assert_eq!(steps[2].result()["reply"][0], 220);
    let over_tls = steps[2].result()["extensions"].to_string();
    assert!(!over_tls.contains("starttls"), "{over_tls}");
    assert_eq!(steps[3].result()["refused"], json!({}));
    let pending = bench.pending().await;
    assert_eq!(pending.len(), 1);
    assert_eq!(bench.raw(&pending[0]).await, raw.as_bytes());
}
