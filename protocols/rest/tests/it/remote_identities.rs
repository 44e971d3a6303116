//! Remote email identities in the original's shapes (`web/scenes/
//! RemoteIdentitySettings`, `go-objects/user_identity.go`): `infos` with
//! `inserver`/`outserver` as host:port, `authtype`, `pollinterval`, TLS modes and
//! folders; credentials written, never answered (nor their sealed form).

use crate::common::TestApp;

use axum::http::StatusCode;
use caliopen_core::CoreConfig;
use serde_json::{Value, json};

const SECRET: &str = "imap-and-smtp-s3cret";

fn email_account() -> Value {
    json!({
        "type": "remote",
        "protocol": "email",
        "identifier": "me@elsewhere.example",
        "display_name": "me@elsewhere.example",
        "status": "active",
        "credentials": {"username": "me", "password": SECRET},
        "infos": {
            "inserver": "imap.elsewhere.example:993",
            "outserver": "smtp.elsewhere.example:587",
            "intls": "implicit",
            "outtls": "starttls",
            "authtype": "login-password",
            "pollinterval": "15",
            "inbox_folder": "INBOX",
            "sent_folder": "Sent",
        },
    })
}

/// No answer carries the password or the sealed credentials.
fn assert_no_secret(body: &str, sealed: &str) {
    assert!(!body.contains(SECRET), "{body}");
    assert!(!body.contains(sealed), "{body}");
    assert!(!body.contains("sealed"), "{body}");
}

#[tokio::test]
async fn remote_email_identity_create_read_patch_delete() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let created = app
        .post("/api/v2/identities/remotes")
        .auth(&alice)
        .json(&email_account())
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    let id = created["remote_id"].as_str().unwrap().to_owned();
    let location = format!("/api/v2/identities/remotes/{id}");
    let stored = app
        .core
        .stored_remote_identity(alice.user_id, id.parse().unwrap())
        .await
        .unwrap();
    let sealed = stored.sealed_credentials.clone().expect("sealed");
    assert!(!format!("{stored:?}").contains(SECRET));

    let read = app.get(&location).auth(&alice).send().await;
    let read = read.assert_status(StatusCode::OK);
    let text = read.text();
    assert_no_secret(&text, &sealed);
    let identity: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(identity["type"], "remote");
    assert_eq!(identity["protocol"], "email");
    assert_eq!(identity["credentials"]["username"], "me");
    assert_eq!(identity["credentials"]["password"], "********");
    assert_eq!(identity["infos"]["inserver"], "imap.elsewhere.example:993");
    assert_eq!(identity["infos"]["outserver"], "smtp.elsewhere.example:587");
    assert_eq!(identity["infos"]["authtype"], "login-password");
    assert_eq!(identity["infos"]["pollinterval"], "15");
    assert_eq!(identity["infos"]["intls"], "implicit");
    assert_eq!(identity["infos"]["sent_folder"], "Sent");
    let list = app
        .get("/api/v2/identities/remotes")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .text();
    assert_no_secret(&list, &sealed);

    // The web client patches whole objects: the mask sent back keeps the password.
    let mut infos = identity["infos"].clone();
    infos["pollinterval"] = json!("30");
    app.patch(&location)
        .auth(&alice)
        .json(&json!({
            "infos": infos,
            "current_state": {"infos": identity["infos"]},
        }))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let full = app
        .core
        .remote_identity_with_credentials(alice.user_id, id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(full.credentials["password"], SECRET);
    assert_eq!(full.infos["pollinterval"], "30");

    // A new password is sealed again, never answered.
    app.patch(&location)
        .auth(&alice)
        .json(&json!({
            "credentials": {"username": "me", "password": "n3w-pass-phrase"},
            "current_state": {"credentials": {"username": "me", "password": "********"}},
        }))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let full = app
        .core
        .remote_identity_with_credentials(alice.user_id, id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(full.credentials["password"], "n3w-pass-phrase");
    let text = app.get(&location).auth(&alice).send().await.text();
    assert!(!text.contains("n3w-pass-phrase"), "{text}");

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
}

#[tokio::test]
async fn hostile_infos_values_are_refused_with_the_field() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let hostile = [
        ("inserver", json!("imap.elsewhere.example")),
        ("inserver", json!("imap.elsewhere.example:0")),
        ("inserver", json!("imap.elsewhere.example:65536")),
        ("inserver", json!("imap.elsewhere.example:993\r\nA1 LOGOUT")),
        ("outserver", json!(format!("{}:587", "a".repeat(300)))),
        ("outserver", json!("[::1:587")),
        ("intls", json!("plaintext")),
        ("outtls", json!("none")),
        ("authtype", json!("Oauth2")),
        ("pollinterval", json!("0")),
        ("pollinterval", json!("100000")),
        ("inbox_folder", json!("")),
        ("sent_folder", json!("Sent\u{7}")),
    ];
    for (key, value) in hostile {
        let mut body = email_account();
        body["infos"][key] = value;
        let res = app
            .post("/api/v2/identities/remotes")
            .auth(&alice)
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
        let text = res.text();
        assert!(text.contains(&format!("infos.{key}")), "{key}: {text}");
    }
    let list = app
        .get("/api/v2/identities/remotes")
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn without_a_credentials_key_the_password_is_refused_naming_the_setting() {
    let mut config = CoreConfig::default();
    config.credentials.key_env = Some("CALIOPEN_TEST_CREDENTIALS_KEY_NEVER_SET".into());
    let app = TestApp::with_config(config).await;
    let alice = app.user("alice").await;
    let text = app
        .post("/api/v2/identities/remotes")
        .auth(&alice)
        .json(&email_account())
        .send()
        .await
        .assert_status(StatusCode::NOT_IMPLEMENTED)
        .text();
    assert!(text.contains("core.credentials"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
}

#[tokio::test]
async fn a_wrong_key_stops_a_patch_but_not_a_read() {
    let mut app = TestApp::new().await;
    let alice = app.user("alice").await;
    let created = app
        .post("/api/v2/identities/remotes")
        .auth(&alice)
        .json(&email_account())
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    let id = created["remote_id"].as_str().unwrap().to_owned();
    let other = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(other.path(), "0f".repeat(32)).unwrap();
    let mut config = CoreConfig::default();
    config.credentials.key_file = Some(other.path().to_path_buf());
    app.restart_with(config);
    let wrong = &app;
    let location = format!("/api/v2/identities/remotes/{id}");
    let read = wrong
        .get(&location)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(read["credentials"]["password"], "********");
    let text = wrong
        .patch(&location)
        .auth(&alice)
        .json(&json!({"display_name": "Work", "current_state": {"display_name": "me@elsewhere.example"}}))
        .send()
        .await
        .assert_status(StatusCode::NOT_IMPLEMENTED)
        .text();
    assert!(text.contains("rotation is not supported"), "{text}");
}
