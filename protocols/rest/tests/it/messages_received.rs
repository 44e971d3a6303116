//! Received mail through the API: list with range headers, read, the
//! `set_read` / `set_unread` actions, raw mail and attachment download (the
//! part cut out of the raw mail), deletion; another user gets 404 for all of it.

use crate::common;

use axum::http::StatusCode;
use common::{Session, TestApp};
use serde_json::json;

const MAIL: &str = "From: Carol <carol@example.org>
To: {to}
Subject: Quarterly report
Message-ID: <report-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=\"sep\"

--sep
Content-Type: text/plain; charset=utf-8

Here is the report.
--sep
Content-Type: application/octet-stream
Content-Disposition: attachment; filename=\"numbers.bin\"
Content-Transfer-Encoding: base64

AAECA2hlbGxv
--sep--
";

async fn receive(app: &TestApp, to: &Session) -> caliopen_core::model::Message {
    let user = app.core.user(to.user_id).await.unwrap();
    app.deliver(to, &MAIL.replace("{to}", &user.local_identity))
        .await
}

#[tokio::test]
async fn received_mail_read_flags_raw_and_attachment() {
    let app = TestApp::new().await;
    let _delivery = app.start_delivery();
    let alice = app.user("alice").await;
    let stored = receive(&app, &alice).await;
    let location = format!("/api/v2/messages/{}", stored.id);

    let list = app
        .get("/api/v2/messages")
        .auth(&alice)
        .header("x-caliopen-pi", "0;100")
        .header("x-caliopen-il", "-10;10")
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["messages"][0]["subject"], "Quarterly report");
    // min > max is min = max (−5;−5 here, where the message is not), never a
    // 400 (D20, `go.server/operations/helpers.go` `GetImportanceLevel`).
    let narrowed = app
        .get("/api/v2/messages")
        .auth(&alice)
        .header("x-caliopen-il", "5;-5")
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(narrowed["total"], 0, "{narrowed}");

    let m = app.get(&location).auth(&alice).send().await.json();
    assert_eq!(m["is_unread"], true);
    let m = app
        .post(&format!("{location}/actions"))
        .auth(&alice)
        .json(&json!({"actions": ["set_read"]}))
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(m["is_unread"], false);
    let m = app
        .post(&format!("{location}/actions"))
        .auth(&alice)
        .json(&json!({"actions": ["set_unread"]}))
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(m["is_unread"], true);
    // A received message is not a draft: it cannot be patched.
    app.patch(&location.replace("/v2/", "/v1/"))
        .auth(&alice)
        .json(&json!({"subject": "x", "current_state": {"subject": "Quarterly report"}}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);

    let raw_id = m["raw_msg_id"].as_str().unwrap().to_owned();
    let raw = app
        .get(&format!("/api/v1/raws/{raw_id}"))
        .auth(&alice)
        .unchecked()
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert!(raw.text().contains("Message-ID: <report-1@example.org>"));
    assert_eq!(raw.header("content-type").unwrap(), "text/plain");

    let url = m["attachments"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(m["attachments"][0]["file_name"], "numbers.bin");
    let file = app
        .get(&url)
        .auth(&alice)
        .unchecked()
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(file.bytes, b"\x00\x01\x02\x03hello");
    // Attachments of received mail cannot be removed.
    app.delete(&url)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.get(&format!("{location}/attachments/7"))
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);

    app.delete(&location.replace("/v2/", "/v1/"))
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let list = app.get("/api/v2/messages").auth(&alice).send().await.json();
    assert_eq!(list["total"], 0);
    app.get(&format!("/api/v1/raws/{raw_id}"))
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_user_gets_404_for_messages_raws_and_attachments() {
    let app = TestApp::new().await;
    let _delivery = app.start_delivery();
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let stored = receive(&app, &alice).await;
    let location = format!("/api/v2/messages/{}", stored.id);
    let raw = format!("/api/v1/raws/{}", stored.raw_msg_id.clone().unwrap());
    let attachment = format!("{location}/attachments/0");

    let not_found = StatusCode::NOT_FOUND;
    app.get(&location)
        .auth(&bob)
        .send()
        .await
        .assert_status(not_found);
    app.get(&raw)
        .auth(&bob)
        .send()
        .await
        .assert_status(not_found);
    app.get(&attachment)
        .auth(&bob)
        .send()
        .await
        .assert_status(not_found);
    app.delete(&attachment)
        .auth(&bob)
        .send()
        .await
        .assert_status(not_found);
    for action in ["set_read", "set_unread"] {
        app.post(&format!("{location}/actions"))
            .auth(&bob)
            .json(&json!({"actions": [action]}))
            .send()
            .await
            .assert_status(not_found);
    }
    app.patch(&format!("{location}/tags"))
        .auth(&bob)
        .json(&json!({"tags": [], "current_state": {"tags": stored.tags}}))
        .send()
        .await
        .assert_status(not_found);
    app.delete(&location.replace("/v2/", "/v1/"))
        .auth(&bob)
        .send()
        .await
        .assert_status(not_found);
    let bobs = app.get("/api/v2/messages").auth(&bob).send().await.json();
    assert_eq!(bobs["total"], 0);
    app.get("/api/v1/raws/not-a-blob-id")
        .auth(&alice)
        .send()
        .await
        .assert_status(not_found);
    // Untouched for Alice.
    let m = app.get(&location).auth(&alice).send().await.json();
    assert_eq!(m["is_unread"], true);
    app.get(&raw)
        .auth(&alice)
        .unchecked()
        .send()
        .await
        .assert_status(StatusCode::OK);
}
