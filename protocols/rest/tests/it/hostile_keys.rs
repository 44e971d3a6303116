//! Values longer than any storage key, sent as an attacker would: the critical
//! finding (one unauthenticated password-reset request with a 70,000-character
//! username stopped every write until a restart) and ids no record can have. Each
//! is answered with a 4xx, and the server goes on writing for everyone. Also
//! `GET /health`, unauthenticated and outside the API.

use crate::common;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::json;

const LONG: usize = 70_000;

#[tokio::test]
async fn a_70_000_character_username_at_reset_is_refused_and_writes_go_on() {
    let app = TestApp::new().await;
    app.signup("alice").await;
    let res = app
        .post("/api/v2/passwords/reset")
        .json(&json!({"username": "u".repeat(LONG), "recovery_email": "alice@example.org"}))
        .unchecked()
        .send()
        .await;
    assert!(res.status.is_client_error(), "a 4xx, not {}", res.status);
    // Every write still works: a signup, a login (with its session), a reset.
    app.signup("bob").await;
    app.login("alice", "default").await;
    app.post("/api/v2/passwords/reset")
        .json(&json!({"username": "bob", "recovery_email": "bob@example.org"}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn ids_longer_than_anything_stored_are_not_found() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    // As long as a URI may be (the HTTP layer refuses 64 KiB and more).
    let long = "x".repeat(60_000);
    for uri in [
        format!("/api/v2/tags/{long}"),
        format!("/api/v2/discussions/{long}"),
        format!("/api/v2/raws/{long}"),
    ] {
        let res = app.get(&uri).auth(&alice).unchecked().send().await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", &uri[..20]);
    }
    app.signup("bob").await;
}

#[tokio::test]
async fn health_is_ok_without_credentials() {
    let app = TestApp::new().await;
    let res = app
        .get("/health")
        .unchecked()
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(res.json(), json!({ "status": "ok" }));
}
