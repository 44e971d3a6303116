//! Drafts through the API: `POST /v1/messages`, `PATCH|DELETE
//! /v1/messages/{id}`, attachments upload / download / delete, message tags,
//! the `send` action; strict input; another user's drafts are not found.

use crate::common;

use axum::http::StatusCode;
use common::{Session, TestApp};
use serde_json::{Value, json};

/// A draft to `to`; answers its `/api/v2/messages/{id}` location.
async fn draft(app: &TestApp, who: &Session, to: &str, subject: &str) -> String {
    let identity = app.local_identity(who).await;
    let res = app
        .post("/api/v1/messages")
        .auth(who)
        .json(&json!({
            "user_identities": [identity],
            "participants": [{"type": "To", "protocol": "email", "address": to}],
            "subject": subject,
            "body": "Hello there",
        }))
        .send()
        .await
        .assert_status(StatusCode::OK);
    res.json()["location"].as_str().unwrap().to_owned()
}

fn v1(location: &str) -> String {
    location.replace("/api/v2/", "/api/v1/")
}

#[tokio::test]
async fn draft_create_patch_and_delete() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let location = draft(&app, &alice, "bob@example.org", "Plans").await;

    let m = app.get(&location).auth(&alice).send().await;
    let m = m.assert_status(StatusCode::OK).json();
    assert_eq!(m["is_draft"], true);
    assert_eq!(m["subject"], "Plans");
    assert_eq!(m["body"], "Hello there");
    let to: Vec<&Value> = m["participants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "To")
        .collect();
    assert_eq!(to[0]["address"], "bob@example.org");

    app.patch(&v1(&location))
        .auth(&alice)
        .json(&json!({"subject": "New plans", "current_state": {"subject": "Plans"}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let m = app.get(&location).auth(&alice).send().await.json();
    assert_eq!(m["subject"], "New plans");
    let res = app
        .patch(&v1(&location))
        .auth(&alice)
        .json(&json!({"subject": "Stale", "current_state": {"subject": "Plans"}}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    assert!(res.error_message().contains("subject"), "{}", res.text());
    // A key drafts do not take is dropped, as the original did
    // (`patch_draft`, non-strict): nothing to change is a 204 that changes nothing.
    app.patch(&v1(&location))
        .auth(&alice)
        .json(&json!({"is_unread": true, "current_state": {"is_unread": false}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let unchanged = app.get(&location).auth(&alice).send().await.json();
    assert_eq!(unchanged, m);

    // Tags of a message.
    app.patch(&format!("{location}/tags"))
        .auth(&alice)
        .json(&json!({"tags": ["important"], "current_state": {"tags": m["tags"]}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let m = app.get(&location).auth(&alice).send().await.json();
    assert_eq!(m["tags"], json!(["important"]));

    app.delete(&v1(&location))
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get(&location)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_drafts_are_refused_with_the_field() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let identity = app.local_identity(&alice).await;
    for (body, needle) in [
        (json!({"subject": "no identity"}), "user_identities"),
        (json!({"user_identities": ["nope"]}), "user_identities[0]"),
        (
            json!({"user_identities": [identity], "participants": [{"type": "Boss", "protocol": "email", "address": "a@example.org"}]}),
            "participants",
        ),
        (
            json!({"user_identities": [identity], "privacy_features": {"x": {"y": 1}}}),
            "privacy_features.x",
        ),
        (
            json!({"user_identities": [identity], "privacy_features": {"x": "y".repeat(300)}}),
            "privacy_features.x",
        ),
        (
            json!({"user_identities": [identity], "parent_id": "x"}),
            "parent_id",
        ),
    ] {
        let res = app
            .post("/api/v1/messages")
            .auth(&alice)
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
        assert!(
            res.error_message().contains(needle),
            "{body}: {}",
            res.text()
        );
    }
    let res = app
        .post("/api/v1/messages")
        .auth(&alice)
        .body(b"{not json".to_vec(), "application/json")
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert!(!res.error_message().is_empty());
    let location = draft(&app, &alice, "bob@example.org", "Hi").await;
    let res = app
        .post(&format!("{location}/actions"))
        .auth(&alice)
        .json(&json!({"actions": ["explode"]}))
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert!(res.error_message().contains("explode"), "{}", res.text());
    app.post(&format!("{location}/actions"))
        .auth(&alice)
        .json(&json!({"actions": []}))
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    // A draft cannot be marked unread.
    app.post(&format!("{location}/actions"))
        .auth(&alice)
        .json(&json!({"actions": ["set_unread"]}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn send_without_a_renderer_is_a_typed_error() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let location = draft(&app, &alice, "bob@example.org", "To send").await;
    let res = app
        .post(&format!("{location}/actions"))
        .auth(&alice)
        .json(&json!({"actions": ["send"]}))
        .send()
        .await
        .assert_status(StatusCode::NOT_IMPLEMENTED);
    assert!(res.error_message().contains("renders"), "{}", res.text());
    // Still a draft.
    let m = app.get(&location).auth(&alice).send().await.json();
    assert_eq!(m["is_draft"], true);
}

#[tokio::test]
async fn send_turns_the_draft_into_a_queued_message() {
    let app = TestApp::new().await;
    app.render_outbound_mail();
    let alice = app.user("alice").await;
    let location = draft(&app, &alice, "bob@example.org", "Sent for real").await;
    let m = app
        .post(&format!("{location}/actions"))
        .auth(&alice)
        .json(&json!({"actions": ["send"]}))
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(m["is_draft"], false);
    let raw = format!("/api/v1/raws/{}", m["raw_msg_id"].as_str().unwrap());
    let raw = app
        .get(&raw)
        .auth(&alice)
        .unchecked()
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert!(
        raw.text().contains("Subject: Sent for real"),
        "{}",
        raw.text()
    );
    // Sent: no longer a draft to change or send again.
    app.patch(&v1(&location))
        .auth(&alice)
        .json(&json!({"subject": "x", "current_state": {"subject": "Sent for real"}}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.post(&format!("{location}/actions"))
        .auth(&alice)
        .json(&json!({"actions": ["send"]}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    // A draft without recipients cannot be sent.
    let identity = app.local_identity(&alice).await;
    let res = app
        .post("/api/v1/messages")
        .auth(&alice)
        .json(&json!({"user_identities": [identity], "subject": "nobody", "body": "x"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let lonely = res.json()["location"].as_str().unwrap().to_owned();
    let res = app
        .post(&format!("{lonely}/actions"))
        .auth(&alice)
        .json(&json!({"actions": ["send"]}))
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert!(res.error_message().contains("recipient"), "{}", res.text());
}

#[tokio::test]
async fn attachments_upload_download_delete() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let location = draft(&app, &alice, "bob@example.org", "With a file").await;
    let attachments = format!("{location}/attachments");
    let data = b"%PDF-1.4 not really a pdf\x00\x01\x02";

    let res = app
        .post(&attachments)
        .auth(&alice)
        .multipart("attachment", "report.pdf", "application/pdf", data)
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let temp_id = res.json()["temp_id"].as_str().unwrap().to_owned();
    let m = app.get(&location).auth(&alice).send().await.json();
    assert_eq!(m["attachments"][0]["file_name"], "report.pdf");
    let url = m["attachments"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("{attachments}/{temp_id}"));

    let res = app
        .get(&url)
        .auth(&alice)
        .unchecked()
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(res.bytes, data);
    assert_eq!(res.header("content-type").unwrap(), "application/pdf");
    assert!(
        res.header("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("report.pdf")
    );

    // No file field; not multipart; an empty file.
    let res = app
        .post(&attachments)
        .auth(&alice)
        .multipart("other", "x.txt", "text/plain", b"x")
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert!(res.error_message().contains("attachment"));
    app.post(&attachments)
        .auth(&alice)
        .json(&json!({}))
        .send()
        .await
        .assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    app.post(&attachments)
        .auth(&alice)
        .multipart("attachment", "empty.txt", "text/plain", b"")
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);

    app.delete(&url)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get(&url)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.delete(&url)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn attachments_above_the_json_limit_pass_and_too_large_ones_are_413() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let location = draft(&app, &alice, "bob@example.org", "Big files").await;
    let attachments = format!("{location}/attachments");
    let two_mib = vec![7u8; 2 * 1024 * 1024];
    app.post(&attachments)
        .auth(&alice)
        .multipart(
            "attachment",
            "big.bin",
            "application/octet-stream",
            &two_mib,
        )
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let too_large = vec![7u8; 26 * 1024 * 1024];
    let res = app
        .post(&attachments)
        .auth(&alice)
        .multipart(
            "attachment",
            "huge.bin",
            "application/octet-stream",
            &too_large,
        )
        .send()
        .await
        .assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.error_message().contains("at most"), "{}", res.text());
}

#[tokio::test]
async fn another_users_drafts_and_attachments_are_not_found() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let location = draft(&app, &alice, "carol@example.org", "Private").await;
    let res = app
        .post(&format!("{location}/attachments"))
        .auth(&alice)
        .multipart("attachment", "a.txt", "text/plain", b"secret")
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let url = format!(
        "{location}/attachments/{}",
        res.json()["temp_id"].as_str().unwrap()
    );

    let not_found = StatusCode::NOT_FOUND;
    app.get(&location)
        .auth(&bob)
        .send()
        .await
        .assert_status(not_found);
    app.patch(&v1(&location))
        .auth(&bob)
        .json(&json!({"subject": "x", "current_state": {"subject": "Private"}}))
        .send()
        .await
        .assert_status(not_found);
    app.patch(&format!("{location}/tags"))
        .auth(&bob)
        .json(&json!({"tags": [], "current_state": {"tags": []}}))
        .send()
        .await
        .assert_status(not_found);
    app.post(&format!("{location}/actions"))
        .auth(&bob)
        .json(&json!({"actions": ["set_read"]}))
        .send()
        .await
        .assert_status(not_found);
    app.post(&format!("{location}/attachments"))
        .auth(&bob)
        .multipart("attachment", "b.txt", "text/plain", b"mine")
        .send()
        .await
        .assert_status(not_found);
    app.get(&url)
        .auth(&bob)
        .unchecked()
        .send()
        .await
        .assert_status(not_found);
    app.delete(&url)
        .auth(&bob)
        .send()
        .await
        .assert_status(not_found);
    app.delete(&v1(&location))
        .auth(&bob)
        .send()
        .await
        .assert_status(not_found);
    // Alice's identity is not found for Bob.
    let alices = app.local_identity(&alice).await;
    app.post("/api/v1/messages")
        .auth(&bob)
        .json(&json!({"user_identities": [alices], "subject": "x"}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // Everything still there for Alice.
    let m = app.get(&location).auth(&alice).send().await.json();
    assert_eq!(m["subject"], "Private");
    app.get(&url)
        .auth(&alice)
        .unchecked()
        .send()
        .await
        .assert_status(StatusCode::OK);
}
