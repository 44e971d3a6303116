//! Attacks on sender addresses: claiming another user's local address (or any
//! address of this server) as a remote identity, sending as a remote address
//! never shown to be one's own, forging the ownership mark, validating with
//! another user's code, and flooding through the outbound queue.

use crate::common;

use axum::http::StatusCode;
use caliopen_core::CoreConfig;
use caliopen_core::config::SendLimits;
use common::{Session, TestApp};
use serde_json::{Value, json};

async fn claim(app: &TestApp, who: &Session, address: &str) -> common::TestResponse {
    app.post("/api/v2/identities/remotes")
        .auth(who)
        .json(&json!({
            "identifier": address,
            "protocol": "email",
            "display_name": address,
            "credentials": {"username": address, "password": "secret"},
        }))
        .send()
        .await
}

async fn remotes(app: &TestApp, who: &Session) -> Vec<Value> {
    app.get("/api/v2/identities/remotes")
        .auth(who)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json()["remote_identities"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_local_address_cannot_be_claimed_as_a_remote_identity() {
    let app = TestApp::new().await;
    app.user("alice").await;
    let mallory = app.user("mallory").await;
    for address in [
        "alice@caliopen.local",
        "ALICE@Caliopen.Local",
        // Not a user yet: whoever signs up as it later owns it.
        "future-user@caliopen.local",
        "postmaster@caliopen.local",
    ] {
        let res = claim(&app, &mallory, address).await;
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "{address}: {}",
            res.text()
        );
        assert!(res.error_message().contains("address of this server"));
    }
    assert!(remotes(&app, &mallory).await.is_empty());
}

/// A draft from `identity_id` to bob@example.org; its location.
async fn draft(app: &TestApp, who: &Session, identity_id: &str) -> String {
    app.post("/api/v1/messages")
        .auth(who)
        .json(&json!({
            "user_identities": [identity_id],
            "participants": [{"type": "To", "protocol": "email", "address": "bob@example.org"}],
            "subject": "Hello",
            "body": "Hello Bob",
        }))
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json()["location"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn local(app: &TestApp, who: &Session) -> String {
    app.get("/api/v2/identities/locals")
        .auth(who)
        .send()
        .await
        .json()["local_identities"][0]["identity_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn send(app: &TestApp, who: &Session, location: &str) -> common::TestResponse {
    app.post(&format!("{location}/actions"))
        .auth(who)
        .json(&json!({"actions": ["send"]}))
        .send()
        .await
}

/// The confirmation code of the last notice queued to `address`.
async fn mailed_code(app: &TestApp, address: &str) -> String {
    let queue = app.core.outbound_queue().await.unwrap();
    let job = queue
        .iter()
        .rev()
        .find(|j| j.recipients == [address])
        .unwrap_or_else(|| panic!("no mail queued to {address}: {queue:?}"));
    assert_eq!(job.envelope_from, "no-reply@caliopen.local");
    let raw = String::from_utf8(app.core.outbound_raw(job).await.unwrap()).unwrap();
    assert!(raw.contains(&format!("To: <{address}>")), "{raw}");
    let (_, after) = raw.split_once("\r\n\r\n").unwrap();
    after
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 43 && !l.contains(' '))
        .unwrap_or_else(|| panic!("no code in {raw}"))
        .to_owned()
}

#[tokio::test]
async fn an_unverified_remote_identity_cannot_send_until_its_code_comes_back() {
    let app = TestApp::new().await;
    app.render_outbound_mail();
    let mallory = app.user("mallory").await;
    let carol = app.user("carol").await;
    let res = claim(&app, &mallory, "ceo@example.org")
        .await
        .assert_status(StatusCode::OK);
    let id = res.json()["identifier"].as_str().unwrap().to_owned();
    let read = |who: &Session| {
        app.get(&format!("/api/v2/identities/remotes/{id}"))
            .auth(who)
            .send()
    };
    let identity = read(&mallory).await.assert_status(StatusCode::OK).json();
    assert_eq!(
        identity["status"], "active",
        "the user's switch, as the original"
    );
    assert_eq!(identity["infos"]["ownership"], "pending");

    // Saying it is verified changes nothing.
    app.patch(&format!("/api/v2/identities/remotes/{id}"))
        .auth(&mallory)
        .json(&json!({
            "infos": {"ownership": "verified"},
            "current_state": {"infos": identity["infos"]},
        }))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let identity = read(&mallory).await.json();
    assert_eq!(identity["infos"]["ownership"], "pending");

    let location = draft(&app, &mallory, &id).await;
    let res = send(&app, &mallory, &location).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
    assert!(
        res.error_message().contains("not verified"),
        "{}",
        res.text()
    );
    let message = app.get(&location).auth(&mallory).send().await.json();
    assert_eq!(message["is_draft"], true, "nothing was queued");

    // The code went to the address; someone else's session cannot use it.
    let code = mailed_code(&app, "ceo@example.org").await;
    app.get(&format!("/api/v2/validate-identity/{code}"))
        .auth(&carol)
        .unchecked()
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/api/v2/validate-identity/{code}"))
        .auth(&mallory)
        .unchecked()
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(
        read(&mallory).await.json()["infos"]["ownership"],
        "verified"
    );
    send(&app, &mallory, &location)
        .await
        .assert_status(StatusCode::OK);
    app.get(&format!("/api/v2/validate-identity/{code}"))
        .auth(&mallory)
        .unchecked()
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sending_is_limited_per_user() {
    let app = TestApp::with_config(CoreConfig {
        send_limits: SendLimits {
            messages: 2,
            ..SendLimits::default()
        },
        ..CoreConfig::default()
    })
    .await;
    app.render_outbound_mail();
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let identity = local(&app, &alice).await;
    for _ in 0..2 {
        let location = draft(&app, &alice, &identity).await;
        send(&app, &alice, &location)
            .await
            .assert_status(StatusCode::OK);
    }
    let location = draft(&app, &alice, &identity).await;
    let res = send(&app, &alice, &location).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text());
    assert!(res.header("retry-after").is_some());
    // A confirmation code is mail too: it counts, and is refused past the limit.
    claim(&app, &alice, "alice@example.org")
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
    // Others send on.
    let identity = local(&app, &bob).await;
    let location = draft(&app, &bob, &identity).await;
    send(&app, &bob, &location)
        .await
        .assert_status(StatusCode::OK);
}
