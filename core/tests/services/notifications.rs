//! Notifications: newest first, TTL classes, deletion.

use caliopen_core::model::notification::TtlClass;
use caliopen_core::service::notifications::NewNotification;

use crate::harness::{Node, assert_invalid, assert_not_found};

fn note(body: &str, ttl: TtlClass) -> NewNotification {
    NewNotification {
        emitter: "test".into(),
        kind: "info".into(),
        reference: String::new(),
        body: body.into(),
        ttl,
    }
}

#[tokio::test]
async fn notifications_are_listed_newest_first_and_deleted() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let m = node
        .deliver(
            &alice,
            "From: bob@example.org\nTo: alice@caliopen.local\nSubject: ping",
            "x",
        )
        .await;
    let short = node
        .core
        .notify(alice.id, note("short", TtlClass::Short))
        .await
        .unwrap();
    let long = node
        .core
        .notify(alice.id, note("long", TtlClass::Long))
        .await
        .unwrap();
    assert_eq!(
        short.expires_at - short.date_insert,
        chrono::Duration::days(1)
    );
    assert_eq!(
        long.expires_at - long.date_insert,
        chrono::Duration::days(30)
    );

    let (total, list) = node.core.list_notifications(alice.id, 10, 0).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(list[0].id, long.id);
    assert_eq!(list[1].id, short.id);
    // New mail, as the original's broker notified it (go.emails/inbound.go).
    assert_eq!(list[2].emitter, "smtp");
    assert_eq!(list[2].kind, "new_message");
    let body: serde_json::Value = serde_json::from_str(&list[2].body).unwrap();
    assert_eq!(body["size"], 1);
    assert_eq!(body["elements"][0]["body"]["message_id"], m.id.to_string());
    assert_eq!(
        body["elements"][0]["body"]["discussion_id"],
        m.discussion_id.as_str()
    );
    assert_eq!(list[2].reference, m.id.to_string());
    assert_eq!(list[2].ttl_class, TtlClass::Long);
    let (_, page) = node.core.list_notifications(alice.id, 1, 1).await.unwrap();
    assert_eq!(page[0].id, short.id);
    assert_eq!(
        node.core.notification(alice.id, short.id).await.unwrap(),
        short
    );

    node.core
        .delete_notification(alice.id, short.id)
        .await
        .unwrap();
    assert_not_found(node.core.notification(alice.id, short.id).await);
    assert_not_found(node.core.delete_notification(alice.id, short.id).await);
    assert_eq!(
        node.core
            .delete_notifications(alice.id, Some(long.date_insert))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        node.core
            .list_notifications(alice.id, 10, 0)
            .await
            .unwrap()
            .0,
        1
    );
    assert_eq!(
        node.core
            .delete_notifications(alice.id, None)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        node.core
            .list_notifications(alice.id, 10, 0)
            .await
            .unwrap()
            .0,
        0
    );

    let mut nameless = note("x", TtlClass::Short);
    nameless.emitter.clear();
    assert_invalid(node.core.notify(alice.id, nameless).await, "emitter");
    assert_invalid(
        node.core
            .notify(alice.id, note(&"b".repeat(5000), TtlClass::Short))
            .await,
        "body",
    );
    assert_not_found(
        node.core
            .notify(uuid::Uuid::now_v7(), note("x", TtlClass::Short))
            .await,
    );
}
