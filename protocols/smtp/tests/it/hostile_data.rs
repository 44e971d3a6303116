//! Message data as real MTAs send it and as attackers send it, over smtplib: lines far
//! longer than RFC 5321's 1000 octets (a DKIM-signed header list), messages spooled to disk
//! while they arrive, and more message bytes in flight than the server takes at once.

use crate::common;

use caliopen_smtp::{InboundMode, InboundSettings};
use common::{ALICE, Bench, Python, SENDER, lmtp, opening, settings, smtplib};
use serde_json::json;

/// A mail whose DKIM-Signature header is one line of about 15,000 octets, as some signers
/// write a long `h=` list, and whose body has a 15,000-octet line too.
fn long_lines_mail() -> String {
    let headers: Vec<String> = (0..2000).map(|i| format!("x-h{i:04}")).collect();
    let dkim = format!(
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel; h={}; \
         bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGVzdA==",
        headers.join(":")
    );
    assert!(dkim.len() > 15_000, "{}", dkim.len());
    format!(
        "{dkim}\r\nFrom: sender@example.org\r\nTo: alice@caliopen.local\r\nSubject: long lines\r\n\
         Message-ID: <long-lines@example.org>\r\n\r\n{}\r\nBye.\r\n",
        "word ".repeat(3000)
    )
}

/// `mail` in a file for the Python client (a command-line argument holds 128 KiB at most).
fn mail_file(mail: &str) -> tempfile::TempPath {
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), mail).expect("write the mail");
    file.into_temp_path()
}

/// Sends `mail` in one smtplib call; the refused recipients' replies.
async fn sendmail(bench: &Bench, protocol: &str, mail: &str) -> serde_json::Value {
    let file = mail_file(mail);
    let steps = [
        json!({"op": "sendmail", "from": SENDER, "to": [ALICE], "message_file": &*file}),
        json!({"op": "quit"}),
    ];
    let steps = smtplib(bench.addr, json!({"protocol": protocol, "steps": steps})).await;
    assert!(steps[1].error().is_none(), "{steps:?}");
    steps[1].result()["refused"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_with_15000_octet_lines_over_lmtp_is_accepted_and_stored_as_sent() {
    let bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let mail = long_lines_mail();
    assert_eq!(sendmail(&bench, "lmtp", &mail).await, json!({}));
    let pending = bench.pending().await;
    assert_eq!(pending.len(), 1);
    assert_eq!(bench.raw(&pending[0]).await, mail.as_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_takes_long_lines_unless_a_limit_is_configured_then_refuses_before_the_250() {
    let mail = long_lines_mail();
    let bench = Bench::start(settings(InboundMode::Smtp)).await;
    assert_eq!(sendmail(&bench, "smtp", &mail).await, json!({}));
    assert_eq!(bench.pending().await.len(), 1);

    let bench = Bench::start(InboundSettings {
        max_data_line_length: Some(1000),
        ..settings(InboundMode::Smtp)
    })
    .await;
    let file = mail_file(&mail);
    let mut steps = opening(&[ALICE]);
    steps.push(json!({"op": "data", "message_file": &*file}));
    let steps = smtplib(bench.addr, json!({"protocol": "smtp", "steps": steps})).await;
    let reply = &steps[4].result()[0];
    assert_eq!(reply[0], 554, "{steps:?}");
    assert!(reply[1].as_str().unwrap().starts_with("5.6.0"), "{reply}");
    assert!(bench.pending().await.is_empty(), "nothing stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_larger_than_the_buffer_is_spooled_and_stored_whole() {
    let spool = tempfile::tempdir().expect("temporary directory");
    let spool_dir = spool.path().join("spool");
    let bench = Bench::start(InboundSettings {
        data_buffer: 4096,
        spool_dir: Some(spool_dir.clone()),
        ..settings(InboundMode::Lmtp)
    })
    .await;
    let body: String = (0..60_000)
        .map(|i| format!("line {i} of a big mail\n"))
        .collect();
    let mail = format!(
        "From: sender@example.org\nSubject: big\nMessage-ID: <big@example.org>\n\n{body}.hidden dot\n"
    );
    let small = "From: sender@example.org\nSubject: small\n\nsmall\n";
    assert_eq!(sendmail(&bench, "lmtp", &mail).await, json!({}));
    assert_eq!(sendmail(&bench, "lmtp", small).await, json!({}));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&spool_dir)
            .expect("the spool folder")
            .permissions();
        assert_eq!(mode.mode() & 0o777, 0o700, "a private folder");
    }
    let mut stored = Vec::new();
    for delivery in bench.pending().await {
        stored.push(bench.raw(&delivery).await);
    }
    stored.sort_by_key(Vec::len);
    let crlf = |text: &str| text.replace('\n', "\r\n").into_bytes();
    assert_eq!(stored, [crlf(small), crlf(&mail)]);
    assert!(
        std::fs::read_dir(&spool_dir).unwrap().next().is_none(),
        "spool files leave nothing behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_in_flight_over_the_cap_get_a_452_and_the_retry_is_taken() {
    let bench = Bench::start(InboundSettings {
        max_message_size: 1 << 20,
        max_bytes_in_flight: 1 << 20,
        data_buffer: 64 << 10,
        ..settings(InboundMode::Lmtp)
    })
    .await;
    // Two clients each send 700 KB without the final dot: 1.4 MB for a 1 MiB cap.
    let body = "0123456789abcdef".repeat(4096 * 11);
    let mail = |n: u32| format!("Subject: in flight {n}\n\n{body}\n");
    let files: Vec<_> = (0..3).map(|n| mail_file(&mail(n))).collect();
    let mut clients = Vec::new();
    for file in &files[..2] {
        let mut steps = opening(&[ALICE]);
        steps.push(json!({"op": "partial_data", "message_file": &**file}));
        steps.push(json!({"op": "signal"}));
        steps.push(json!({"op": "docmd", "line": "."}));
        steps.push(json!({"op": "quit"}));
        let mut client = Python::spawn(bench.addr, &lmtp(&steps));
        let before = client.until_signal().await;
        assert_eq!(before[4].code(), 354, "{before:?}");
        clients.push(client);
    }
    let mut codes = Vec::new();
    for mut client in clients {
        client.resume().await;
        let after = client.finish().await;
        codes.push((after[0].code(), after[0].text().to_owned()));
    }
    codes.sort();
    assert_eq!(codes[0].0, 250, "{codes:?}");
    assert_eq!(codes[1].0, 452, "a temporary refusal: {codes:?}");
    assert!(codes[1].1.starts_with("4.3.1"), "{codes:?}");
    assert_eq!(
        bench.pending().await.len(),
        1,
        "the refused one is not kept"
    );

    // Its bytes were given back: the MTA's retry is taken.
    let steps =
        [json!({"op": "sendmail", "from": SENDER, "to": [ALICE], "message_file": &*files[2]})];
    let steps = smtplib(bench.addr, lmtp(&steps)).await;
    assert_eq!(steps[1].result()["refused"], json!({}), "{steps:?}");
    assert_eq!(bench.pending().await.len(), 2);
}
