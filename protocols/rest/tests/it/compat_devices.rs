//! Devices as the original had them (issue 23 item 3, docs/api-compatibility.md
//! D11, D12): a sign-in names its device, the first device of a user is
//! verified and later ones are not, a new device is validated with a token
//! mailed to the user's recovery address, and a revoked device may sign in
//! again as a new, unverified one. Shapes and statuses from `py/user/user.py`
//! (`AuthenticationAPI`), `go/ops/devices/devices.go` (`Actions`,
//! `ValidateDevice`) and `fac/devices.go`.

use crate::common;

use axum::http::StatusCode;
use common::{Session, TestApp};
use serde_json::{Value, json};

async fn sign_in(app: &TestApp, username: &str, device: Value) -> common::TestResponse {
    app.post("/api/v1/authentications")
        .json(&json!({
            "username": username, "password": common::PASSWORD, "context": "web",
            "device": device,
        }))
        .send()
        .await
}

/// A browser's device as the web client sends it
/// (`web/modules/device/services/storage/index.ts` `getPublic`).
fn browser(device_id: &str) -> Value {
    json!({
        "device_id": device_id,
        "ecdsa_key": {"curve": "P-256", "hash": "SHA-256", "x": "0a1b", "y": "2c3d"},
    })
}

fn session(username: &str, device_id: &str, body: &Value) -> Session {
    Session {
        user_id: body["user_id"].as_str().unwrap().parse().unwrap(),
        username: username.into(),
        device_id: device_id.into(),
        access_token: body["tokens"]["access_token"].as_str().unwrap().into(),
    }
}

/// The validation token of the last mail queued to `address`.
async fn mailed_token(app: &TestApp, address: &str) -> String {
    let queue = app.core.outbound_queue().await.unwrap();
    let job = queue
        .iter()
        .rev()
        .find(|j| j.recipients == [address])
        .unwrap_or_else(|| panic!("no mail queued to {address}"));
    let raw = String::from_utf8(app.core.outbound_raw(job).await.unwrap()).unwrap();
    assert!(raw.contains(&format!("To: <{address}>")), "{raw}");
    let (_, body) = raw.split_once("\r\n\r\n").unwrap();
    body.lines()
        .map(str::trim)
        .find(|l| l.len() == 43 && !l.contains(' '))
        .unwrap_or_else(|| panic!("no token in {raw}"))
        .to_owned()
}

