//! Attacks on sessions: a stolen session surviving a password change, guessing the
//! current password on `PATCH /v2/users/{id}`, a new (unverified) device throwing
//! the owner's devices out, tokens readable from the store's files; and what must
//! work: refresh tokens. Every answer carries the security headers.

use crate::common;

use std::path::Path;

use axum::http::StatusCode;
use caliopen_core::CoreConfig;
use common::{PASSWORD, Session, TestApp};
use serde_json::{Value, json};

/// Logs `username` in on `device_id`; the whole answer.
async fn login(app: &TestApp, username: &str, device_id: &str) -> (Session, Value) {
    let body = app
        .post("/api/v1/authentications")
        .json(&json!({"username": username, "password": PASSWORD, "device": {"device_id": device_id}}))
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    let session = Session {
        user_id: body["user_id"].as_str().unwrap().parse().unwrap(),
        username: username.to_owned(),
        device_id: device_id.to_owned(),
        access_token: body["tokens"]["access_token"].as_str().unwrap().to_owned(),
    };
    (session, body)
}

async fn me(app: &TestApp, session: &Session) -> StatusCode {
    app.get("/api/v1/me").auth(session).send().await.status
}

async fn refresh(app: &TestApp, session: &Session, refresh_token: &str) -> (StatusCode, Value) {
    let res = app
        .post("/api/v1/authentications/refresh")
        .header("x-caliopen-device-id", &session.device_id)
        .json(&json!({"user_id": session.user_id, "refresh_token": refresh_token}))
        .unchecked()
        .send()
        .await;
    let body = if res.status == StatusCode::OK {
        res.json()
    } else {
        Value::Null
    };
    (res.status, body)
}

