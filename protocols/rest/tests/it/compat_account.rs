//! Compatibility with the original Caliopen on the account side: `/me`, the
//! `current_state` rule of every PATCH, remote identity creation, the statuses
//! and messages of the account operations, and unknown query parameters
//! (docs/api-compatibility.md D4, D5, D9, D17, D18). Expected shapes, statuses
//! and messages come from the original's source, cited per test.

use crate::common;

use axum::http::StatusCode;
use common::{Session, TestApp};
use serde_json::{Value, json};

/// Signs `username` up with `password` and given/family names, and logs in.
async fn signup_with(app: &TestApp, username: &str, password: &str, from: &str) -> Session {
    app.post("/api/v1/users")
        .from(from)
        .json(&json!({
            "username": username,
            "password": password,
            "recovery_email": format!("{username}@example.org"),
            "contact": {"given_name": "Ann", "family_name": "Other"},
        }))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let body = app
        .post("/api/v1/authentications")
        .json(&json!({
            "username": username, "password": password,
            "device": {"device_id": "browser-1"},
        }))
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    Session {
        user_id: body["user_id"].as_str().unwrap().parse().unwrap(),
        username: username.to_owned(),
        device_id: "browser-1".into(),
        access_token: body["tokens"]["access_token"].as_str().unwrap().to_owned(),
    }
}

async fn me(app: &TestApp, who: &Session) -> Value {
    app.get("/api/v1/me")
        .auth(who)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json()
}

