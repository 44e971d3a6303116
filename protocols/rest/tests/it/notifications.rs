//! Notifications: polling, ranges, deletion, isolation between users.

use crate::common;

use axum::http::StatusCode;
use caliopen_core::model::Notification;
use caliopen_core::model::notification::TtlClass;
use caliopen_core::service::notifications::NewNotification;
use common::TestApp;
use serde_json::json;
use uuid::Uuid;

async fn notify(app: &TestApp, user: Uuid, reference: &str) -> Notification {
    app.core
        .notify(
            user,
            NewNotification {
                emitter: "delivery".into(),
                kind: "event".into(),
                reference: reference.into(),
                body: format!("new mail {reference}"),
                ttl: TtlClass::Medium,
            },
        )
        .await
        .unwrap()
}

fn refs(body: &serde_json::Value) -> Vec<String> {
    body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["reference"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
/// Order and ranges as the original (`go/ops/notifications/notifications.go`,
/// `cas/notifications.go`): oldest first; ids as bounds are exclusive (the web
/// client polls `from=<last notif_id>`), times inclusive.
async fn notifications_are_polled_oldest_first_and_read_one_by_one() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let first = notify(&app, alice.user_id, "m1").await;
    let second = notify(&app, alice.user_id, "m2").await;
    let third = notify(&app, alice.user_id, "m3").await;

    let all = app
        .get("/api/v2/notifications")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(all["total"], 3);
    assert_eq!(refs(&all), ["m1", "m2", "m3"]);
    assert_eq!(all["notifications"][2]["notif_id"], third.id.to_string());
    assert_eq!(all["notifications"][2]["emitter"], "delivery");
    assert_eq!(all["notifications"][2]["type"], "event");
    assert!(all["notifications"][2].get("user_id").is_none(), "{all}");

    // Ranges by id (ends excluded) or by time (ends included).
    let by_id = app
        .get(&format!(
            "/api/v2/notifications?from={}&to={}",
            first.id, third.id
        ))
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(refs(&by_id), ["m2"]);
    let polled = app
        .get(&format!("/api/v2/notifications?from={}", third.id))
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(polled, json!({"total": 0, "notifications": []}));
    let since = second
        .date_insert
        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let by_time = app
        .get(&format!(
            "/api/v2/notifications?to={}",
            since.replace('+', "%2B")
        ))
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(refs(&by_time), ["m1", "m2"]);
    // An unknown parameter (`limit`) is ignored, as the original did (D18); ids and
    // times mixed in one query are refused.
    let mixed = format!("from={}&to={}", first.id, since.replace('+', "%2B"));
    for query in ["from=yesterday", "to=12", mixed.as_str()] {
        app.get(&format!("/api/v2/notifications?{query}"))
            .auth(&alice)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
    }

    let one = app
        .get(&format!("/api/v2/notifications/{}", first.id))
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(one["body"], "new mail m1");
    app.delete(&format!("/api/v2/notifications/{}", first.id))
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get(&format!("/api/v2/notifications/{}", first.id))
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get("/api/v2/notifications/not-an-id")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn notifications_are_deleted_until_a_time_or_all() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    notify(&app, alice.user_id, "old").await;
    let newer = notify(&app, alice.user_id, "new").await;

    let until = newer
        .date_insert
        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    app.delete(&format!(
        "/api/v2/notifications?until={}",
        until.replace('+', "%2B")
    ))
    .auth(&alice)
    .send()
    .await
    .assert_status(StatusCode::NO_CONTENT);
    let left = app
        .get("/api/v2/notifications")
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(refs(&left), ["new"]);

    app.delete("/api/v2/notifications?until=soon")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    app.delete("/api/v2/notifications")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let left = app
        .get("/api/v2/notifications")
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(left["total"], 0);
}

#[tokio::test]
async fn another_users_notifications_are_not_found() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let n = notify(&app, alice.user_id, "secret").await;
    let uri = format!("/api/v2/notifications/{}", n.id);

    app.get(&uri)
        .auth(&bob)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.delete(&uri)
        .auth(&bob)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let list = app
        .get("/api/v2/notifications")
        .auth(&bob)
        .send()
        .await
        .json();
    assert_eq!(list["total"], 0);
    app.delete("/api/v2/notifications")
        .auth(&bob)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    // Alice still has hers.
    app.get(&uri)
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.get("/api/v2/notifications")
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

/// D8: each delivered mail leaves a `new_message` notification the web
/// client's poller uses (`web/modules/notification/services/notification.worker.js`
/// polls `from=<last notif_id>`; `messageNotificationsSelector` keeps
/// `type == "new_message"`; `MessageNotificationHandler` sums `body.size`).
/// Shape from the original's `src/backend/brokers/go.emails/inbound.go` and
/// `facilities/Notifications/batch.go` (body `{"size", "elements": [{"body":
/// {"message_id", "discussion_id"}}]}`), inserted as raw JSON by
/// `obj/notification.go`; oldest first (`cas/notifications.go`).
#[tokio::test]
async fn compat_d08_delivery_notifies_new_message() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let _delivery = app.start_delivery();
    let first = app
        .deliver(
            &alice,
            "From: Bob <bob@example.org>\nTo: alice@caliopen.local\nSubject: one\n\nHi\n",
        )
        .await;

    let all = app
        .get("/api/v2/notifications")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(all["total"], 1, "{all}");
    let n = &all["notifications"][0];
    assert_eq!(n["type"], "new_message");
    assert_eq!(n["emitter"], "smtp");
    assert_eq!(
        n["body"],
        json!({"size": 1, "elements": [{"body": {
            "message_id": first.id.to_string(),
            "discussion_id": first.discussion_id,
        }}]})
    );
    let last = n["notif_id"].as_str().unwrap().to_owned();

    // The poller asks for what came after the last one it has.
    let since = format!("/api/v2/notifications?from={last}");
    let none = app.get(&since).auth(&alice).send().await.json();
    assert_eq!(none, json!({"total": 0, "notifications": []}));
    let second = app
        .deliver(
            &alice,
            "From: Carol <carol@example.org>\nTo: alice@caliopen.local\nSubject: two\n\nYo\n",
        )
        .await;
    let new = app.get(&since).auth(&alice).send().await.json();
    assert_eq!(new["total"], 1, "{new}");
    assert_eq!(
        new["notifications"][0]["body"]["elements"][0]["body"]["message_id"],
        second.id.to_string()
    );
    // Both, oldest first.
    let all = app
        .get("/api/v2/notifications")
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(all["notifications"][0]["notif_id"], last.as_str());
    assert_eq!(all["notifications"][1], new["notifications"][0]);
}
