//! Password reset. The token is not mailed yet (no outbound mail): the request
//! answers 424, and these tests take the token from core, as the mail would.

use crate::common;

use axum::http::StatusCode;
use common::{PASSWORD, TestApp};
use serde_json::json;

#[tokio::test]
async fn a_reset_request_is_checked_then_answered_424() {
    let app = TestApp::new().await;
    app.signup("alice").await;
    let res = app
        .post("/api/v2/passwords/reset")
        .json(&json!({"username": "alice", "recovery_email": "ALICE@example.org"}))
        .send()
        .await
        .assert_status(StatusCode::FAILED_DEPENDENCY);
    assert!(res.error_message().contains("cannot send mail"));
    assert!(!res.text().contains("token\":"), "{}", res.text());

    for (body, status) in [
        (
            json!({"username": "alice", "recovery_email": "other@example.org"}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"username": "nobody", "recovery_email": "alice@example.org"}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"username": "alice", "recovery_email": "nope"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"recovery_email": "alice@example.org"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"username": "alice", "recovery_email": "alice@example.org", "x": 1}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        app.post("/api/v2/passwords/reset")
            .json(&body)
            .send()
            .await
            .assert_status(status);
    }
}

#[tokio::test]
async fn reset_requests_are_rate_limited() {
    let app = TestApp::new().await;
    app.signup("alice").await;
    let body = json!({"username": "alice", "recovery_email": "alice@example.org"});
    for _ in 0..5 {
        app.post("/api/v2/passwords/reset")
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::FAILED_DEPENDENCY);
    }
    app.post("/api/v2/passwords/reset")
        .json(&body)
        .send()
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_reset_token_sets_a_new_password_once_and_ends_sessions() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let reset = app
        .core
        .request_password_reset("alice", "alice@example.org", None)
        .await
        .unwrap();
    let uri = format!("/api/v2/passwords/reset/{}", reset.token);

    app.get(&uri)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get("/api/v2/passwords/reset/made-up")
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    for body in [
        json!({"password": "short"}),
        json!({"password": "long enough", "x": 1}),
        json!({}),
    ] {
        app.post(&uri)
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
    }
    let new = "a brand new password";
    app.post(&uri)
        .json(&json!({"password": new}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);

    app.get("/api/v1/me")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    app.post("/api/v1/authentications")
        .json(&json!({"username": "alice", "password": PASSWORD, "device": {"device_id": "default"}}))
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    app.post("/api/v1/authentications")
        .json(&json!({"username": "alice", "password": new, "device": {"device_id": "default"}}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    // Used up.
    app.get(&uri)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.post(&uri)
        .json(&json!({"password": "yet another password"}))
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}
