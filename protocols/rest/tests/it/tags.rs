//! `/v2/tags`: list with the system tags, create, read, patch with
//! `current_state`, delete; system tags protected; tags of another user not found.

use crate::common;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::json;

#[tokio::test]
async fn user_tags_lifecycle() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;

    let res = app.get("/api/v2/tags").auth(&alice).send().await;
    let body = res.assert_status(StatusCode::OK).json();
    let labels: Vec<&str> = body["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    assert!(labels.len() >= 4 && body["total"] == labels.len(), "{body}");
    assert!(
        body["tags"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["type"] == "system")
    );

    let res = app
        .post("/api/v2/tags")
        .auth(&alice)
        .json(&json!({"label": "Projects", "importance_level": 3}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let location = res.json()["location"].as_str().unwrap().to_owned();
    assert!(location.starts_with("/api/v2/tags/"), "{location}");

    let tag = app.get(&location).auth(&alice).send().await;
    let tag = tag.assert_status(StatusCode::OK).json();
    assert_eq!(tag["label"], "Projects");
    assert_eq!(tag["type"], "user");
    assert_eq!(tag["importance_level"], 3);

    // The same label again is a conflict.
    let res = app
        .post("/api/v2/tags")
        .auth(&alice)
        .json(&json!({"label": "Projects"}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    assert!(res.error_message().contains("exists"), "{}", res.text());

    app.patch(&location)
        .auth(&alice)
        .json(&json!({"label": "Work", "current_state": {"label": "Projects"}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let tag = app.get(&location).auth(&alice).send().await.json();
    assert_eq!(tag["label"], "Work");

    // A stale current_state is refused, and nothing changes.
    let res = app
        .patch(&location)
        .auth(&alice)
        .json(&json!({"label": "Other", "current_state": {"label": "Projects"}}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    assert!(!res.error_message().is_empty());
    let tag = app.get(&location).auth(&alice).send().await.json();
    assert_eq!(tag["label"], "Work");

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
async fn system_tags_are_protected_and_bad_input_is_typed() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;

    let res = app
        .delete("/api/v2/tags/inbox")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert!(res.error_message().contains("system tag"), "{}", res.text());
    let res = app
        .patch("/api/v2/tags/inbox")
        .auth(&alice)
        .json(&json!({"label": "Box", "current_state": {"label": "inbox"}}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert!(res.error_message().contains("relabelled"), "{}", res.text());
    // Its importance may change.
    let inbox = app
        .get("/api/v2/tags/inbox")
        .auth(&alice)
        .send()
        .await
        .json();
    app.patch("/api/v2/tags/inbox")
        .auth(&alice)
        .json(&json!({"importance_level": 2, "current_state": {"importance_level": inbox["importance_level"]}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);

    for (body, needle) in [
        (json!({"label": ""}), "label"),
        (json!({"label": "x", "importance_level": 99}), "importance"),
        (json!({"label": "x", "color": "red"}), "color"),
        (json!({"importance_level": 1}), "label"),
    ] {
        let res = app
            .post("/api/v2/tags")
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
    let res = app
        .patch("/api/v2/tags/inbox")
        .auth(&alice)
        .json(&json!({"importance_level": 1}))
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert!(
        res.error_message().contains("current_state"),
        "{}",
        res.text()
    );
    app.get("/api/v2/tags")
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn another_users_tags_are_not_found() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let res = app
        .post("/api/v2/tags")
        .auth(&alice)
        .json(&json!({"label": "Secret"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let location = res.json()["location"].as_str().unwrap().to_owned();

    app.get(&location)
        .auth(&bob)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.patch(&location)
        .auth(&bob)
        .json(&json!({"label": "Mine", "current_state": {"label": "Secret"}}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.delete(&location)
        .auth(&bob)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let bobs = app.get("/api/v2/tags").auth(&bob).send().await.json();
    assert!(!bobs.to_string().contains("Secret"));
    // Still there for Alice.
    app.get(&location)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK);
}

/// D3: tags carry their `name`, the key the web client addresses them by
/// (`web/modules/tags/query.ts`: `/api/v2/tags/${tag.name}`) and sends in
/// `PATCH .../tags`. Shape from the original's `obj/tag.go` (every field but
/// `user_id` goes to the front end) and `go/ops/tags/tags.go` (`CreateTag`
/// answers `Location`).
#[tokio::test]
async fn compat_d03_tags_carry_their_name() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;

    let res = app
        .post("/api/v2/tags")
        .auth(&alice)
        .json(&json!({"label": "Work stuff"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let created = res.json();
    let location = created["location"].as_str().unwrap().to_owned();
    assert_eq!(created["Location"], created["location"], "{created}");
    let name = location.rsplit('/').next().unwrap().to_owned();

    let list = app
        .get("/api/v2/tags")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    let tags = list["tags"].as_array().unwrap();
    for tag in tags {
        let keys: Vec<&str> = tag
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for key in ["name", "label", "type", "importance_level", "date_insert"] {
            assert!(keys.contains(&key), "`{key}` missing in {tag}");
        }
        assert!(!keys.contains(&"user_id"), "{tag}");
        // Every listed tag is addressable by its name.
        let path = format!("/api/v2/tags/{}", tag["name"].as_str().unwrap());
        let one = app.get(&path).auth(&alice).send().await;
        assert_eq!(&one.assert_status(StatusCode::OK).json(), tag);
    }
    let mine = tags.iter().find(|t| t["label"] == "Work stuff").unwrap();
    assert_eq!(mine["name"], name.as_str());
    assert_eq!(mine["type"], "user");
    // The system tags the client labels by name (`getTagLabel`).
    for system in ["inbox", "spam", "important"] {
        assert!(
            tags.iter()
                .any(|t| t["name"] == system && t["type"] == "system"),
            "no system tag `{system}` in {list}"
        );
    }
}
