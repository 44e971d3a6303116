//! The walking skeleton, end to end with real parts only: `caliopen user add`, then
//! `caliopen serve` on the embedded store; Python's `smtplib.LMTP` delivers a mail;
//! `curl` logs in and reads it back from `GET /api/v2/messages`.

use crate::common;

use std::time::Duration;

use common::node::Node;
use serde_json::Value;

const MAIL: &str = "From: Bob Martin <bob@example.org>\r\n\
To: Alice <alice@caliopen.local>\r\n\
Subject: Lunch on Friday?\r\n\
Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n\
Message-ID: <lunch-1@example.org>\r\n\
\r\n\
Shall we meet at noon?\r\n";

#[test]
fn mail_delivered_over_lmtp_is_read_back_over_rest() {
    let node = Node::new();
    node.cli(
        &["user", "add", "alice", "--password-stdin"],
        Some("correct horse battery"),
    )
    .expect("user add");
    let server = node.serve();

    let replies = server.lmtp_send(
        "bob@example.org",
        &["alice@caliopen.local", "nobody@caliopen.local"],
        MAIL,
    );
    assert_eq!(replies["alice@caliopen.local"], 250, "{replies:?}");
    assert_eq!(replies["nobody@caliopen.local"], 550, "{replies:?}");

    let session = server.login("alice", "correct horse battery");
    let list = server.poll(&session, "/api/v2/messages", Duration::from_secs(60), |v| {
        v["total"] == 1
    });
    let message = &list["messages"][0];
    assert_eq!(message["subject"], "Lunch on Friday?");
    assert_eq!(
        message["body"].as_str().map(str::trim_end),
        Some("Shall we meet at noon?")
    );
    assert_eq!(message["body_is_plain"], true);
    assert_eq!(message["is_unread"], true);
    assert_eq!(
        message["external_references"]["message_id"],
        "lunch-1@example.org"
    );
    let from: Vec<&Value> = message["participants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "From")
        .collect();
    assert_eq!(from.len(), 1);
    assert_eq!(from[0]["address"], "bob@example.org");
    assert_eq!(from[0]["label"], "Bob Martin");
    assert!(
        message["date"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-24T09:00:00")
    );

    // The single message reads back by id, and another token is refused.
    let id = message["message_id"].as_str().unwrap();
    let one = server.get(&session, &format!("/api/v2/messages/{id}"));
    assert_eq!(one.0, 200);
    assert_eq!(one.1["message_id"], id);
    let forged = common::node::Session {
        token: "not-a-token".into(),
        ..session.clone()
    };
    assert_eq!(server.get(&forged, "/api/v2/messages").0, 401);
}