/// `py/user/user.py` `MeUserAPI` answers `pym/user/parameters/user.py` `User`:
/// `name` is the username, `privacy_features.password_strength` the zxcvbn
/// score as a string, computed at signup (`pym/user/core/user.py`) and again on
/// a password change (`src/backend/main/go.main/users/password.go`).
#[tokio::test]
async fn compat_d04_me_name_is_the_username_and_password_strength_is_kept() {
    let app = TestApp::new().await;
    let ann = signup_with(&app, "ann.other", "password", "198.18.1.1").await;
    let body = me(&app, &ann).await;
    assert_eq!(body["name"], "ann.other");
    assert_eq!(body["given_name"], "Ann");
    assert_eq!(body["family_name"], "Other");
    assert_eq!(body["privacy_features"], json!({"password_strength": "0"}));
    assert!(body.get("password").is_none() && body.get("settings").is_none());

    let strong = "Quartz-lantern 47 drifts over Vilnius' tin roofs";
    app.patch(&format!("/api/v2/users/{}", ann.user_id))
        .auth(&ann)
        .json(&json!({"password": strong, "current_state": {"password": "password"}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let strength = me(&app, &ann).await["privacy_features"]["password_strength"]
        .as_str()
        .unwrap()
        .parse::<u8>()
        .unwrap();
    assert!(strength >= 3, "a long passphrase scored {strength}");

    // The user's own names weaken a password made of them.
    let bob = signup_with(&app, "bobby.tables", "bobby.tables2024", "198.18.1.2").await;
    let score = me(&app, &bob).await["privacy_features"]["password_strength"].clone();
    assert!(matches!(score.as_str(), Some("0" | "1")), "{score}");
}

/// `py/user/settings.py` over `pym/common/objects/base.py` `apply_patch`: a
/// patch without changes is 204 and changes nothing; the web client sends
/// exactly that when settings are saved unchanged (`web/services/api-patch`).
#[tokio::test]
async fn compat_d05_settings_patch_without_changes_is_a_no_op() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let before = app.get("/api/v1/settings").auth(&alice).send().await.json();
    for body in [
        json!({"current_state": {}}),
        json!({"current_state": {"default_locale": "fr-FR"}}),
    ] {
        app.patch("/api/v1/settings")
            .auth(&alice)
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::NO_CONTENT);
    }
    let after = app.get("/api/v1/settings").auth(&alice).send().await.json();
    assert_eq!(before, after);
    // Still strict on the body's form.
    for body in [json!({}), json!({"current_state": "x"}), json!([1])] {
        app.patch("/api/v1/settings")
            .auth(&alice)
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
    }
}

/// `hlp/patch.go` `validateCurrentState`, `pym/common/objects/base.py`
/// `apply_patch`: a changed key absent from `current_state` applies when the
/// stored value is empty (`false`, `0`, `""`, ...), and conflicts otherwise.
#[tokio::test]
async fn compat_d05_settings_a_false_setting_is_switched_on_without_state() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let settings = app.get("/api/v1/settings").auth(&alice).send().await.json();
    assert_eq!(settings["notification_sound_enabled"], false);
    app.patch("/api/v1/settings")
        .auth(&alice)
        .json(&json!({"notification_sound_enabled": true, "current_state": {}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let settings = app.get("/api/v1/settings").auth(&alice).send().await.json();
    assert_eq!(settings["notification_sound_enabled"], true);
    // `default_locale` is not empty: leaving it out of the state is a conflict.
    app.patch("/api/v1/settings")
        .auth(&alice)
        .json(&json!({"default_locale": "en-US", "current_state": {}}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    let settings = app.get("/api/v1/settings").auth(&alice).send().await.json();
    assert_eq!(settings["default_locale"], "fr-FR");
}

/// The same rule on contacts (`fac/contacts.go` `PatchContact` over
/// `hlp/patch.go`), and a patch with only `current_state` changes nothing.
#[tokio::test]
async fn compat_d05_contact_empty_field_is_set_without_state() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let created = app
        .post("/api/v2/contacts")
        .auth(&alice)
        .json(&json!({"family_name": "Martin"}))
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    let uri = format!(
        "/api/v2/contacts/{}",
        created["contact_id"].as_str().unwrap()
    );
    let body = json!({"given_name": "Bob", "current_state": {}});
    app.patch(&uri)
        .auth(&alice)
        .json(&body)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let contact = app.get(&uri).auth(&alice).send().await.json();
    assert_eq!(contact["given_name"], "Bob");
    assert_eq!(contact["family_name"], "Martin");
    // Now it is not empty: the same body is a conflict, and nothing changes.
    app.patch(&uri)
        .auth(&alice)
        .json(&json!({"given_name": "Al", "current_state": {}}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    app.patch(&uri)
        .auth(&alice)
        .json(&json!({"current_state": {"given_name": "Bob"}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let unchanged = app.get(&uri).auth(&alice).send().await.json();
    assert_eq!(unchanged, contact);
}

/// The rule on the other resources with `current_state`: devices
/// (`fac/devices.go` `PatchDevice`), remote identities (`fac/identities.go`),
/// tags (`fac/tags.go` `PatchTag`).
#[tokio::test]
async fn compat_d05_devices_identities_and_tags_follow_the_same_rule() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    // A device always has a name: leaving it out of the state is a conflict.
    app.patch("/api/v2/devices/default")
        .auth(&alice)
        .json(&json!({"name": "Laptop", "current_state": {}}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    app.patch("/api/v2/devices/default")
        .auth(&alice)
        .json(&json!({"current_state": {"name": "default"}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);

    let created = app
        .post("/api/v2/identities/remotes")
        .auth(&alice)
        .json(&json!({"identifier": "alice@elsewhere.example", "protocol": "email"}))
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    let location = created["location"].as_str().unwrap();
    app.patch(location)
        .auth(&alice)
        .json(&json!({"display_name": "Work", "current_state": {}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let identity = app.get(location).auth(&alice).send().await.json();
    assert_eq!(identity["display_name"], "Work");

    let tag = app
        .post("/api/v2/tags")
        .auth(&alice)
        .json(&json!({"label": "Later"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let tag_uri = tag.json()["location"].as_str().unwrap().to_owned();
    let level = app.get(&tag_uri).auth(&alice).send().await.json()["importance_level"].clone();
    assert_eq!(level, 0);
    app.patch(&tag_uri)
        .auth(&alice)
        .json(&json!({"importance_level": 5, "current_state": {}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&tag_uri).auth(&alice).send().await.json()["importance_level"],
        5
    );
}

/// `go/ops/identities/identities.go` `NewRemoteIdentity` answers
/// `{location, remote_id}`; a second identity with the same identifier and
/// protocol fails in `fac/identities.go` `CreateUserIdentity` with a facility
/// error of code 6 (`obj/errors.go` forbidden), which the client looks for
/// (`web/scenes/RemoteIdentitySettings/components/RemoteIdentityEmail`).
#[tokio::test]
async fn compat_d09_remote_identity_answers_remote_id_and_a_duplicate_code_6() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let body = json!({"identifier": "Alice@Elsewhere.example", "protocol": "email",
        "display_name": "Alice elsewhere"});
    let created = app
        .post("/api/v2/identities/remotes")
        .auth(&alice)
        .json(&body)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    let remote_id = created["remote_id"].as_str().unwrap();
    assert_eq!(
        created["location"],
        format!("/api/v2/identities/remotes/{remote_id}")
    );
    assert_eq!(created["identifier"], remote_id);
    let identity = app
        .get(&format!("/api/v2/identities/remotes/{remote_id}"))
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(identity["identity_id"], remote_id);
    assert_eq!(identity["identifier"], "alice@elsewhere.example");

    let res = app
        .post("/api/v2/identities/remotes")
        .auth(&alice)
        .json(&body)
        .send()
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let errors = res.json()["errors"].as_array().unwrap().clone();
    let six = errors
        .iter()
        .find(|e| e["code"] == 6)
        .unwrap_or_else(|| panic!("no entry of code 6: {errors:?}"));
    assert_eq!(
        six["message"],
        format!(
            "[CreateUserIdentity] tuple(alice@elsewhere.example, email, {}) breaks uniqueness constraint",
            alice.user_id
        )
    );
    let list = app
        .get("/api/v2/identities/remotes")
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(list["total"], 1);
}

/// `go/ops/users/user.go` `PatchUser`: a wrong current password is 424 with
/// `users/password.go`'s message; `fac/users.go` `DeleteUser`: a wrong password
/// is 422 with the entry `{code: 8, message: "[RESTfacility] DeleteUser Wrong
/// password"}` the client matches exactly (`web/scenes/UserProfile/index.tsx`).
#[tokio::test]
async fn compat_d17_account_operations_answer_what_the_client_tests_for() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let res = app
        .patch(&format!("/api/v2/users/{}", alice.user_id))
        .auth(&alice)
        .json(&json!({"password": "a brand new password", "current_state": {"password": "wrong"}}))
        .send()
        .await
        .assert_status(StatusCode::FAILED_DEPENDENCY);
    assert_eq!(res.error_message(), "old password is incorrect");

    let res = app
        .post(&format!("/api/v2/users/{}/actions", alice.user_id))
        .auth(&alice)
        .json(&json!({"actions": ["delete"], "params": {"password": "wrong"}}))
        .send()
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let errors = res.json()["errors"].as_array().unwrap().clone();
    assert!(
        errors
            .iter()
            .any(|e| e["code"] == 8 && e["message"] == "[RESTfacility] DeleteUser Wrong password"),
        "{errors:?}"
    );
    // Nothing happened.
    me(&app, &alice).await;
    // A hostile password is still refused as malformed, not checked.
    app.post(&format!("/api/v2/users/{}/actions", alice.user_id))
        .auth(&alice)
        .json(&json!({"actions": ["delete"], "params": {"password": "x".repeat(5000)}}))
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
}

/// The original never answered 400 for a query parameter it did not know
/// (docs/api-compatibility.md X3): the handlers of `go/ops/` ignored it.
/// Malformed values of known parameters stay 400.
#[tokio::test]
async fn compat_d18_unknown_query_parameters_are_ignored() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let long = "x".repeat(2000);
    for uri in [
        "/api/v2/devices?foo=1".to_owned(),
        "/api/v2/identities/remotes?foo=1".to_owned(),
        "/api/v2/contacts?foo=1".to_owned(),
        "/api/v2/discussions?foo=1".to_owned(),
        "/api/v2/notifications?foo=1".to_owned(),
        "/api/v2/participants/suggest?context=msg_compose&q=ali&foo=1".to_owned(),
        "/api/v2/search?term=alice&foo=1".to_owned(),
        "/api/v2/username/isAvailable?username=zed&foo=1".to_owned(),
        format!("/api/v2/devices?{long}={long}"),
    ] {
        app.get(&uri)
            .auth(&alice)
            .header("x-caliopen-il", "-10;10")
            .header("x-caliopen-pi", "0;100")
            .send()
            .await
            .assert_status(StatusCode::OK);
    }
    app.delete("/api/v2/notifications?until=2030-01-01T00:00:00Z&foo=1")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    for uri in ["/api/v2/devices?limit=-1", "/api/v2/contacts?limit=x"] {
        app.get(uri)
            .auth(&alice)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
    }
}
