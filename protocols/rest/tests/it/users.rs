//! Users: signup, `/me`, password change, account deletion, username
//! availability, settings; and the authentication around them (Basic and
//! Bearer, expiry, login rate limiting, body size limit).

use crate::common;

use std::time::Duration;

use axum::http::StatusCode;
use caliopen_core::CoreConfig;
use common::{PASSWORD, TestApp};
use serde_json::json;

fn signup_body(username: &str) -> serde_json::Value {
    json!({
        "username": username,
        "password": PASSWORD,
        "recovery_email": "someone@example.org",
    })
}

#[tokio::test]
async fn signup_answers_a_location_and_me_describes_the_user() {
    let app = TestApp::new().await;
    let res = app
        .post("/api/v1/users")
        .json(&json!({
            "username": "Alice.Liddell",
            "password": PASSWORD,
            "recovery_email": "Alice@Example.org",
            "tos": true,
            "privacy": true,
            "contact": {"given_name": "Alice", "family_name": "Liddell", "emails": []},
            "settings": {"default_locale": "en-GB"},
            "device": {"device_id": "laptop", "ecdsa_key": {"curve": "P-256", "x": "1", "y": "2"}},
        }))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let location = res.json()["location"].as_str().unwrap().to_owned();
    assert!(location.starts_with("/api/v2/users/"), "{location}");

    let alice = app.login("alice.liddell", "laptop").await;
    assert_eq!(location, format!("/api/v2/users/{}", alice.user_id));
    let me = app
        .get("/api/v1/me")
        .auth(&alice)
        .header("x-caliopen-pi", "0;100")
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(me["user_id"], alice.user_id.to_string());
    // `name` is the username, as the original's `/me` (`py/user/user.py`).
    assert_eq!(me["name"], "Alice.Liddell");
    assert_eq!(me["given_name"], "Alice");
    assert_eq!(me["recovery_email"], "alice@example.org");
    assert!(me.get("password").is_none());
    assert_eq!(me["contact"]["given_name"], "Alice");
    assert_eq!(
        me["contact"]["emails"][0]["address"],
        "alice.liddell@caliopen.local"
    );
    let settings = app
        .get("/api/v1/settings")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(settings["default_locale"], "en-GB");
    assert_eq!(settings["message_display_format"], "rich_text");
}

#[tokio::test]
async fn signup_refuses_bad_input_naming_the_field() {
    let app = TestApp::new().await;
    let cases = [
        (
            json!({"username": "al", "password": PASSWORD, "recovery_email": "a@example.org"}),
            "username",
        ),
        (
            json!({"username": "al ice", "password": PASSWORD, "recovery_email": "a@example.org"}),
            "username",
        ),
        (
            json!({"username": "postmaster", "password": PASSWORD, "recovery_email": "a@example.org"}),
            "username",
        ),
        (
            json!({"username": "alice", "password": "short", "recovery_email": "a@example.org"}),
            "password",
        ),
        (
            json!({"username": "alice", "password": PASSWORD, "recovery_email": "nope"}),
            "recovery_email",
        ),
        (
            json!({"username": "alice", "password": PASSWORD}),
            "recovery_email",
        ),
        (
            json!({"username": "alice", "password": PASSWORD, "recovery_email": "a@example.org", "admin": true}),
            "admin",
        ),
        (
            json!({"username": "alice", "password": PASSWORD, "recovery_email": "a@example.org", "tos": "yes"}),
            "tos",
        ),
        (
            json!({"username": "alice", "password": PASSWORD, "recovery_email": "a@example.org",
                "contact": {"given_name": "A", "nickname": "x"}}),
            "contact.nickname",
        ),
        (
            json!({"username": "alice", "password": PASSWORD, "recovery_email": "a@example.org",
                "contact": {"emails": [{"address": "b@example.org"}]}}),
            "contact.emails",
        ),
        (
            json!({"username": "alice", "password": PASSWORD, "recovery_email": "a@example.org",
                "settings": {"message_display_format": "blink"}}),
            "settings.message_display_format",
        ),
        (
            json!({"username": "alice", "password": PASSWORD, "recovery_email": "a@example.org",
                "settings": {"colour": "red"}}),
            "colour",
        ),
    ];
    for (body, field) in cases {
        let res = app
            .post("/api/v1/users")
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
        assert!(
            res.error_message().contains(field),
            "{field} not named in `{}` for {body}",
            res.error_message()
        );
    }
    let res = app
        .post("/api/v1/users")
        .body(b"{not json".to_vec(), "application/json")
        .send()
        .await;
    res.assert_status(StatusCode::BAD_REQUEST);
    // Nothing was created by the refused attempts.
    assert!(app.core.user_by_name("alice").await.unwrap().is_none());
}