/// `py/user/user.py` `AuthenticationAPI`: no device → 400 ("No device
/// informations"), the client reading only that `errors` exists; the first
/// device is `verified`, a later one `unverified`
/// (`web/modules/user/components/SigninForm` then goes to `/settings/new-device`).
#[tokio::test]
async fn compat_item3_sign_in_needs_a_device_and_only_the_first_is_verified() {
    let app = TestApp::new().await;
    app.signup("alice").await;
    for body in [
        json!({"username": "alice", "password": common::PASSWORD}),
        json!({"username": "alice", "password": common::PASSWORD, "device": {"device_id": ""}}),
    ] {
        let res = app
            .post("/api/v1/authentications")
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
        assert!(res.json()["errors"].is_array());
    }
    // Hostile device ids.
    for device_id in ["d".repeat(129), "a\nb".into()] {
        sign_in(&app, "alice", browser(&device_id))
            .await
            .assert_status(StatusCode::BAD_REQUEST);
    }
    // Nothing was registered by the refused sign-ins: the first browser is verified.
    let first = sign_in(&app, "alice", browser("browser-1"))
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(
        first["device"],
        json!({"device_id": "browser-1", "status": "verified"})
    );
    assert_eq!(first["username"], "alice");
    assert_eq!(first["tokens"]["expires_in"], 86400);
    let second = sign_in(&app, "alice", browser("browser-2"))
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(
        second["device"],
        json!({"device_id": "browser-2", "status": "unverified"})
    );
    let alice = session("alice", "browser-1", &first);
    let list = app.get("/api/v2/devices").auth(&alice).send().await.json();
    assert_eq!(list["total"], 2);
    let statuses: Vec<(&str, &str)> = list["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["device_id"].as_str().unwrap(),
                d["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [("browser-1", "verified"), ("browser-2", "unverified")]
    );
}

/// `fac/devices.go` `RequestDeviceValidation` mails a token to the recovery
/// address and answers 204; `ConfirmDeviceValidation` looks the token up for
/// the caller's user (another user's attempt is 404 and leaves it usable), marks
/// the device verified and drops the token (used once).
#[tokio::test]
async fn compat_item3_a_new_device_is_validated_with_the_mailed_token() {
    let app = TestApp::new().await;
    app.signup("alice").await;
    let alice = session(
        "alice",
        "browser-1",
        &sign_in(&app, "alice", browser("browser-1")).await.json(),
    );
    let phone = session(
        "alice",
        "phone",
        &sign_in(&app, "alice", browser("phone")).await.json(),
    );
    let bob = app.user("bob").await;

    // `web/store/modules/device.ts` `verifyDevice`.
    app.post("/api/v2/devices/phone/actions")
        .auth(&alice)
        .json(&json!({"actions": ["device-validation"], "params": {"channel": "email"}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let first = mailed_token(&app, "alice@example.org").await;
    // A new request replaces the token.
    app.post("/api/v2/devices/phone/actions")
        .auth(&phone)
        .json(&json!({"actions": ["device-validation"], "params": {"channel": "email"}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let token = mailed_token(&app, "alice@example.org").await;
    assert_ne!(first, token);
    app.get(&format!("/api/v2/validate-device/{first}"))
        .auth(&phone)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);

    let uri = format!("/api/v2/validate-device/{token}");
    app.get(&uri)
        .auth(&bob)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
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
    app.get(&uri)
        .auth(&phone)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // Hostile tokens.
    for token in ["x".repeat(300), "%00".into()] {
        let status = app
            .get(&format!("/api/v2/validate-device/{token}"))
            .auth(&phone)
            .unchecked()
            .send()
            .await
            .status;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
            "{status}"
        );
    }
}

/// `go/ops/devices/devices.go` `Actions`: `params.channel` is required (422
/// "params is missing or malformed"); a channel the server cannot use fails
/// (`fac/devices.go`: unknown channel). Unknown device 404.
#[tokio::test]
async fn compat_d12_device_validation_needs_the_email_channel() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    app.login("alice", "phone").await;
    for params in [
        Value::Null,
        json!({}),
        json!({"channel": ""}),
        json!({"channel": 7}),
        json!({"channel": "sms"}),
        json!({"channel": "x".repeat(10_000)}),
        json!({"channel": "email", "device_id": "other"}),
    ] {
        let mut body = json!({"actions": ["device-validation"]});
        if !params.is_null() {
            body["params"] = params;
        }
        let res = app
            .post("/api/v2/devices/phone/actions")
            .auth(&alice)
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.error_message().len() < 200, "{}", res.error_message());
    }
    assert!(app.core.outbound_queue().await.unwrap().is_empty());
    app.post("/api/v2/devices/nothing/actions")
        .auth(&alice)
        .json(&json!({"actions": ["device-validation"], "params": {"channel": "email"}}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

/// `fac/devices.go` `DeleteDevice` removed the record and `py/user/user.py`
/// created an unknown device again at sign-in, unverified since the user has
/// others. The revoked token stays dead (ours, deliberate).
#[tokio::test]
async fn compat_d11_a_revoked_device_signs_in_again_unverified() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let phone = app.login("alice", "phone").await;
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
    let again = sign_in(&app, "alice", browser("phone"))
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(again["device"]["status"], "unverified");
    let list = app.get("/api/v2/devices").auth(&alice).send().await.json();
    assert_eq!(list["total"], 2);
    let phone = session("alice", "phone", &again);
    app.get("/api/v1/me")
        .auth(&phone)
        .send()
        .await
        .assert_status(StatusCode::OK);
}

/// A recovery address that is a mailbox of this server gets the token through
/// the delivery path: it lands in that inbox, not in the outbound queue.
#[tokio::test]
async fn compat_item3_a_local_recovery_address_gets_the_token_in_its_inbox() {
    let app = TestApp::new().await;
    let _delivery = app.start_delivery();
    let bob = app.user("bob").await;
    app.post("/api/v1/users")
        .from("198.18.7.7")
        .json(&json!({
            "username": "carol", "password": common::PASSWORD,
            "recovery_email": "bob@caliopen.local",
        }))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let carol = app.login("carol", "default").await;
    app.login("carol", "phone").await;
    app.post("/api/v2/devices/phone/actions")
        .auth(&carol)
        .json(&json!({"actions": ["device-validation"], "params": {"channel": "email"}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert!(app.core.outbound_queue().await.unwrap().is_empty());
    let mut found = None;
    for _ in 0..250 {
        let list = app
            .get("/api/v2/messages")
            .auth(&bob)
            .send()
            .await
            .assert_status(StatusCode::OK)
            .json();
        if list["total"] == 1 {
            found = Some(list["messages"][0].clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let message = found.expect("the validation mail in bob's inbox");
    assert!(
        message["subject"]
            .as_str()
            .unwrap()
            .contains("Confirm the new device of carol"),
        "{message}"
    );
}
