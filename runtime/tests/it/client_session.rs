//! A client's session against a real `caliopen serve`, as the original web client
//! would drive it over HTTP: sign up, log in, receive mail over LMTP, list the
//! discussions, read the message, tag it, find it by search, answer it (draft, send
//! through the outbound queue to a real SMTP relay), log out.

use crate::common;

use std::io::Write as _;
use std::time::Duration;

use common::node::Node;
use common::relay::Relay;
use serde_json::json;

const MAIL: &str = "From: Bob Martin <bob@example.org>\r\n\
To: Carol <carol@caliopen.local>\r\n\
Subject: The pangolin report\r\n\
Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n\
Message-ID: <pangolin-1@example.org>\r\n\
\r\n\
The pangolin census is done: 42 of them.\r\n";

const PASSWORD: &str = "a long and correct password";

#[test]
fn sign_up_receive_read_tag_search_answer_and_log_out() {
    let relay = Relay::start(None);
    let node = Node::new();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&node.config)
        .unwrap()
        .write_all(
            format!(
                "\n[outbound]\nrelay = \"127.0.0.1:{}\"\ntls = \"none\"\n",
                relay.port
            )
            .as_bytes(),
        )
        .unwrap();
    let server = node.serve();

    // Sign up, then log in on a device.
    let (code, v) = server.post_anonymous(
        "/api/v1/users",
        &json!({"username": "carol", "password": PASSWORD, "recovery_email": "carol@example.net"}),
    );
    assert_eq!(code, 200, "signup: {v}");
    let session = server.login("carol", PASSWORD);

    // Mail arrives over LMTP.
    let replies = server.lmtp_send("bob@example.org", &["carol@caliopen.local"], MAIL);
    assert_eq!(replies["carol@caliopen.local"], 250);

    // The discussion list shows it; the message reads back.
    let discussions = server.poll(
        &session,
        "/api/v2/discussions",
        Duration::from_secs(60),
        |v| v["total"] == 1,
    );
    let discussion = &discussions["discussions"][0];
    assert_eq!(discussion["unread_count"], 1, "{discussion}");
    let list = server.poll(&session, "/api/v2/messages", Duration::from_secs(30), |v| {
        v["total"] == 1
    });
    let id = list["messages"][0]["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, message) = server.get(&session, &format!("/api/v2/messages/{id}"));
    assert_eq!(code, 200);
    assert_eq!(message["subject"], "The pangolin report");
    assert_eq!(message["discussion_id"], discussion["discussion_id"]);

    // Tag it with a tag of the user's own.
    let (code, v) = server.call(
        &session,
        "POST",
        "/api/v2/tags",
        Some(&json!({"label": "wildlife"})),
    );
    assert_eq!(code, 200, "tag creation: {v}");
    let (code, v) = server.call(
        &session,
        "PATCH",
        &format!("/api/v2/messages/{id}/tags"),
        Some(&json!({"tags": ["wildlife"], "current_state": {"tags": message["tags"]}})),
    );
    assert_eq!(code, 204, "tagging: {v}");
    let (_, tagged) = server.get(&session, &format!("/api/v2/messages/{id}"));
    assert!(
        tagged["tags"]
            .as_array()
            .unwrap()
            .contains(&json!("wildlife")),
        "{tagged}"
    );

    // Search finds it (once the indexer has caught up).
    let found = server.poll(
        &session,
        "/api/v2/search?term=pangolin",
        Duration::from_secs(30),
        |v| v["messages_hits"]["total"] == 1,
    );
    assert_eq!(
        found["messages_hits"]["messages"][0]["id"],
        id.as_str(),
        "{found}"
    );

    // Answer: a draft replying to it, then the send action.
    let (_, identities) = server.get(&session, "/api/v2/identities/locals");
    let identity = identities["local_identities"][0]["identity_id"].clone();
    let (code, v) = server.call(
        &session,
        "POST",
        "/api/v1/messages",
        Some(&json!({
            "user_identities": [identity],
            "parent_id": id,
            "participants": [],
            "subject": "",
            "body": "Thanks, 42 is good news.",
        })),
    );
    assert_eq!(code, 200, "draft: {v}");
    let location = v["location"].as_str().unwrap().to_owned();
    let (code, v) = server.call(
        &session,
        "POST",
        &format!("{location}/actions"),
        Some(&json!({"actions": ["send"]})),
    );
    assert!(code == 200 || code == 204, "send: {code} {v}");
    let start = std::time::Instant::now();
    while relay.received().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the relay got nothing; log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (envelope, raw) = &relay.received()[0];
    assert_eq!(envelope["rcpt_tos"], json!(["bob@example.org"]));
    let raw = String::from_utf8_lossy(raw);
    assert!(
        raw.contains("In-Reply-To: <pangolin-1@example.org>"),
        "{raw}"
    );
    assert!(raw.contains("Subject: Re: The pangolin report"), "{raw}");
    // The sent copy is in the same discussion; the received one is answered.
    let (_, sent) = server.get(&session, &location);
    assert_eq!(sent["discussion_id"], discussion["discussion_id"], "{sent}");
    assert_eq!(sent["is_draft"], false);
    let (_, original) = server.get(&session, &format!("/api/v2/messages/{id}"));
    assert_eq!(original["is_answered"], true, "{original}");

    // Log out: the device goes, its token with it.
    let (code, v) = server.call(
        &session,
        "DELETE",
        &format!("/api/v2/devices/{}", session.device),
        None,
    );
    assert!(code == 200 || code == 204, "device deletion: {code} {v}");
    let (code, _) = server.get(&session, "/api/v2/messages");
    assert_eq!(code, 401);
}
