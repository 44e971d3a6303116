//! Password reset: the token is mailed to the recovery address (these tests
//! read it from core, as the mail carries it). Statuses and messages from the
//! original's `go/ops/users/user.go` and `fac/users.go` `RequestPasswordReset`,
//! which the web client translates (`web/scenes/ForgotPassword/presenter.jsx`,
//! `web/scenes/ResetPassword/presenter.jsx`).

use crate::common;

use axum::http::StatusCode;
use common::{PASSWORD, TestApp};
use serde_json::json;

#[tokio::test]
async fn compat_d17_a_reset_request_mails_the_token_or_answers_the_originals_errors() {
    let app = TestApp::new().await;
    app.signup("alice").await;
    for body in [
        json!({"username": "alice", "recovery_email": "ALICE@example.org"}),
        json!({"username": "alice"}),
        // Only the recovery address: the account is found by it
        // (`fac/users.go` `RequestPasswordReset`, `cas/users.go` `UserByRecoveryEmail`).
        json!({"recovery_email": "Alice@Example.org"}),
    ] {
        let res = app
            .post("/api/v2/passwords/reset")
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::NO_CONTENT);
        assert!(res.bytes.is_empty());
    }
    let queue = app.core.outbound_queue().await.unwrap();
    let mails: Vec<_> = queue
        .iter()
        .filter(|j| j.recipients == ["alice@example.org"])
        .collect();
    assert_eq!(mails.len(), 3);
    for mail in mails {
        let raw = String::from_utf8(app.core.outbound_raw(mail).await.unwrap()).unwrap();
        assert!(raw.contains("/auth/passwords/reset/"), "{raw}");
    }

    for (body, status, message) in [
        (
            json!({"username": "alice", "recovery_email": "other@example.org"}),
            StatusCode::FAILED_DEPENDENCY,
            Some("[RESTfacility] username and recovery email mismatch"),
        ),
        (
            json!({"username": "nobody", "recovery_email": "alice@example.org"}),
            StatusCode::FAILED_DEPENDENCY,
            Some("[RESTfacility] user not found"),
        ),
        (json!({}), StatusCode::BAD_REQUEST, None),
        (
            json!({"username": "", "recovery_email": ""}),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            json!({"username": "alice", "recovery_email": "nope"}),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            json!({"username": "u".repeat(5000)}),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            json!({"recovery_email": "nobody@example.org"}),
            StatusCode::FAILED_DEPENDENCY,
            Some("[RESTfacility] user not found"),
        ),
        // `a@b.c` is not a prefix match of `alice@example.org`'s entry.
        (
            json!({"recovery_email": "alice@example.or"}),
            StatusCode::FAILED_DEPENDENCY,
            Some("[RESTfacility] user not found"),
        ),
        // Hostile: too long, malformed.
        (
            json!({"recovery_email": format!("{}@example.org", "a".repeat(5000))}),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            json!({"recovery_email": "alice\u{0}@example.org"}),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            json!({"username": "alice", "recovery_email": "alice@example.org", "x": 1}),
            StatusCode::BAD_REQUEST,
            None,
        ),
    ] {
        let res = app
            .post("/api/v2/passwords/reset")
            .json(&body)
            .send()
            .await
            .assert_status(status);
        if let Some(message) = message {
            assert_eq!(res.error_message(), message);
        }
    }
    assert_eq!(app.core.outbound_queue().await.unwrap().len(), 3);
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
            .assert_status(StatusCode::NO_CONTENT);
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
        .json(
            &json!({"username": "alice", "password": PASSWORD, "device": {"device_id": "default"}}),
        )
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
    // A dead token: 424, as `go/ops/users/user.go` `ResetPassword`.
    app.post(&uri)
        .json(&json!({"password": "yet another password"}))
        .send()
        .await
        .assert_status(StatusCode::FAILED_DEPENDENCY);
}
