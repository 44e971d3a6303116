//! A scripted session of the original web client (v0.27.1,
//! src/frontend/web_application) on the account side: a user signs in from a
//! new browser, opens the Security page, saves the settings unchanged, fills an
//! empty field of a contact and adds a remote mail account, with every request
//! built as the client builds it and every answer checked for the fields the
//! client reads (paths under `web/` are the client's `src/`).

use crate::common;

use axum::http::StatusCode;
use common::{Session, TestApp};
use serde_json::json;

/// The headers `web/services/api-client/index.ts` adds to every call.
fn client_call<'a>(call: common::Call<'a>, who: &Session) -> common::Call<'a> {
    call.auth(who)
        .header("x-caliopen-il", "-10;10")
        .header("x-caliopen-pi", "0;100")
}

#[tokio::test]
async fn web_client_signs_in_from_a_new_browser_and_edits_its_account() {
    let app = TestApp::new().await;
    app.signup("alice").await;
    app.login("alice", "first-browser").await;

    // 1. Sign-in from a new browser (`srv/auth/router/signin.js` posts the
    //    form with `getClientDevice().getPublic()`): the device is not verified,
    //    so `web/modules/user/components/SigninForm` goes to `/settings/new-device`.
    let signin = app
        .post("/api/v1/authentications")
        .json(&json!({
            "username": "alice", "password": common::PASSWORD, "context": "web",
            "device": {
                "device_id": "0f6c1c4e-5d2a-4e0b-9f3a-2b1c8d7e6a50",
                "ecdsa_key": {"curve": "P-256", "hash": "SHA-256", "x": "9a8b", "y": "7c6d"},
            },
        }))
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/115.0",
        )
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(signin["device"]["status"], "unverified");
    assert_eq!(signin["username"], "alice");
    for key in ["access_token", "refresh_token", "expires_at"] {
        assert!(signin["tokens"][key].is_string(), "tokens.{key}");
    }
    let alice = Session {
        user_id: signin["user_id"].as_str().unwrap().parse().unwrap(),
        username: "alice".into(),
        device_id: signin["device"]["device_id"].as_str().unwrap().into(),
        access_token: signin["tokens"]["access_token"].as_str().unwrap().into(),
    };

    // 2. The Security page: `web/scenes/UserSecurity` reads
    //    `user.privacy_features.password_strength` (PasswordDetails) and
    //    `user.name` (LoginDetails), and lists the devices (DevicesSettings).
    let me = client_call(app.get("/api/v1/me"), &alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(me["name"], "alice");
    let strength = me["privacy_features"]["password_strength"]
        .as_str()
        .unwrap();
    assert!(["0", "1", "2", "3", "4"].contains(&strength), "{strength}");
    let own_contact = me["contact"]["contact_id"].as_str().unwrap().to_owned();
    let devices = client_call(app.get("/api/v2/devices"), &alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(devices["total"], 2);
    for device in devices["devices"].as_array().unwrap() {
        // `web/modules/device/types.d.ts`.
        for key in ["device_id", "name", "type", "status", "user_agent"] {
            assert!(device[key].is_string(), "device.{key}: {device}");
        }
    }
    let this_one = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_id"] == alice.device_id.as_str())
        .unwrap();
    assert_eq!(this_one["status"], "unverified");
    assert_eq!(
        this_one["user_agent"],
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/115.0"
    );

    // 3. Settings saved unchanged (`web/store/modules/settings.js`).
    let settings = client_call(app.get("/api/v1/settings"), &alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    let unchanged = common::web_client_patch(&settings, &settings);
    assert_eq!(unchanged, json!({"current_state": {}}));
    client_call(app.patch("/api/v1/settings"), &alice)
        .json(&unchanged)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);

    // 4. An empty field of the user's own card filled in
    //    (`web/scenes/contact/EditContact.tsx`, `web/modules/contact/query.ts`).
    let uri = format!("/api/v2/contacts/{own_contact}");
    let contact = client_call(app.get(&uri), &alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(contact["additional_name"], "");
    let mut edited = contact.clone();
    edited["additional_name"] = json!("Jane");
    let patch = common::web_client_patch(&edited, &contact);
    assert_eq!(
        patch,
        json!({"additional_name": "Jane", "current_state": {}})
    );
    client_call(app.patch(&uri), &alice)
        .json(&patch)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let contact = client_call(app.get(&uri), &alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(contact["additional_name"], "Jane");
    assert_eq!(contact["contact_id"], own_contact.as_str());

    // 5. A remote mail account added (`web/scenes/RemoteIdentitySettings`
    //    `RemoteIdentityEmail` builds an `Identity`), then read back by the
    //    answered `remote_id` (`web/modules/remoteIdentity/actions/createIdentity.js`).
    let created = client_call(app.post("/api/v2/identities/remotes"), &alice)
        .json(&json!({
            "display_name": "alice@elsewhere.example",
            "identifier": "alice@elsewhere.example",
            "credentials": {
                "inusername": "alice", "inpassword": "imap secret",
                "outusername": "alice", "outpassword": "smtp secret",
            },
            "infos": {
                "inserver": "imap.elsewhere.example:993",
                "outserver": "smtp.elsewhere.example:587",
            },
            "protocol": "email",
            "status": "active",
            "type": "remote",
        }))
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    let remote_id = created["remote_id"].as_str().expect("remote_id");
    let identity = client_call(
        app.get(&format!("/api/v2/identities/remotes/{remote_id}")),
        &alice,
    )
    .send()
    .await
    .assert_status(StatusCode::OK)
    .json();
    assert_eq!(identity["identity_id"], remote_id);
    assert_eq!(identity["identifier"], "alice@elsewhere.example");
    assert_eq!(identity["display_name"], "alice@elsewhere.example");
    assert_eq!(identity["protocol"], "email");
    assert_eq!(identity["status"], "active");
    assert_eq!(identity["type"], "remote");
    assert_eq!(identity["infos"]["inserver"], "imap.elsewhere.example:993");
    // The original never sent credentials back; ours are masked (deliberate).
    assert!(!identity.to_string().contains("imap secret"));
    let list = client_call(app.get("/api/v2/identities/remotes"), &alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["remote_identities"][0]["identity_id"], remote_id);
}
