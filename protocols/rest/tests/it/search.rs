//! `GET /v2/search` (messages and contacts, with their records) and
//! `GET /v2/participants/suggest`; one user never finds another's documents.

use crate::common;

use axum::http::StatusCode;
use common::{Session, TestApp};
use serde_json::json;

async fn setup(app: &TestApp, alice: &Session, bob: &Session) -> caliopen_core::model::Message {
    for (who, subject) in [(alice, "pangolin sighting"), (bob, "pangolin too")] {
        let user = app.core.user(who.user_id).await.unwrap();
        let raw = format!(
            "From: Carol Jones <carol@example.net>\nTo: {}\nSubject: {subject}\n\nscales everywhere\n",
            user.local_identity
        );
        app.deliver(who, &raw).await;
    }
    app.post("/api/v2/contacts")
        .auth(alice)
        .json(&json!({"title": "Pangolin Fan Club", "emails": [{"address": "club@example.org"}]}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.core.index_all_pending().await.unwrap();
    let (_, mine) = app
        .core
        .list_messages(alice.user_id, &Default::default())
        .await
        .unwrap();
    mine.into_iter().next().unwrap()
}

#[tokio::test]
async fn search_finds_the_users_messages_and_contacts() {
    let app = TestApp::new().await;
    let _delivery = app.start_delivery();
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let message = setup(&app, &alice, &bob).await;

    let found = app
        .get("/api/v2/search?term=pangolin")
        .auth(&alice)
        .header("x-caliopen-il", "-10;10")
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(found["total"], 2, "{found}");
    let hit = &found["messages_hits"]["messages"][0];
    assert_eq!(hit["id"], message.id.to_string());
    assert_eq!(hit["document"]["subject"], "pangolin sighting");
    assert_eq!(
        found["contact_hits"]["contacts"][0]["document"]["title"],
        "Pangolin Fan Club"
    );

    let only = app
        .get("/api/v2/search?term=pangolin&doctype=contact&limit=5&offset=0")
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(only["messages_hits"]["total"], 0);
    assert_eq!(only["contact_hits"]["total"], 1);

    // Bob finds only his own message.
    let bobs = app
        .get("/api/v2/search?term=pangolin")
        .auth(&bob)
        .send()
        .await
        .json();
    assert_eq!(bobs["total"], 1, "{bobs}");
    assert_eq!(
        bobs["messages_hits"]["messages"][0]["document"]["subject"],
        "pangolin too"
    );
    assert_eq!(bobs["contact_hits"]["total"], 0);
}

#[tokio::test]
async fn bad_searches_are_typed() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    for (uri, needle) in [
        ("/api/v2/search", "term"),
        ("/api/v2/search?term=x&doctype=file", "doctype"),
        ("/api/v2/search?term=x&field=subject", "field"),
        // An unknown parameter (`sort`) is ignored, as the original did (D18).
        ("/api/v2/search?term=x&limit=-3", "limit"),
    ] {
        let res = app
            .get(uri)
            .auth(&alice)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
        assert!(
            res.error_message().contains(needle),
            "{uri}: {}",
            res.text()
        );
    }
    let res = app
        .post("/api/v2/search")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_IMPLEMENTED);
    assert!(res.error_message().contains("GET"));
    app.get("/api/v2/search?term=pangolin")
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn suggestions_come_from_the_users_contacts_and_mail() {
    let app = TestApp::new().await;
    let _delivery = app.start_delivery();
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    setup(&app, &alice, &bob).await;

    let found = app
        .get("/api/v2/participants/suggest?context=msg_compose&q=club")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(found[0]["address"], "club@example.org");
    assert_eq!(found[0]["source"], "contact");
    assert!(found[0]["contact_id"].is_string());
    let seen = app
        .get("/api/v2/participants/suggest?context=msg_compose&q=carol")
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(seen[0]["address"], "carol@example.net");
    assert_eq!(seen[0]["source"], "participant");

    // Bob's suggestions do not include Alice's contacts.
    let bobs = app
        .get("/api/v2/participants/suggest?context=msg_compose&q=club")
        .auth(&bob)
        .send()
        .await
        .json();
    assert_eq!(bobs, json!([]));

    for (uri, needle) in [
        ("/api/v2/participants/suggest?context=msg_compose&q=ab", "q"),
        (
            "/api/v2/participants/suggest?context=other&q=carol",
            "context",
        ),
        ("/api/v2/participants/suggest?q=carol", "context"),
        (
            "/api/v2/participants/suggest?context=msg_compose&q=carol&limit=0",
            "limit",
        ),
    ] {
        let res = app
            .get(uri)
            .auth(&alice)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
        assert!(
            res.error_message().contains(needle),
            "{uri}: {}",
            res.text()
        );
    }
}