#[tokio::test]
async fn a_taken_username_is_a_conflict_whatever_its_case() {
    let app = TestApp::new().await;
    app.signup("alice").await;
    let res = app
        .post("/api/v1/users")
        .json(&signup_body("ALICE"))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    assert!(
        res.error_message().contains("taken"),
        "{}",
        res.error_message()
    );
}

#[tokio::test]
async fn username_availability() {
    let app = TestApp::new().await;
    app.signup("alice").await;
    for (name, available) in [
        ("alice", false),
        ("Alice", false),
        ("bob", true),
        ("a", false),
        ("root", false),
    ] {
        let body = app
            .get(&format!("/api/v2/username/isAvailable?username={name}"))
            .send()
            .await
            .assert_status(StatusCode::OK)
            .json();
        assert_eq!(body, json!({"username": name, "available": available}));
    }
    for uri in [
        "/api/v2/username/isAvailable",
        "/api/v2/username/isAvailable?username=",
    ] {
        let res = app
            .get(uri)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(res.json()["available"], false);
    }
}

#[tokio::test]
async fn basic_and_bearer_credentials_work_and_bad_ones_do_not() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    for authorization in [alice.bearer(), alice.basic()] {
        app.get("/api/v1/me")
            .header("authorization", &authorization)
            .header("x-caliopen-device-id", "default")
            .send()
            .await
            .assert_status(StatusCode::OK);
    }
    // No header, garbage, a token on another device, a wrong token.
    app.get("/api/v1/me")
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    app.get("/api/v1/me")
        .header("authorization", "Bearer !!!")
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    app.get("/api/v1/me")
        .header("authorization", &alice.bearer())
        .header("x-caliopen-device-id", "elsewhere")
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let mut forged = alice.clone();
    forged.access_token = "forged".into();
    let res = app
        .get("/api/v1/me")
        .auth(&forged)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    assert!(res.header("www-authenticate").is_some());
}