#[tokio::test]
async fn a_refresh_token_gives_new_tokens_once() {
    let app = TestApp::new().await;
    app.signup("alice").await;
    let (old, body) = login(&app, "alice", "laptop").await;
    let first_refresh = body["tokens"]["refresh_token"].as_str().unwrap().to_owned();

    let (status, body) = refresh(&app, &old, &first_refresh).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user_id"], old.user_id.to_string());
    assert_eq!(body["device"]["device_id"], "laptop");
    let new = Session {
        access_token: body["tokens"]["access_token"].as_str().unwrap().to_owned(),
        ..old.clone()
    };
    assert_ne!(new.access_token, old.access_token);
    assert_eq!(me(&app, &new).await, StatusCode::OK);
    assert_eq!(me(&app, &old).await, StatusCode::UNAUTHORIZED, "replaced");

    // Used up; the new one works, on its own device only.
    let (status, _) = refresh(&app, &old, &first_refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let second = body["tokens"]["refresh_token"].as_str().unwrap().to_owned();
    let elsewhere = Session {
        device_id: "phone".into(),
        ..new.clone()
    };
    let (status, _) = refresh(&app, &elsewhere, &second).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = refresh(&app, &new, &second).await;
    assert_eq!(status, StatusCode::OK);
}

async fn change_password(
    app: &TestApp,
    session: &Session,
    ip: &str,
    current: &str,
    new: &str,
) -> common::TestResponse {
    app.patch(&format!("/api/v2/users/{}", session.user_id))
        .auth(session)
        .from(ip)
        .json(&json!({"password": new, "current_state": {"password": current}}))
        .send()
        .await
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions() {
    let app = TestApp::new().await;
    app.signup("alice").await;
    let (laptop, _) = login(&app, "alice", "laptop").await;
    let (stolen, body) = login(&app, "alice", "thief").await;
    let stolen_refresh = body["tokens"]["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(me(&app, &stolen).await, StatusCode::OK);

    change_password(
        &app,
        &laptop,
        "198.51.100.7",
        PASSWORD,
        "a new secret of alice",
    )
    .await
    .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(me(&app, &stolen).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh(&app, &stolen, &stolen_refresh).await.0,
        StatusCode::UNAUTHORIZED,
        "the other session cannot come back with its refresh token"
    );
    assert_eq!(
        me(&app, &laptop).await,
        StatusCode::OK,
        "the changer's own session goes on"
    );
    app.post("/api/v1/authentications")
        .json(&json!({"username": "alice", "password": "a new secret of alice", "device": {"device_id": "default"}}))
        .send()
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn guessing_the_current_password_is_throttled_as_logins_are() {
    let app = TestApp::with_config(CoreConfig {
        login_attempts: 3,
        ..CoreConfig::default()
    })
    .await;
    let alice = app.user("alice").await;
    let thief = "203.0.113.66";
    for guess in ["guess one", "guess two"] {
        // A wrong current password is the original's 424 (`go/ops/users/user.go`).
        change_password(&app, &alice, thief, guess, "taken over!")
            .await
            .assert_status(StatusCode::FAILED_DEPENDENCY);
    }
    let res = change_password(&app, &alice, thief, "guess three", "taken over!").await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text());
    assert!(res.header("retry-after").is_some());
    // The right one is refused too from there, for the window...
    change_password(&app, &alice, thief, PASSWORD, "taken over!")
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
    // ... and the account deletion's password check counts the same way.
    let res = app
        .post(&format!("/api/v2/users/{}/actions", alice.user_id))
        .auth(&alice)
        .from(thief)
        .json(&json!({"actions": ["delete"], "params": {"password": PASSWORD}}))
        .unchecked()
        .send()
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    change_password(
        &app,
        &alice,
        "198.51.100.7",
        PASSWORD,
        "a new secret of alice",
    )
    .await
    .assert_status(StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn an_unverified_device_cannot_revoke_the_verified_one() {
    let app = TestApp::new().await;
    app.signup("alice").await;
    let (owner, body) = login(&app, "alice", "laptop").await;
    assert_eq!(body["device"]["status"], "verified");
    let (thief, body) = login(&app, "alice", "thief-phone").await;
    assert_eq!(body["device"]["status"], "unverified");

    let res = app
        .delete("/api/v2/devices/laptop")
        .auth(&thief)
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert!(
        res.error_message().contains("not verified"),
        "{}",
        res.text()
    );
    assert_eq!(me(&app, &owner).await, StatusCode::OK);

    // The verified device revokes the other; an unverified one may leave.
    app.delete("/api/v2/devices/thief-phone")
        .auth(&owner)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(me(&app, &thief).await, StatusCode::UNAUTHORIZED);
    let (other, _) = login(&app, "alice", "tablet").await;
    app.delete("/api/v2/devices/tablet")
        .auth(&other)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
}

/// Whether any file under `dir` holds `needle`.
fn stored(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().any(|entry| {
        let path = entry.unwrap().path();
        if path.is_dir() {
            stored(&path, needle)
        } else {
            std::fs::read(&path)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        }
    })
}

#[tokio::test]
async fn the_store_keeps_no_token_in_clear() {
    let app = TestApp::new().await;
    app.signup("alice").await;
    let (session, body) = login(&app, "alice", "device-7d1f3c9a").await;
    let refresh_token = body["tokens"]["refresh_token"].as_str().unwrap();
    // What was written is in the files (the device's record names it)...
    assert!(stored(app.dir.path(), b"device-7d1f3c9a"));
    // ... but not the tokens a thief of the files could use.
    assert!(!stored(app.dir.path(), session.access_token.as_bytes()));
    assert!(!stored(app.dir.path(), refresh_token.as_bytes()));
    assert_eq!(me(&app, &session).await, StatusCode::OK);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let answers = [
        app.get("/api/v1/me").auth(&alice).send().await,
        app.get("/api/v2/username/isAvailable?username=bob")
            .send()
            .await,
        app.get("/api/v1/me").send().await,
        app.get("/api/v2/no-such-route").send().await,
        app.get("/api/docs").send().await,
    ];
    for res in answers {
        let header = |name: &str| {
            res.header(name)
                .unwrap_or_else(|| panic!("{} {}: no {name}", res.method, res.uri))
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("x-frame-options"), "DENY");
        assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
        assert_eq!(header("referrer-policy"), "no-referrer");
        assert_eq!(header("cache-control"), "no-store");
    }
}
