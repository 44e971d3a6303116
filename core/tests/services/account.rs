//! The account: `/me`, settings patches, password reset, deletion.

use caliopen_core::CoreError;
use caliopen_core::service::auth::DeviceInfo;
use caliopen_core::service::drafts::{DraftParticipant, NewDraft};
use caliopen_core::service::tags::NewTag;
use caliopen_core::tables::{ADDRESSES, DELIVERIES, QUARANTINE, USER_TABLES, USERNAMES, USERS};
use caliopen_storage_traits::search::SearchQuery;
use caliopen_storage_traits::{Scan, Scope};
use serde_json::json;

use crate::contacts::contact;
use crate::harness::{Node, assert_invalid, assert_not_found, patch};

/// The device these tests log in on (a login names its device).
fn laptop() -> DeviceInfo {
    DeviceInfo {
        device_id: "laptop".into(),
        ..DeviceInfo::default()
    }
}

#[tokio::test]
async fn me_and_settings() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let me = node.core.me(alice.id).await.unwrap();
    assert_eq!(me.user.id, alice.id);
    assert_eq!(me.contact.id, alice.contact_id);
    assert_eq!(me.contact.emails[0].address, "alice@caliopen.local");

    let plain = patch(
        json!({"message_display_format": "plain_text", "notification_enabled": false,
        "current_state": {"message_display_format": "rich_text", "notification_enabled": true}}),
    );
    let settings = node.core.patch_settings(alice.id, &plain).await.unwrap();
    assert_eq!(settings.message_display_format, "plain_text");
    assert_eq!(node.core.settings(alice.id).await.unwrap(), settings);
    assert!(matches!(
        node.core.patch_settings(alice.id, &plain).await,
        Err(CoreError::Conflict(_))
    ));
    let cases = [
        (
            json!({"message_display_format": "fancy", "current_state": {"message_display_format": "plain_text"}}),
            "message_display_format",
        ),
        (
            json!({"contact_display_order": "age", "current_state": {"contact_display_order": "given_name"}}),
            "contact_display_order",
        ),
        (
            json!({"notification_delay_disappear": -1, "current_state": {"notification_delay_disappear": 10}}),
            "notification_delay_disappear",
        ),
        (
            json!({"notification_enabled": "yes", "current_state": {"notification_enabled": false}}),
            "notification_enabled",
        ),
        (
            json!({"theme": "dark", "current_state": {"theme": null}}),
            "theme",
        ),
    ];
    for (body, field) in cases {
        assert_invalid(
            node.core.patch_settings(alice.id, &patch(body)).await,
            field,
        );
    }
    assert_eq!(node.core.settings(alice.id).await.unwrap(), settings);
}

#[tokio::test]
async fn a_password_is_reset_with_a_token_once() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let session = node
        .core
        .login("alice", "password-of-alice", laptop())
        .await
        .unwrap();
    // `fac/users.go` `RequestPasswordReset`: "username and recovery email mismatch".
    assert!(matches!(
        node.core
            .request_password_reset("alice", "someone@else.org", None)
            .await,
        Err(CoreError::Conflict(_))
    ));
    assert_not_found(
        node.core
            .request_password_reset("nobody", "alice@recovery.example", None)
            .await,
    );
    assert_invalid(
        node.core
            .request_password_reset("alice", "not-an-address", None)
            .await,
        "recovery_email",
    );
    assert_invalid(
        node.core.request_password_reset(" ", "", None).await,
        "username",
    );
    // Only the recovery address: the account is found by it (`fac/users.go`
    // `RequestPasswordReset`).
    assert_eq!(
        node.core
            .request_password_reset(" ", "alice@recovery.example", None)
            .await
            .unwrap()
            .user_id,
        alice.id
    );

    let first = node
        .core
        .request_password_reset("Alice", "ALICE@recovery.example", None)
        .await
        .unwrap();
    let reset = node
        .core
        .request_password_reset("alice", "alice@recovery.example", None)
        .await
        .unwrap();
    assert_not_found(node.core.password_reset_user(&first.token).await);
    assert_eq!(
        node.core.password_reset_user(&reset.token).await.unwrap(),
        alice.id
    );
    assert_invalid(
        node.core.reset_password(&reset.token, "short").await,
        "password",
    );
    node.core
        .reset_password(&reset.token, "a brand new password")
        .await
        .unwrap();
    assert_not_found(
        node.core
            .reset_password(&reset.token, "another new password")
            .await,
    );
    assert!(matches!(
        node.core
            .authenticate(
                alice.id,
                &session.tokens.access_token,
                &session.device.device_id
            )
            .await,
        Err(CoreError::Unauthenticated(_))
    ));
    assert!(
        node.core
            .login("alice", "password-of-alice", laptop())
            .await
            .is_err()
    );
    node.core
        .login("alice", "a brand new password", laptop())
        .await
        .unwrap();
}

