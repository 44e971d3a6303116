//! Local and remote identities.

use crate::common;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::{Value, json};

fn new_remote() -> Value {
    json!({
        "identifier": "Alice@Elsewhere.example",
        "protocol": "email",
        "type": "remote",
        "display_name": "Alice elsewhere",
        "credentials": {"username": "alice", "password": "s3cret", "inserver": "imap.elsewhere.example"},
        "infos": {"provider": "elsewhere"},
    })
}

#[tokio::test]
async fn every_user_has_one_local_identity() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let body = app
        .get("/api/v2/identities/locals")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(body["total"], 1);
    let local = &body["local_identities"][0];
    assert_eq!(local["identifier"], "alice@caliopen.local");
    assert_eq!(local["type"], "local");
    assert_eq!(local["user_id"], alice.user_id.to_string());
    app.get("/api/v2/identities/locals")
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn remote_identities_lifecycle_with_masked_secrets() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let created = app
        .post("/api/v2/identities/remotes")
        .auth(&alice)
        .json(&new_remote())
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    let id = created["identifier"].as_str().unwrap().to_owned();
    let location = created["location"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v2/identities/remotes/{id}"));

    let identity = app
        .get(&location)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(identity["identity_id"], id.as_str());
    assert_eq!(identity["identifier"], "alice@elsewhere.example");
    assert_eq!(identity["status"], "active");
    assert_eq!(identity["credentials"]["username"], "alice");
    assert_eq!(identity["credentials"]["password"], "********");
    assert!(
        !app.get(&location)
            .auth(&alice)
            .send()
            .await
            .text()
            .contains("s3cret")
    );

    let list = app
        .get("/api/v2/identities/remotes")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["remote_identities"][0]["identity_id"], id.as_str());
    let pending = app
        .get("/api/v2/identities/remotes?pending=true")
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(pending, json!({"total": 0, "remote_identities": []}));

    // The same address twice: 422 with the original's entry of code 6 (see
    // `compat_d09_*`).
    app.post("/api/v2/identities/remotes")
        .auth(&alice)
        .json(&new_remote())
        .send()
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);

    // A patch that sends the mask back keeps the secret.
    app.patch(&location)
        .auth(&alice)
        .json(&json!({
            "display_name": "Work",
            "status": "inactive",
            "credentials": {"username": "alice2", "password": "********", "inserver": "imap.elsewhere.example"},
            "current_state": {
                "display_name": "Alice elsewhere",
                "status": "active",
                "credentials": {"username": "alice", "password": "********", "inserver": "imap.elsewhere.example"},
            },
        }))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let stored = app
        .core
        .remote_identity_with_credentials(alice.user_id, id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(stored.display_name, "Work");
    assert_eq!(stored.credentials["username"], "alice2");
    assert_eq!(stored.credentials["password"], "s3cret");

    // Stale view, fields that cannot change.
    app.patch(&location)
        .auth(&alice)
        .json(&json!({"display_name": "X", "current_state": {"display_name": "Alice elsewhere"}}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    let res = app
        .patch(&location)
        .auth(&alice)
        .json(&json!({"identifier": "x@y.example", "current_state": {"identifier": "alice@elsewhere.example"}}))
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert!(res.error_message().contains("identifier"));

    app.delete(&location)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get(&location)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.delete(&location)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn remote_identity_creation_is_validated() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let with = |key: &str, value: Value| {
        let mut body = new_remote();
        if value.is_null() {
            body.as_object_mut().unwrap().remove(key);
        } else {
            body[key] = value;
        }
        body
    };
    let cases = [
        (with("identifier", Value::Null), "identifier"),
        (with("identifier", json!("not an address")), "identifier"),
        (with("protocol", Value::Null), "protocol"),
        (with("protocol", json!("carrier-pigeon")), "protocol"),
        (with("protocol", json!("twitter")), "protocol"),
        (with("type", json!("local")), "type"),
        (with("status", json!("deleted")), "status"),
        (
            with("user_id", json!(uuid::Uuid::now_v7().to_string())),
            "user_id",
        ),
        (with("secret", json!(1)), "secret"),
        (with("credentials", json!({"port": 993})), "credentials"),
    ];
    for (body, field) in cases {
        let res = app
            .post("/api/v2/identities/remotes")
            .auth(&alice)
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
        assert!(
            res.error_message().contains(field),
            "{field}: {}",
            res.error_message()
        );
    }
    let res = app
        .get("/api/v2/identities/remotes?pending=maybe")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert!(res.error_message().contains("pending"));
}

#[tokio::test]
async fn another_users_identities_are_not_found() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let location = app
        .post("/api/v2/identities/remotes")
        .auth(&alice)
        .json(&new_remote())
        .send()
        .await
        .json()["location"]
        .as_str()
        .unwrap()
        .to_owned();
    let alice_local = app
        .get("/api/v2/identities/locals")
        .auth(&alice)
        .send()
        .await
        .json()["local_identities"][0]["identity_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let local_location = format!("/api/v2/identities/remotes/{alice_local}");

    for uri in [&location, &local_location] {
        app.get(uri)
            .auth(&bob)
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
        app.patch(uri)
            .auth(&bob)
            .json(&json!({"display_name": "pwned", "current_state": {"display_name": "Alice elsewhere"}}))
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
        app.delete(uri)
            .auth(&bob)
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    // A local identity is not a remote one, even for its owner.
    app.delete(&local_location)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let list = app
        .get("/api/v2/identities/remotes")
        .auth(&bob)
        .send()
        .await
        .json();
    assert_eq!(list["total"], 0);
    // Alice's identity is untouched.
    let identity = app.get(&location).auth(&alice).send().await.json();
    assert_eq!(identity["display_name"], "Alice elsewhere");
    app.get("/api/v2/identities/remotes/not-an-id")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}