#[tokio::test]
async fn tokens_expire() {
    let app = TestApp::with_config(CoreConfig {
        token_ttl: Duration::from_secs(1),
        ..CoreConfig::default()
    })
    .await;
    let alice = app.user("alice").await;
    app.get("/api/v1/me")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    app.get("/api/v1/me")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn failed_logins_are_rate_limited() {
    let app = TestApp::with_config(CoreConfig {
        login_attempts: 3,
        ..CoreConfig::default()
    })
    .await;
    app.signup("alice").await;
    let attempt = |password: &'static str| {
        app.post("/api/v1/authentications")
            .json(&json!({"username": "alice", "password": password, "device": {"device_id": "default"}}))
            .send()
    };
    attempt("wrong one")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    attempt("wrong two")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    attempt("wrong three")
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
    // Blocked, even with the right password, for the window.
    attempt(PASSWORD)
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::new().await;
    let mut body = signup_body("alice");
    body["password"] = json!("x".repeat(caliopen_rest::BODY_LIMIT + 1));
    app.post("/api/v1/users")
        .json(&body)
        .send()
        .await
        .assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    let alice = app.user("alice").await;
    app.patch("/api/v1/settings")
        .auth(&alice)
        .json(&json!({"default_locale": "x".repeat(2 * caliopen_rest::BODY_LIMIT)}))
        .send()
        .await
        .assert_status(StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_user_changes_their_password() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let uri = format!("/api/v2/users/{}", alice.user_id);
    let new = "a brand new password";

    let res = app
        .patch(&uri)
        .auth(&alice)
        .json(&json!({"password": new, "current_state": {"password": "not it"}}))
        .send()
        .await
        .assert_status(StatusCode::FAILED_DEPENDENCY);
    // `go/ops/users/user.go` `PatchUser` over `users/password.go`.
    assert_eq!(res.error_message(), "old password is incorrect");
    for (body, field) in [
        (json!({"password": new}), "current_state"),
        (
            json!({"password": new, "current_state": {"password": PASSWORD}, "name": "x"}),
            "name",
        ),
        (
            json!({"password": "short", "current_state": {"password": PASSWORD}}),
            "new_password",
        ),
    ] {
        let res = app
            .patch(&uri)
            .auth(&alice)
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
        assert!(
            res.error_message().contains(field),
            "{}",
            res.error_message()
        );
    }
    app.patch(&uri)
        .auth(&alice)
        .json(&json!({"password": new, "current_state": {"password": PASSWORD}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let device = json!({"device_id": "default"});
    app.post("/api/v1/authentications")
        .json(&json!({"username": "alice", "password": PASSWORD, "device": device}))
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    app.post("/api/v1/authentications")
        .json(&json!({"username": "alice", "password": new, "device": device}))
        .send()
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn users_act_on_their_own_id_only() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let patch =
        json!({"password": "a brand new password", "current_state": {"password": PASSWORD}});
    let delete = json!({"actions": ["delete"], "params": {"password": PASSWORD}});
    for id in [
        alice.user_id.to_string(),
        uuid::Uuid::now_v7().to_string(),
        "me".into(),
    ] {
        app.patch(&format!("/api/v2/users/{id}"))
            .auth(&bob)
            .json(&patch)
            .send()
            .await
            .assert_status(StatusCode::FORBIDDEN);
        app.post(&format!("/api/v2/users/{id}/actions"))
            .auth(&bob)
            .json(&delete)
            .send()
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
    // Alice is untouched.
    app.get("/api/v1/me")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.login("alice", "again").await;
}

#[tokio::test]
async fn a_user_deletes_their_account() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let uri = format!("/api/v2/users/{}/actions", alice.user_id);
    let cases = [
        (
            json!({"actions": ["delete"]}),
            StatusCode::BAD_REQUEST,
            "params.password",
        ),
        (
            json!({"actions": ["delete"], "params": {"password": PASSWORD, "force": true}}),
            StatusCode::BAD_REQUEST,
            "params.force",
        ),
        (json!({"actions": []}), StatusCode::BAD_REQUEST, "actions"),
        (
            json!({"actions": ["explode"]}),
            StatusCode::BAD_REQUEST,
            "actions",
        ),
        (
            json!({"actions": ["set_read"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "set_read",
        ),
        (
            json!({"actions": ["delete"], "params": {"password": "wrong password"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "params.password",
        ),
    ];
    for (body, status, needle) in cases {
        let res = app
            .post(&uri)
            .auth(&alice)
            .json(&body)
            .send()
            .await
            .assert_status(status);
        assert!(
            res.error_message().contains(needle),
            "{}",
            res.error_message()
        );
    }
    app.post(&uri)
        .auth(&alice)
        .json(&json!({"actions": ["delete"], "params": {"password": PASSWORD}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    // The session ends, the login fails, the name is free again.
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
    let body = app
        .get("/api/v2/username/isAvailable?username=alice")
        .send()
        .await
        .json();
    assert_eq!(body["available"], true);
}

#[tokio::test]
async fn settings_are_patched_against_their_current_state() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let patch = |body: serde_json::Value| {
        app.patch("/api/v1/settings")
            .auth(&alice)
            .json(&body)
            .send()
    };

    patch(json!({
        "message_display_format": "plain_text",
        "notification_delay_disappear": 30,
        "current_state": {"message_display_format": "rich_text", "notification_delay_disappear": 10},
    }))
    .await
    .assert_status(StatusCode::NO_CONTENT);
    let settings = app.get("/api/v1/settings").auth(&alice).send().await.json();
    assert_eq!(settings["message_display_format"], "plain_text");
    assert_eq!(settings["notification_delay_disappear"], 30);

    // A stale view is a conflict; bad fields and values are named.
    patch(json!({"default_locale": "en-US", "current_state": {"default_locale": "de-DE"}}))
        .await
        .assert_status(StatusCode::CONFLICT);
    for (body, field) in [
        (json!({"default_locale": "en-US"}), "current_state"),
        (
            json!({"colour": "red", "current_state": {"colour": "blue"}}),
            "colour",
        ),
        (
            json!({"notification_enabled": "yes", "current_state": {"notification_enabled": true}}),
            "notification_enabled",
        ),
        (
            json!({"message_display_format": "blink", "current_state": {"message_display_format": "plain_text"}}),
            "message_display_format",
        ),
    ] {
        let res = patch(body).await.assert_status(StatusCode::BAD_REQUEST);
        assert!(
            res.error_message().contains(field),
            "{}",
            res.error_message()
        );
    }
    app.get("/api/v1/settings")
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}
