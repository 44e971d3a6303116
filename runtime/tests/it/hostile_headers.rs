//! Mail with header values longer than any storage key, over LMTP to a real
//! `caliopen serve` with the real parser and broker: a folded List-Id of about
//! 67 KB, and a folded Message-ID of about 67 KB. Both were once acknowledged,
//! then panicked at every delivery attempt, retried about once a second forever.
//! Now each is stored whole (the keys built from them are digests), nothing is
//! quarantined or left pending (were anything to fail, it would be quarantined
//! with its reason after the configured three attempts), and the server keeps
//! accepting and storing other mail.

use crate::common;

use std::time::Duration;

use common::node::Node;

/// About the size of the headers of the original finding.
const HUGE: usize = 67_000;

/// `start` + HUGE characters folded into lines of 900 + `end`, as a header value.
fn folded(start: &str, end: &str) -> String {
    let body = "x".repeat(HUGE);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(900)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!("{start}{}{end}", lines.join("\r\n "))
}

fn mail(subject: &str, extra: &str) -> String {
    format!(
        "From: Bob <bob@example.org>\r\nTo: alice@caliopen.local\r\nSubject: {subject}\r\n\
         Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n{extra}\r\n\r\nHello.\r\n"
    )
}

#[test]
fn mail_with_67_kb_headers_is_stored_and_nothing_is_retried_forever() {
    let node = Node::new();
    let config = std::fs::read_to_string(&node.config).unwrap();
    std::fs::write(
        &node.config,
        config.replace("max_attempts = 1000", "max_attempts = 3"),
    )
    .unwrap();
    node.cli(
        &["user", "add", "alice", "--password-stdin"],
        Some("correct horse battery"),
    )
    .expect("user add");
    let server = node.serve();

    let list_id = mail(
        "long list id",
        &format!("List-Id: A list <{}>", folded("", ".lists.example.org")),
    );
    let message_id = mail(
        "long message id",
        &format!("Message-ID: <{}>", folded("", "@example.org")),
    );
    for (what, raw) in [("List-Id", &list_id), ("Message-ID", &message_id)] {
        let replies = server.lmtp_send("bob@example.org", &["alice@caliopen.local"], raw);
        assert_eq!(replies["alice@caliopen.local"], 250, "{what}: {replies:?}");
    }
    // Nothing stays pending: each delivery ends, stored or quarantined.
    server.wait_idle(Duration::from_secs(180));

    let session = server.login("alice", "correct horse battery");
    let (code, list) = server.get(&session, "/api/v2/messages?limit=50");
    assert_eq!(code, 200, "{list}");
    let messages = list["messages"].as_array().unwrap();
    let subject = |m: &&serde_json::Value| m["subject"].as_str().unwrap_or_default().to_owned();
    let quarantine = node
        .cli(&["quarantine", "list"], None)
        .expect("quarantine list");
    assert!(
        quarantine.contains("no quarantined delivery"),
        "both are stored, nothing is quarantined: {quarantine}"
    );
    let long_msgid = messages
        .iter()
        .find(|m| subject(m) == "long message id")
        .expect("the mail with a 67 KB Message-ID is stored");
    let kept = long_msgid["external_references"]["message_id"]
        .as_str()
        .unwrap_or_default();
    assert!(
        kept.len() >= HUGE,
        "the message keeps the whole Message-ID ({} bytes)",
        kept.len()
    );
    assert!(
        messages.iter().any(|m| subject(&m) == "long list id"),
        "the mail with a 67 KB List-Id is stored"
    );

    // The server keeps accepting and storing mail.
    let replies = server.lmtp_send(
        "carol@example.org",
        &["alice@caliopen.local"],
        &mail("after the long headers", "Message-ID: <after@example.org>"),
    );
    assert_eq!(replies["alice@caliopen.local"], 250, "{replies:?}");
    server.poll(
        &session,
        "/api/v2/messages?limit=50",
        Duration::from_secs(120),
        |v| {
            v["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["subject"] == "after the long headers"))
        },
    );
}

/// Where limits sit (an address's 254 bytes, a storage key's 1,024, an lsm-tree
/// key's 65,535) and just past them.
const LENGTHS: &[usize] = &[254, 255, 1_024, 1_025, 65_535, 70_000];

/// Each header whose value a message keeps, indexes or makes a key of.
const HEADERS: &[&str] = &[
    "Message-ID",
    "In-Reply-To",
    "References",
    "List-Id",
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Sender",
    "Subject",
    "Date",
    "Content-Type",
    "X-Mailer",
];

/// A value of `header` with `n` characters where its variable part is.
fn long_value(header: &str, n: usize) -> String {
    let a = "a".repeat(n);
    match header {
        "Message-ID" | "In-Reply-To" | "References" => format!("<{a}@example.org>"),
        "List-Id" => format!("A list <{a}.lists.example.org>"),
        "From" | "To" | "Cc" | "Reply-To" | "Sender" => format!("Someone <{a}@example.org>"),
        "Content-Type" => format!("text/plain; charset=\"{a}\""),
        _ => a,
    }
}

/// Sends each `(sender, recipient, mail)` over LMTP on a connection of its own
/// (Python's smtplib); the reply codes: the recipient's, or MAIL FROM's when it
/// was refused, or 0 when the server closed the connection.
fn lmtp_codes(port: u16, mails: &[(String, String, String)]) -> Vec<u16> {
    let script = r#"
import json, smtplib, sys
port, mails = int(sys.argv[1]), json.load(sys.stdin)
codes = []
for sender, rcpt, data in mails:
    try:
        lmtp = smtplib.LMTP("127.0.0.1", port)
        try:
            refused = lmtp.sendmail(sender, [rcpt], data.encode())
            codes.append(refused[rcpt][0] if rcpt in refused else 250)
        except smtplib.SMTPRecipientsRefused as e:
            codes.append(e.recipients[rcpt][0])
        except smtplib.SMTPSenderRefused as e:
            codes.append(e.smtp_code)
        except smtplib.SMTPResponseException as e:
            codes.append(e.smtp_code)
        lmtp.quit()
    except smtplib.SMTPServerDisconnected:
        codes.append(0)
print(json.dumps(codes))
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script, &port.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is needed for the LMTP client");
    let input = serde_json::to_vec(mails).unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the LMTP client failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The property over LMTP: every header a message keeps, at each length where a
/// limit sits, folded and on one line, is acknowledged (a header's length never
/// refuses mail) and stored; envelope addresses of every length get a 250 or a
/// 5xx, never a 4xx that would make the MTA retry forever; nothing is left
/// pending or quarantined, and the server goes on accepting mail.
#[test]
fn no_header_or_address_length_loses_mail_or_stops_delivery() {
    let node = Node::new();
    node.cli(
        &["user", "add", "alice", "--password-stdin"],
        Some("correct horse battery"),
    )
    .expect("user add");
    let server = node.serve();
    let rcpt = "alice@caliopen.local".to_owned();
    let mut header_mails = Vec::new();
    for header in HEADERS {
        for (i, &n) in LENGTHS.iter().enumerate() {
            let value = long_value(header, n);
            // Every other length folded into lines of 900, the rest on one line.
            let value = if i % 2 == 0 {
                value
                    .as_bytes()
                    .chunks(900)
                    .map(|c| std::str::from_utf8(c).unwrap())
                    .collect::<Vec<_>>()
                    .join("\r\n ")
            } else {
                value
            };
            let mut raw = format!(
                "From: Bob <bob@example.org>\r\nTo: {rcpt}\r\nSubject: sweep {header} {n}\r\n\
                 Date: Tue, 24 Nov 2026 10:00:00 +0100\r\nMessage-ID: <sweep-{header}-{n}@example.org>\r\n"
            );
            // The header under test replaces its ordinary line.
            let ordinary = raw
                .lines()
                .find(|l| l.starts_with(&format!("{header}:")))
                .map(|l| format!("{l}\r\n"));
            if let Some(line) = ordinary {
                raw = raw.replace(&line, "");
            }
            raw.push_str(&format!("{header}: {value}\r\n\r\nHello.\r\n"));
            header_mails.push(("bob@example.org".to_owned(), rcpt.clone(), raw));
        }
    }
    let codes = lmtp_codes(node.lmtp, &header_mails);
    let refused: Vec<String> = codes
        .iter()
        .zip(
            HEADERS
                .iter()
                .flat_map(|h| LENGTHS.iter().map(move |n| (h, n))),
        )
        .filter(|(c, _)| **c != 250)
        .map(|(c, (h, n))| format!("{h} of {n}: {c}"))
        .collect();
    assert!(
        refused.is_empty(),
        "refused for a header's length: {refused:?}"
    );

    let mut envelope = Vec::new();
    for &n in LENGTHS {
        let a = "a".repeat(n);
        let mail = format!("Subject: envelope {n}\r\n\r\nHello.\r\n");
        envelope.push((format!("{a}@example.org"), rcpt.clone(), mail.clone()));
        envelope.push((
            "bob@example.org".to_owned(),
            format!("{a}@caliopen.local"),
            mail,
        ));
    }
    let codes = lmtp_codes(node.lmtp, &envelope);
    for (code, (from, to, _)) in codes.iter().zip(&envelope) {
        assert!(
            *code == 250 || (500..600).contains(code),
            "MAIL FROM of {} / RCPT TO of {} bytes: {code}, neither accepted nor refused for good",
            from.len(),
            to.len()
        );
    }
    let accepted_envelopes = codes.iter().filter(|c| **c == 250).count();

    // Every acknowledged mail is stored: nothing pending, nothing quarantined.
    server.wait_idle(Duration::from_secs(300));
    let quarantine = node
        .cli(&["quarantine", "list"], None)
        .expect("quarantine list");
    assert!(
        quarantine.contains("no quarantined delivery"),
        "{quarantine}"
    );
    let session = server.login("alice", "correct horse battery");
    let mut stored = 0;
    loop {
        let (code, page) = server.get(
            &session,
            &format!("/api/v2/messages?limit=50&offset={stored}"),
        );
        assert_eq!(code, 200, "{page}");
        let n = page["messages"].as_array().map_or(0, Vec::len);
        if n == 0 {
            break;
        }
        stored += n;
    }
    eprintln!(
        "{} header mails and {accepted_envelopes} of {} envelopes acknowledged, {stored} stored",
        header_mails.len(),
        envelope.len()
    );
    assert_eq!(
        stored,
        header_mails.len() + accepted_envelopes,
        "every acknowledged mail is stored once"
    );

    let replies = server.lmtp_send(
        "carol@example.org",
        &["alice@caliopen.local"],
        &mail("after the sweep", "Message-ID: <after-sweep@example.org>"),
    );
    assert_eq!(replies["alice@caliopen.local"], 250, "{replies:?}");
}
