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
