//! One address, one contact (docs/api-compatibility.md D13): the original
//! refused a contact point that another contact of the user has with a 403
//! whose message the web client parses
//! (`web/scenes/contact/services/handleContactSaveErrors.ts`:
//! `^uri <(.*)> belongs to contact ([a-f0-9\-]+)$`). Original:
//! `cas/contacts.go` (`ControlURIsUniqueness`: `uri <%s> belongs to contact %s`),
//! `obj/contact.go` (`GetLookupKeys`).

use crate::common;

use axum::http::StatusCode;
use common::{Session, TestApp};
use serde_json::{Value, json};

async fn create(app: &TestApp, who: &Session, body: Value) -> String {
    app.post("/api/v2/contacts")
        .auth(who)
        .json(&body)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json()["contact_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The `(uri, contact id)` of a message shaped as the client's pattern, or
/// panics.
fn parse_taken(message: &str) -> (String, String) {
    let rest = message
        .strip_prefix("uri <")
        .unwrap_or_else(|| panic!("not the original's message: {message}"));
    let (uri, id) = rest
        .rsplit_once("> belongs to contact ")
        .unwrap_or_else(|| panic!("not the original's message: {message}"));
    assert!(
        !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
        "{message}"
    );
    (uri.to_owned(), id.to_owned())
}

async fn contact_count(app: &TestApp, who: &Session) -> u64 {
    app.get("/api/v2/contacts").auth(who).send().await.json()["total"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn compat_d13_an_address_belongs_to_one_contact() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let bob_id = create(
        &app,
        &alice,
        json!({"given_name": "Bob", "emails": [{"address": "bob@example.org"}]}),
    )
    .await;
    let before = contact_count(&app, &alice).await;

    // Create: 403, exactly the original's message; nothing created.
    let res = app
        .post("/api/v2/contacts")
        .auth(&alice)
        .json(&json!({"given_name": "Robert", "emails": [{"address": "Bob@Example.org"}]}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let errors = res.json()["errors"].clone();
    assert_eq!(errors[0]["code"], 403);
    assert_eq!(
        errors[0]["message"],
        format!("uri <email:bob@example.org> belongs to contact {bob_id}")
    );
    assert_eq!(
        parse_taken(errors[0]["message"].as_str().unwrap()),
        ("email:bob@example.org".to_owned(), bob_id.clone())
    );
    assert_eq!(contact_count(&app, &alice).await, before);

    // Patch: adding that address to another contact is 403, nothing changes.
    let carol_id = create(
        &app,
        &alice,
        json!({"given_name": "Carol", "emails": [{"address": "carol@example.org"}]}),
    )
    .await;
    let carol_uri = format!("/api/v2/contacts/{carol_id}");
    let carol = app.get(&carol_uri).auth(&alice).send().await.json();
    let res = app
        .patch(&carol_uri)
        .auth(&alice)
        .json(&json!({
            "emails": [{"address": "carol@example.org"}, {"address": "bob@example.org"}],
            "current_state": {"emails": carol["emails"]},
        }))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let messages: Vec<String> = res.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| parse_taken(m) == ("email:bob@example.org".to_owned(), bob_id.clone())),
        "{messages:?}"
    );
    assert_eq!(app.get(&carol_uri).auth(&alice).send().await.json(), carol);

    // Re-saving a contact with its own addresses, plus a new phone, is fine.
    app.patch(&carol_uri)
        .auth(&alice)
        .json(&json!({
            "emails": [{"address": "carol@example.org"}],
            "phones": [{"number": "+33 1 23 45 67 89"}],
            "current_state": {"emails": carol["emails"]},
        }))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    // The phone, an IM and the user's own address are contact points too.
    for (body, uri) in [
        (
            json!({"phones": [{"number": "+33 1 23 45 67 89"}]}),
            "phone:".to_owned(),
        ),
        (
            json!({"emails": [{"address": "alice@caliopen.local"}]}),
            "email:alice@caliopen.local".to_owned(),
        ),
    ] {
        let res = app
            .post("/api/v2/contacts")
            .auth(&alice)
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::FORBIDDEN);
        let (taken, _) = parse_taken(&res.error_message());
        assert!(taken.starts_with(&uri), "{taken} for {uri}");
    }
    create(
        &app,
        &alice,
        json!({"ims": [{"address": "dave@chat.example", "protocol": "xmpp"}]}),
    )
    .await;
    let res = app
        .post("/api/v2/contacts")
        .auth(&alice)
        .json(&json!({"ims": [{"address": "Dave@chat.example", "protocol": "xmpp"}]}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(
        parse_taken(&res.error_message()).0,
        "xmpp:dave@chat.example"
    );

    // The lookup by address answers the one owner.
    let found = app
        .get("/api/v2/contacts?uri=email:bob@example.org")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(found["total"], 1);
    assert_eq!(found["contacts"][0]["contact_id"], bob_id.as_str());

    // Another user may have a contact with the same address.
    let bob = app.user("bob").await;
    create(
        &app,
        &bob,
        json!({"emails": [{"address": "bob@example.org"}]}),
    )
    .await;
}
