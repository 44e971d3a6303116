//! `/v2/discussions` (list, read, tags) and `POST /v2/participants/discussion`:
//! messages among the same people make one discussion; another user's
//! discussions are not found.

use crate::common;

use axum::http::StatusCode;
use common::{Session, TestApp};
use serde_json::json;

async fn mail_from_carol(
    app: &TestApp,
    to: &Session,
    subject: &str,
) -> caliopen_core::model::Message {
    let user = app.core.user(to.user_id).await.unwrap();
    let raw = format!(
        "From: Carol <carol@example.org>\nTo: {}\nSubject: {subject}\nMessage-ID: <{}@example.org>\n\nHello.\n",
        user.local_identity,
        subject.replace(' ', "-"),
    );
    app.deliver(to, &raw).await
}

#[tokio::test]
async fn messages_among_the_same_people_make_one_discussion() {
    let app = TestApp::new().await;
    let _delivery = app.start_delivery();
    let alice = app.user("alice").await;
    let first = mail_from_carol(&app, &alice, "First").await;
    let second = mail_from_carol(&app, &alice, "Second").await;
    assert_eq!(first.discussion_id, second.discussion_id);

    let list = app
        .get("/api/v2/discussions?limit=10")
        .auth(&alice)
        .header("x-caliopen-pi", "0;100")
        .header("x-caliopen-il", "-10;10")
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(list["total"], 1, "{list}");
    let d = &list["discussions"][0];
    assert_eq!(d["discussion_id"], first.discussion_id);
    assert_eq!(d["total_count"], 2);
    assert_eq!(d["unread_count"], 2);
    assert_eq!(d["last_message_subject"], "Second");

    let uri = format!("/api/v2/discussions/{}", first.discussion_id);
    let d = app
        .get(&uri)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(d["last_message_id"], second.id.to_string());
    let messages = app
        .get(&format!(
            "/api/v2/messages?discussion_id={}",
            first.discussion_id
        ))
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(messages["total"], 2);

    // Tags on the whole discussion (the web client's route).
    app.patch(&format!("{uri}/tags"))
        .auth(&alice)
        .json(&json!({"tags": ["important"], "current_state": {"tags": d["tags"]}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let m = app
        .get(&format!("/api/v2/messages/{}", first.id))
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(m["tags"], json!(["important"]));
    app.patch(&format!("{uri}/tags"))
        .auth(&alice)
        .json(&json!({"tags": [], "current_state": {"tags": ["inbox"]}}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);

    // The discussion these participants make is that one.
    let found = app
        .post("/api/v2/participants/discussion")
        .auth(&alice)
        .json(&json!([{"type": "From", "protocol": "email", "address": "carol@example.org"}]))
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(found["discussion_id"], first.discussion_id);
    assert_eq!(found["hash"], first.discussion_id);
    let other = app
        .post("/api/v2/participants/discussion")
        .auth(&alice)
        .json(&json!([{"type": "To", "protocol": "email", "address": "dave@example.org"}]))
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    // No such discussion: `""`, as the original (go/ops/participants/discussion.go).
    assert_eq!(other["discussion_id"], "", "{other}");
    assert_ne!(other["hash"], first.discussion_id);
}

#[tokio::test]
async fn bad_requests_are_typed() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    for (uri, needle) in [
        // An unknown parameter (`page`) is ignored, as the original did (D18).
        ("/api/v2/discussions?limit=-1", "limit"),
    ] {
        let res = app
            .get(uri)
            .auth(&alice)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
        assert!(
            res.error_message().contains(needle),
            "{uri}: {}",
            res.text()
        );
    }
    // A malformed range header is its default range, never a 400 (D20,
    // `go.server/operations/helpers.go`).
    app.get("/api/v2/discussions")
        .auth(&alice)
        .header("x-caliopen-pi", "0-100")
        .send()
        .await
        .assert_status(StatusCode::OK);
    for body in [
        json!([]),
        json!([{"type": "Boss", "protocol": "email", "address": "a@example.org"}]),
        json!({"a": 1}),
    ] {
        let res = app
            .post("/api/v2/participants/discussion")
            .auth(&alice)
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
        assert!(!res.error_message().is_empty());
    }
}

#[tokio::test]
async fn another_users_discussions_are_not_found() {
    let app = TestApp::new().await;
    let _delivery = app.start_delivery();
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let m = mail_from_carol(&app, &alice, "Private talk").await;
    let uri = format!("/api/v2/discussions/{}", m.discussion_id);

    app.get(&uri)
        .auth(&bob)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.patch(&format!("{uri}/tags"))
        .auth(&bob)
        .json(&json!({"tags": [], "current_state": {"tags": m.tags}}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let list = app
        .get("/api/v2/discussions")
        .auth(&bob)
        .send()
        .await
        .json();
    assert_eq!(list["total"], 0);
    let found = app
        .post("/api/v2/participants/discussion")
        .auth(&bob)
        .json(&json!([{"type": "From", "protocol": "email", "address": "carol@example.org"}]))
        .send()
        .await
        .json();
    assert_eq!(found["discussion_id"], "", "{found}");
    let messages = app
        .get(&format!(
            "/api/v2/messages?discussion_id={}",
            m.discussion_id
        ))
        .auth(&bob)
        .send()
        .await
        .json();
    assert_eq!(messages["total"], 0);
}
