//! Notifications: polling, ranges, deletion, isolation between users.

use crate::common;

use axum::http::StatusCode;
use caliopen_core::model::Notification;
use caliopen_core::model::notification::TtlClass;
use caliopen_core::service::notifications::NewNotification;
use common::TestApp;
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
async fn notifications_are_polled_newest_first_and_read_one_by_one() {
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
    assert_eq!(refs(&all), ["m3", "m2", "m1"]);
    assert_eq!(all["notifications"][0]["notif_id"], third.id.to_string());
    assert_eq!(all["notifications"][0]["emitter"], "delivery");
    assert_eq!(all["notifications"][0]["type"], "event");

    // Ranges by id or by time, both ends included.
    let by_id = app
        .get(&format!(
            "/api/v2/notifications?from={}&to={}",
            second.id, third.id
        ))
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(refs(&by_id), ["m3", "m2"]);
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
    assert_eq!(refs(&by_time), ["m2", "m1"]);
    // An unknown parameter (`limit`) is ignored, as the original did (D18).
    for query in ["from=yesterday", "to=12"] {
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
