//! Devices: listing, patching, revocation (the token stops at once), the
//! validation action and token, and isolation between users.

use crate::common;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::json;

#[tokio::test]
async fn devices_are_listed_read_and_patched() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    app.login("alice", "phone").await;

    let list = app
        .get("/api/v2/devices")
        .auth(&alice)
        .header("x-caliopen-pi", "1;100")
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(list["total"], 2);
    let ids: Vec<&str> = list["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["device_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["default", "phone"]);
    let page = app
        .get("/api/v2/devices?limit=1&offset=1")
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(page["total"], 2);
    assert_eq!(page["devices"].as_array().unwrap().len(), 1);
    assert_eq!(page["devices"][0]["device_id"], "phone");

    let phone = app
        .get("/api/v2/devices/phone")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(phone["status"], "unverified");
    assert_eq!(phone["user_id"], alice.user_id.to_string());
    let default = app
        .get("/api/v2/devices/default")
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(default["status"], "verified");

    app.patch("/api/v2/devices/phone")
        .auth(&alice)
        .json(&json!({
            "name": "My phone", "type": "smartphone",
            "current_state": {"name": phone["name"], "type": phone["type"]},
        }))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let phone = app
        .get("/api/v2/devices/phone")
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(phone["name"], "My phone");
    assert_eq!(phone["type"], "smartphone");

    for (body, status, field) in [
        (
            json!({"type": "toaster", "current_state": {"type": "smartphone"}}),
            StatusCode::BAD_REQUEST,
            "type",
        ),
        (
            json!({"status": "verified", "current_state": {"status": "unverified"}}),
            StatusCode::BAD_REQUEST,
            "status",
        ),
        (
            json!({"name": "", "current_state": {"name": "My phone"}}),
            StatusCode::BAD_REQUEST,
            "name",
        ),
        (
            json!({"name": "X"}),
            StatusCode::BAD_REQUEST,
            "current_state",
        ),
        (
            json!({"name": "X", "current_state": {"name": "Old"}}),
            StatusCode::CONFLICT,
            "name",
        ),
    ] {
        let res = app
            .patch("/api/v2/devices/phone")
            .auth(&alice)
            .json(&body)
            .send()
            .await
            .assert_status(status);
        assert!(
            res.error_message().contains(field),
            "{}",
            res.error_message()
        );
    }
    app.get("/api/v2/devices?limit=-1")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    app.get("/api/v2/devices/nothing")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deleting_a_device_revokes_its_token_at_once() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let phone = app.login("alice", "phone").await;
    app.get("/api/v1/me")
        .auth(&phone)
        .send()
        .await
        .assert_status(StatusCode::OK);

    app.delete("/api/v2/devices/phone")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get("/api/v1/me")
        .auth(&phone)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    // Gone from the list and not found.
    let list = app.get("/api/v2/devices").auth(&alice).send().await.json();
    assert_eq!(list["total"], 1);
    app.get("/api/v2/devices/phone")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.delete("/api/v2/devices/phone")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // The other device goes on.
    app.get("/api/v1/me")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn device_validation() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let phone = app.login("alice", "phone").await;

    for (body, status) in [
        (
            json!({"actions": ["device-validation"], "params": {"channel": "email", "x": 1}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"actions": ["send"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"actions": ["device-validation", "delete"]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"action": "device-validation"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        app.post("/api/v2/devices/phone/actions")
            .auth(&alice)
            .json(&body)
            .send()
            .await
            .assert_status(status);
    }
    app.post("/api/v2/devices/default/actions")
        .auth(&alice)
        .json(&json!({"actions": ["device-validation"], "params": {"channel": "email"}}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    app.post("/api/v2/devices/nothing/actions")
        .auth(&alice)
        .json(&json!({"actions": ["device-validation"], "params": {"channel": "email"}}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // The link of the mail-to-be, with a token from core.
    let validation = app
        .core
        .request_device_validation(alice.user_id, "phone")
        .await
        .unwrap();
    let uri = format!("/api/v2/validate-device/{}", validation.token);
    app.get(&uri)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    app.get(&uri)
        .auth(&phone)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let device = app
        .get("/api/v2/devices/phone")
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(device["status"], "verified");
    // Used once.
    app.get(&uri)
        .auth(&phone)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get("/api/v2/validate-device/made-up")
        .auth(&phone)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_users_devices_are_not_found() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let alice_phone = app.login("alice", "phone").await;
    let bob = app.user("bob").await;

    // Bob has a `default` device of his own: what he reads is his.
    let own = app
        .get("/api/v2/devices/default")
        .auth(&bob)
        .send()
        .await
        .json();
    assert_eq!(own["user_id"], bob.user_id.to_string());

    app.get("/api/v2/devices/phone")
        .auth(&bob)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.patch("/api/v2/devices/phone")
        .auth(&bob)
        .json(&json!({"name": "pwned", "current_state": {"name": "device phone"}}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.post("/api/v2/devices/phone/actions")
        .auth(&bob)
        .json(&json!({"actions": ["device-validation"], "params": {"channel": "email"}}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.delete("/api/v2/devices/phone")
        .auth(&bob)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let list = app.get("/api/v2/devices").auth(&bob).send().await.json();
    assert_eq!(list["total"], 1);

    // Alice's phone is untouched and still logged in.
    app.get("/api/v1/me")
        .auth(&alice_phone)
        .send()
        .await
        .assert_status(StatusCode::OK);
    let phone = app
        .get("/api/v2/devices/phone")
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(phone["name"], "device phone");
}