#[tokio::test]
async fn deleting_an_account_leaves_nothing_of_it() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let bob = node.user("bob").await;
    let session = node
        .core
        .login("alice", "password-of-alice", laptop())
        .await
        .unwrap();
    let headers = "From: Carol <carol@example.net>\nTo: alice@caliopen.local, bob@caliopen.local\nSubject: hello both";
    let received = node.deliver(&alice, headers, "to both of you").await;
    let bobs = node.deliver(&bob, headers, "to both of you").await;
    node.core.set_read(alice.id, received.id).await.unwrap();
    node.core
        .create_tag(
            alice.id,
            NewTag {
                label: "Mine".into(),
                importance_level: None,
            },
        )
        .await
        .unwrap();
    node.core
        .create_contact(alice.id, contact("Dave", "dave@example.org"))
        .await
        .unwrap();
    let draft = NewDraft {
        user_identities: vec![node.identity_id(&alice).await.to_string()],
        participants: vec![DraftParticipant {
            role: "To".into(),
            address: "dave@example.org".into(),
            ..Default::default()
        }],
        subject: "draft".into(),
        ..NewDraft::default()
    };
    node.core.create_draft(alice.id, draft).await.unwrap();
    let reset = node
        .core
        .request_password_reset("alice", "alice@recovery.example", None)
        .await
        .unwrap();
    node.core.index_all_pending().await.unwrap();
    let searchable = |user| SearchQuery {
        user,
        text: "hello".into(),
        kind: None,
        pi: None,
        importance: None,
        offset: 0,
        limit: 10,
    };
    assert_eq!(
        node.stores
            .search
            .search(&searchable(alice.id))
            .await
            .unwrap()
            .messages
            .total,
        1
    );

    node.core.delete_account(alice.id).await.unwrap();
    node.core.index_all_pending().await.unwrap();

    for table in USER_TABLES {
        let left = node
            .stores
            .records
            .scan(*table, Scope::User(alice.id), Scan::all(10))
            .await
            .unwrap();
        assert!(
            left.items.is_empty(),
            "table `{}` still holds {} records of alice",
            table.name,
            left.items.len()
        );
    }
    let global = &node.stores.records;
    assert!(
        global
            .get(USERS, Scope::Global, alice.id.as_bytes())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        global
            .get(USERNAMES, Scope::Global, b"alice")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        global
            .get(ADDRESSES, Scope::Global, b"alice@caliopen.local")
            .await
            .unwrap()
            .is_none()
    );
    for table in [DELIVERIES, QUARANTINE] {
        assert!(
            global
                .scan(table, Scope::Global, Scan::all(10))
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }
    let results = node
        .stores
        .search
        .search(&searchable(alice.id))
        .await
        .unwrap();
    assert_eq!(
        (results.messages.total, results.contacts.total),
        (0, 0),
        "no search document is left"
    );
    assert_not_found(node.core.user(alice.id).await);
    assert_eq!(
        node.core
            .resolve_recipient("alice@caliopen.local")
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        node.core
            .authenticate(
                alice.id,
                &session.tokens.access_token,
                &session.device.device_id
            )
            .await,
        Err(CoreError::Unauthenticated(_))
    ));
    assert!(
        node.core
            .login("alice", "password-of-alice", laptop())
            .await
            .is_err()
    );
    assert_not_found(node.core.delete_account(alice.id).await);
    assert_not_found(node.core.password_reset_user(&reset.token).await);

    // Bob, who got the same mail, keeps everything.
    assert_eq!(
        node.core.message(bob.id, bobs.id).await.unwrap().subject,
        "hello both"
    );
    assert_eq!(
        node.stores
            .search
            .search(&searchable(bob.id))
            .await
            .unwrap()
            .messages
            .total,
        1
    );
    assert!(
        !node
            .core
            .raw_message(bob.id, bobs.raw_msg_id.as_deref().unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(node.core.username_available("alice").await.unwrap());
    let again = node.user("alice").await;
    assert_ne!(again.id, alice.id);
    assert_eq!(node.counters(again.id).await, (0, 0));
}
