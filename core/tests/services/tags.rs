//! Tags: create, patch, delete, and tags on messages and discussions.

use caliopen_core::CoreError;
use caliopen_core::model::TagKind;
use caliopen_core::service::tags::NewTag;
use serde_json::json;

use crate::contacts::contact;
use crate::harness::{Node, assert_invalid, assert_not_found, patch};

fn new_tag(label: &str, importance: Option<i64>) -> NewTag {
    NewTag {
        label: label.into(),
        importance_level: importance,
    }
}

#[tokio::test]
async fn user_tags_are_created_patched_and_validated() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let tag = node
        .core
        .create_tag(alice.id, new_tag("  Très important ", Some(3)))
        .await
        .unwrap();
    assert_eq!(
        (tag.name.as_str(), tag.label.as_str(), tag.kind),
        ("très-important", "Très important", TagKind::User)
    );
    assert_eq!(
        node.core.tag(alice.id, "très-important").await.unwrap(),
        tag
    );
    assert!(matches!(
        node.core
            .create_tag(alice.id, new_tag("très IMPORTANT", None))
            .await,
        Err(CoreError::Conflict(_))
    ));
    assert!(matches!(
        node.core.create_tag(alice.id, new_tag("Inbox", None)).await,
        Err(CoreError::Conflict(_))
    ));
    assert_invalid(
        node.core.create_tag(alice.id, new_tag("x", Some(11))).await,
        "importance_level",
    );
    assert_invalid(
        node.core.create_tag(alice.id, new_tag("  ", None)).await,
        "label",
    );
    assert_invalid(
        node.core.create_tag(alice.id, new_tag("!!!", None)).await,
        "label",
    );
    assert_invalid(
        node.core
            .create_tag(alice.id, new_tag(&"l".repeat(65), None))
            .await,
        "label",
    );

    let p = patch(json!({"label": "Urgent", "importance_level": -2,
        "current_state": {"label": "Très important", "importance_level": 3}}));
    let changed = node
        .core
        .patch_tag(alice.id, "très-important", &p)
        .await
        .unwrap();
    assert_eq!(
        (
            changed.name.as_str(),
            changed.label.as_str(),
            changed.importance_level
        ),
        ("très-important", "Urgent", -2)
    );
    assert!(matches!(
        node.core.patch_tag(alice.id, "très-important", &p).await,
        Err(CoreError::Conflict(_))
    ));
    let too_much =
        patch(json!({"importance_level": 20, "current_state": {"importance_level": -2}}));
    assert_invalid(
        node.core
            .patch_tag(alice.id, "très-important", &too_much)
            .await,
        "importance_level",
    );
    let kind = patch(json!({"kind": "system", "current_state": {"kind": "user"}}));
    assert_invalid(
        node.core.patch_tag(alice.id, "très-important", &kind).await,
        "kind",
    );

    let relabel = patch(json!({"label": "Boîte", "current_state": {"label": "inbox"}}));
    assert!(matches!(
        node.core.patch_tag(alice.id, "inbox", &relabel).await,
        Err(CoreError::Forbidden(_))
    ));
    let important = patch(json!({"importance_level": 7, "current_state": {"importance_level": 5}}));
    assert_eq!(
        node.core
            .patch_tag(alice.id, "important", &important)
            .await
            .unwrap()
            .importance_level,
        7
    );
}

#[tokio::test]
async fn deleting_a_user_tag_takes_it_off_messages_and_contacts() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    node.core
        .create_tag(alice.id, new_tag("Work", None))
        .await
        .unwrap();
    let m = node
        .deliver(
            &alice,
            "From: bob@example.org\nTo: alice@caliopen.local\nSubject: report",
            "q3",
        )
        .await;
    let tagged = node
        .core
        .set_message_tags(alice.id, m.id, &["work".into(), "inbox".into()])
        .await
        .unwrap();
    assert_eq!(tagged.tags, vec!["inbox", "work"]);
    let c = node
        .core
        .create_contact(alice.id, contact("Bob", "bob@example.org"))
        .await
        .unwrap();
    node.core
        .set_contact_tags(alice.id, c.id, &["work".into()])
        .await
        .unwrap();
    node.core.index_all_pending().await.unwrap();
    let found = node
        .core
        .search(alice.id, "work", None, 10, 0)
        .await
        .unwrap();
    assert_eq!(
        (found.messages.total, found.contacts.total),
        (1, 1),
        "tags are searchable"
    );

    assert!(matches!(
        node.core.delete_tag(alice.id, "inbox").await,
        Err(CoreError::Forbidden(_))
    ));
    node.core.delete_tag(alice.id, "work").await.unwrap();
    assert_not_found(node.core.tag(alice.id, "work").await);
    assert_eq!(
        node.core.message(alice.id, m.id).await.unwrap().tags,
        vec!["inbox"]
    );
    assert!(
        node.core
            .contact(alice.id, c.id)
            .await
            .unwrap()
            .tags
            .is_empty()
    );
    node.core.index_all_pending().await.unwrap();
    let found = node
        .core
        .search(alice.id, "work", None, 10, 0)
        .await
        .unwrap();
    assert_eq!(found.total, 0);
    assert_not_found(node.core.delete_tag(alice.id, "work").await);
}

#[tokio::test]
async fn message_and_discussion_tags_accept_only_existing_tags() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let headers = "From: bob@example.org\nTo: alice@caliopen.local";
    let m1 = node
        .deliver(&alice, &format!("{headers}\nSubject: a"), "a")
        .await;
    let m2 = node
        .deliver(&alice, &format!("{headers}\nSubject: b"), "b")
        .await;
    assert_invalid(
        node.core
            .set_message_tags(alice.id, m1.id, &["inbox".into(), "ghost".into()])
            .await,
        "tags[1]",
    );
    let p = patch(json!({"tags": ["important"], "current_state": {"tags": ["inbox"]}}));
    assert_eq!(
        node.core
            .patch_message_tags(alice.id, m1.id, &p)
            .await
            .unwrap()
            .tags,
        vec!["important"]
    );
    assert!(matches!(
        node.core.patch_message_tags(alice.id, m1.id, &p).await,
        Err(CoreError::Conflict(_))
    ));

    let n = node
        .core
        .set_discussion_tags(alice.id, &m1.discussion_id, &["spam".into()])
        .await
        .unwrap();
    assert_eq!(n, 2);
    for id in [m1.id, m2.id] {
        assert_eq!(
            node.core.message(alice.id, id).await.unwrap().tags,
            vec!["spam"]
        );
    }
    assert_invalid(
        node.core
            .set_discussion_tags(alice.id, &m1.discussion_id, &["ghost".into()])
            .await,
        "tags[0]",
    );
    assert_not_found(
        node.core
            .set_discussion_tags(alice.id, "no-such-discussion", &[])
            .await,
    );
}
