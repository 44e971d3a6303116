//! `/v2/contacts`: create, list (with `uri`), read, merge patch with
//! `current_state`, identities, tags, public keys, delete; strict input;
//! another user's contacts and keys are not found.

use crate::common;

use axum::http::StatusCode;
use common::{Session, TestApp};
use serde_json::{Value, json};

/// Base64 of an armored OpenPGP key GnuPG made for `address`, as the web client
/// sends keys (`web/store/modules/public-key.js`).
fn key_for(address: &str) -> String {
    common::gpg::gpg_key(&format!("Test <{address}>"), "ed25519").base64()
}

async fn create(app: &TestApp, who: &Session, body: Value) -> String {
    let res = app
        .post("/api/v2/contacts")
        .auth(who)
        .json(&body)
        .send()
        .await
        .assert_status(StatusCode::OK);
    let body = res.json();
    let id = body["contact_id"].as_str().unwrap().to_owned();
    assert_eq!(body["location"], format!("/api/v2/contacts/{id}"));
    id
}

#[tokio::test]
async fn contact_crud_and_merge_patch() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let id = create(
        &app,
        &alice,
        json!({
            "given_name": "Zoé",
            "family_name": "Martin",
            "emails": [{"address": "Zoe@Example.org", "type": "work", "label": "pro"}],
            "phones": [{"number": "+33 1 23 45 67 89", "type": "home"}],
            "public_keys": [{"label": "work key", "key": key_for("zoe@example.org")}],
        }),
    )
    .await;

    let uri = format!("/api/v2/contacts/{id}");
    let c = app.get(&uri).auth(&alice).send().await;
    let c = c.assert_status(StatusCode::OK).json();
    assert_eq!(c["title"], "Zoé Martin");
    assert_eq!(c["emails"][0]["address"], "zoe@example.org");
    assert_eq!(c["emails"][0]["type"], "work");
    assert_eq!(c["public_keys"][0]["label"], "work key");
    assert_eq!(c["user_id"], alice.user_id.to_string());

    let list = app
        .get("/api/v2/contacts")
        .auth(&alice)
        .header("x-caliopen-pi", "0;100")
        .header("x-caliopen-il", "-10;10")
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    let titles: Vec<&str> = list["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"Zoé Martin"), "{list}");
    assert_eq!(list["total"], titles.len());
    let by_uri = app
        .get("/api/v2/contacts?uri=email:zoe@example.org")
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(by_uri["total"], 1);
    assert_eq!(by_uri["contacts"][0]["contact_id"], id);

    app.patch(&uri)
        .auth(&alice)
        .json(&json!({"family_name": "Durand", "current_state": {"family_name": "Martin"}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let c = app.get(&uri).auth(&alice).send().await.json();
    assert_eq!(c["family_name"], "Durand");

    // The client's view is stale: conflict, nothing changes.
    let res = app
        .patch(&uri)
        .auth(&alice)
        .json(&json!({"family_name": "Petit", "current_state": {"family_name": "Martin"}}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    assert!(
        res.error_message().contains("family_name"),
        "{}",
        res.text()
    );
    // Computed fields cannot be patched; current_state is required.
    let res = app
        .patch(&uri)
        .auth(&alice)
        .json(&json!({"user_id": "x", "current_state": {}}))
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert!(res.error_message().contains("user_id"), "{}", res.text());
    let res = app
        .patch(&uri)
        .auth(&alice)
        .json(&json!({"family_name": "Petit"}))
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert!(res.error_message().contains("current_state"));
    let c = app.get(&uri).auth(&alice).send().await.json();
    assert_eq!(c["family_name"], "Durand");

    app.delete(&uri)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get(&uri)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn identities_tags_and_keys() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let id = create(
        &app,
        &alice,
        json!({"title": "Bob", "emails": [{"address": "bob@example.org"}]}),
    )
    .await;
    let base = format!("/api/v2/contacts/{id}");

    let ids = app
        .get(&format!("{base}/identities"))
        .auth(&alice)
        .send()
        .await;
    let ids = ids.assert_status(StatusCode::OK).json();
    assert_eq!(ids["total"], 1);
    assert_eq!(
        ids["contact_identities"][0]["identifier"],
        "bob@example.org"
    );
    assert_eq!(ids["contact_identities"][0]["protocol"], "email");
    app.patch(&format!("{base}/identities"))
        .auth(&alice)
        .json(&json!({
            "ims": [{"address": "bob@jabber.example", "protocol": "xmpp"}],
            "current_state": {"ims": []},
        }))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let ids = app
        .get(&format!("{base}/identities"))
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(ids["total"], 2, "{ids}");
    let res = app
        .patch(&format!("{base}/identities"))
        .auth(&alice)
        .json(&json!({"title": "Robert", "current_state": {"title": "Bob"}}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert!(res.error_message().contains("title"));

    app.post("/api/v2/tags")
        .auth(&alice)
        .json(&json!({"label": "friends"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.patch(&format!("{base}/tags"))
        .auth(&alice)
        .json(&json!({"tags": ["friends"], "current_state": {"tags": []}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let c = app.get(&base).auth(&alice).send().await.json();
    assert_eq!(c["tags"], json!(["friends"]));
    let res = app
        .patch(&format!("{base}/tags"))
        .auth(&alice)
        .json(&json!({"tags": ["nosuchtag"], "current_state": {"tags": ["friends"]}}))
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert!(res.error_message().contains("nosuchtag"), "{}", res.text());

    let keys = format!("{base}/publickeys");
    let key = key_for("bob@example.org");
    let res = app
        .post(&keys)
        .auth(&alice)
        .json(&json!({"label": "main", "key": key}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let key_id = res.json()["publickey_id"].as_str().unwrap().to_owned();
    assert_eq!(res.json()["location"], format!("{keys}/{key_id}"));
    app.post(&keys)
        .auth(&alice)
        .json(&json!({"label": "again", "key": key}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    let res = app
        .post(&keys)
        .auth(&alice)
        .json(&json!({"label": "bad", "key": "not a key!"}))
        .send()
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.error_message().contains("key"));
    app.post(&keys)
        .auth(&alice)
        .json(&json!({"label": "second", "key": key_for("bob@example.org")}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let list = app.get(&keys).auth(&alice).send().await.json();
    assert_eq!(list["total"], 2);

    let key = format!("{keys}/{key_id}");
    let k = app
        .get(&key)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(k["label"], "main");
    assert_eq!(k["resource_id"], id);
    assert_eq!(k["type"], "pgp");
    app.patch(&key)
        .auth(&alice)
        .json(&json!({"label": "renamed", "current_state": {"label": "main"}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.patch(&key)
        .auth(&alice)
        .json(&json!({"label": "again", "current_state": {"label": "main"}}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    let k = app.get(&key).auth(&alice).send().await.json();
    assert_eq!(k["label"], "renamed");
    app.delete(&key)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get(&key)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_contacts_are_refused_with_the_field() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    for (body, needle) in [
        (
            json!({"emails": [{"address": "not an address"}]}),
            "emails[0].address",
        ),
        (json!({"title": "x", "contact_id": "abc"}), "contact_id"),
        (json!({"phones": [{"number": ""}]}), "phones[0].number"),
        (json!({"title": 12}), "title"),
    ] {
        let res = app
            .post("/api/v2/contacts")
            .auth(&alice)
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
        assert!(
            res.error_message().contains(needle),
            "{body}: {}",
            res.text()
        );
    }
    // min > max is min = max, never a 400 (D20, `go.server/operations/helpers.go`).
    app.get("/api/v2/contacts")
        .auth(&alice)
        .header("x-caliopen-pi", "50;10")
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.get("/api/v2/contacts/not-a-uuid")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_users_contacts_and_keys_are_not_found() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let id = create(
        &app,
        &alice,
        json!({"title": "Carol", "emails": [{"address": "carol@example.org"}],
               "public_keys": [{"label": "k", "key": key_for("carol@example.org")}]}),
    )
    .await;
    let base = format!("/api/v2/contacts/{id}");
    let c = app.get(&base).auth(&alice).send().await.json();
    let key = format!(
        "{base}/publickeys/{}",
        c["public_keys"][0]["key_id"].as_str().unwrap()
    );

    let not_found = StatusCode::NOT_FOUND;
    app.get(&base)
        .auth(&bob)
        .send()
        .await
        .assert_status(not_found);
    app.patch(&base)
        .auth(&bob)
        .json(&json!({"title": "B", "current_state": {"title": "Carol"}}))
        .send()
        .await
        .assert_status(not_found);
    app.get(&format!("{base}/identities"))
        .auth(&bob)
        .send()
        .await
        .assert_status(not_found);
    app.patch(&format!("{base}/identities"))
        .auth(&bob)
        .json(&json!({"emails": [], "current_state": {}}))
        .send()
        .await
        .assert_status(not_found);
    app.patch(&format!("{base}/tags"))
        .auth(&bob)
        .json(&json!({"tags": [], "current_state": {"tags": []}}))
        .send()
        .await
        .assert_status(not_found);
    app.get(&format!("{base}/publickeys"))
        .auth(&bob)
        .send()
        .await
        .assert_status(not_found);
    app.post(&format!("{base}/publickeys"))
        .auth(&bob)
        .json(&json!({"label": "x", "key": key_for("carol@example.org")}))
        .send()
        .await
        .assert_status(not_found);
    app.get(&key)
        .auth(&bob)
        .send()
        .await
        .assert_status(not_found);
    app.patch(&key)
        .auth(&bob)
        .json(&json!({"label": "x", "current_state": {"label": "k"}}))
        .send()
        .await
        .assert_status(not_found);
    app.delete(&key)
        .auth(&bob)
        .send()
        .await
        .assert_status(not_found);
    app.delete(&base)
        .auth(&bob)
        .send()
        .await
        .assert_status(not_found);
    let found = app
        .get("/api/v2/contacts?uri=email:carol@example.org")
        .auth(&bob)
        .send()
        .await
        .json();
    assert_eq!(found["total"], 0);
    // All still there for Alice.
    let c = app.get(&base).auth(&alice).send().await.json();
    assert_eq!(c["title"], "Carol");
    assert_eq!(c["public_keys"].as_array().unwrap().len(), 1);
}

/// D16: public keys as the original stored them: the client sends base64 of
/// the armored key (`web/store/modules/public-key.js`); not base64 → 422
/// (`go/ops/contacts/keys.go`); not an OpenPGP public key, or no user id naming
/// one of the contact's addresses → 422 (`fac/keys.go` `CreatePGPPubKey`,
/// `obj/crypto_keys.go` `UnmarshalPGPEntity`); stored as armor, `fingerprint`
/// upper-case hex of the OpenPGP fingerprint, `size` the bit length, `emails`
/// the contact's (`web/modules/publicKey/actions/updatePublicKey.js` matches
/// fingerprints, `web/modules/encryption/actions/getRecipientKeys.js` reads
/// `key` as armor).
#[tokio::test]
async fn compat_d16_public_keys_as_the_original() {
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let id = create(
        &app,
        &alice,
        json!({"title": "Dan", "emails": [{"address": "dan@example.org"}, {"address": "d@example.net"}]}),
    )
    .await;
    let keys = format!("/api/v2/contacts/{id}/publickeys");
    let gpg = common::gpg::gpg_key("Dan <Dan@Example.org>", "ed25519");
    app.post(&keys)
        .auth(&alice)
        .json(&json!({"label": "PGP", "key": gpg.base64()}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let list = app.get(&keys).auth(&alice).send().await.json();
    assert_eq!(list["total"], 1);
    let k = &list["pubkeys"][0];
    assert!(
        k["key"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"),
        "{k}"
    );
    assert_eq!(k["fingerprint"], gpg.fingerprint);
    assert_eq!(k["fingerprint"].as_str().unwrap().len(), 40);
    assert_eq!(k["size"], gpg.bits);
    assert_eq!(k["emails"], json!(["dan@example.org", "d@example.net"]));

    // The binary form (the original read it too, `openpgp.ReadKeyRing`).
    let rsa = common::gpg::gpg_key("d@example.net", "rsa2048");
    app.post(&keys)
        .auth(&alice)
        .json(&json!({"label": "binary", "key": b64(&rsa.binary)}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let list = app.get(&keys).auth(&alice).send().await.json();
    assert_eq!(list["pubkeys"][1]["fingerprint"], rsa.fingerprint);
    assert_eq!(list["pubkeys"][1]["size"], 2048);

    let other = common::gpg::gpg_key("Eve <eve@example.org>", "ed25519");
    let mut truncated = gpg.binary.clone();
    truncated.truncate(truncated.len() / 2);
    for (what, key) in [
        ("not base64", "%%% not base64 %%%".to_owned()),
        ("the armor itself", gpg.armored.clone()),
        ("base64 of text", b64(b"hello")),
        ("a key of another address", other.base64()),
        ("a truncated key", b64(&truncated)),
        ("an oversized key", b64(&vec![0x99; 200_000])),
        ("an oversized text", "A".repeat(1_000_000)),
    ] {
        let res = app
            .post(&keys)
            .auth(&alice)
            .json(&json!({"label": "bad", "key": key}))
            .send()
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.error_message().contains("key"),
            "{what}: {}",
            res.text()
        );
    }
    assert_eq!(app.get(&keys).auth(&alice).send().await.json()["total"], 2);
}
