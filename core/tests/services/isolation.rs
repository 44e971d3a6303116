//! Cross-tenant isolation: every operation that takes an id answers NotFound
//! when the id is another user's, and changes nothing of theirs.

use caliopen_core::model::discussion::ANY_LEVEL;
use caliopen_core::service::attachments::NewAttachment;
use caliopen_core::service::auth::DeviceInfo;
use caliopen_core::service::contact_keys::NewPublicKey;
use caliopen_core::service::drafts::{DraftParticipant, NewDraft};
use caliopen_core::service::remote_identities::NewRemoteIdentity;
use caliopen_core::service::tags::NewTag;
use serde_json::json;

use crate::contacts::contact;
use crate::harness::{Node, assert_not_found, patch};

#[tokio::test]
async fn another_users_ids_are_not_found_for_every_operation() {
    let node = Node::new().await;
    let a = node.user("alice").await;
    let b = node.user("bob").await;
    node.core
        .login(
            "alice",
            "password-of-alice",
            DeviceInfo {
                device_id: "alice-dev".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    node.core
        .login(
            "alice",
            "password-of-alice",
            DeviceInfo {
                device_id: "alice-new".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    node.core
        .login(
            "bob",
            "password-of-bob",
            DeviceInfo {
                device_id: "bob-dev".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let received = node
        .deliver(&a, "From: carol@example.net\nTo: alice@caliopen.local\nSubject: secret\nX-Attach: s.pdf; application/pdf", "x")
        .await;
    let a_identity = node.identity_id(&a).await;
    let draft = node
        .core
        .create_draft(
            a.id,
            NewDraft {
                user_identities: vec![a_identity.to_string()],
                participants: vec![DraftParticipant {
                    role: "To".into(),
                    address: "carol@example.net".into(),
                    ..Default::default()
                }],
                subject: "draft".into(),
                ..NewDraft::default()
            },
        )
        .await
        .unwrap();
    let file = || NewAttachment {
        file_name: "f.txt".into(),
        content_type: String::new(),
        is_inline: false,
        content: b"f".to_vec(),
    };
    node.core
        .add_draft_attachment(a.id, draft.id, file())
        .await
        .unwrap();
    let c = node
        .core
        .create_contact(a.id, contact("Carol", "carol@example.net"))
        .await
        .unwrap();
    let key = node
        .core
        .add_public_key(
            a.id,
            c.id,
            NewPublicKey {
                label: "k".into(),
                key: crate::gpg::gpg_key("Carol <carol@example.net>", "ed25519").base64(),
            },
        )
        .await
        .unwrap();
    let tag = node
        .core
        .create_tag(
            a.id,
            NewTag {
                label: "Alice only".into(),
                importance_level: None,
            },
        )
        .await
        .unwrap();
    let remote = node
        .core
        .create_remote_identity(
            a.id,
            NewRemoteIdentity {
                identifier: "alice@example.com".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (_, notes) = node.core.list_notifications(a.id, 10, 0).await.unwrap();
    let note = notes[0].id;
    let did = received.discussion_id.clone();
    let raw = received.raw_msg_id.clone().unwrap();
    let any = patch(
        json!({"subject": "x", "label": "x", "name": "x", "tags": [], "given_name": "x", "display_name": "x",
        "current_state": {"subject": "secret", "label": "k", "name": "x", "tags": [], "given_name": "", "display_name": ""}}),
    );
    let one = |field: &str, old: serde_json::Value, new: serde_json::Value| {
        patch(json!({ field: new, "current_state": { field: old } }))
    };

    let core = &node.core;
    let (m, d) = (received.id, draft.id);
    // Messages, drafts, attachments, raw mail.
    assert_not_found(core.message(b.id, m).await);
    assert_not_found(core.set_read(b.id, m).await);
    assert_not_found(core.set_unread(b.id, m).await);
    assert_not_found(core.message_actions(b.id, m, &["set_read".into()]).await);
    assert_not_found(core.delete_message(b.id, m).await);
    assert_not_found(core.delete_message(b.id, d).await);
    assert_not_found(
        core.patch_draft(b.id, d, &one("subject", json!("draft"), json!("x")))
            .await,
    );
    assert_not_found(core.add_draft_attachment(b.id, d, file()).await);
    assert_not_found(core.delete_draft_attachment(b.id, d, 0).await);
    assert_not_found(core.attachments(b.id, d).await);
    assert_not_found(core.attachment_content(b.id, d, 0).await);
    assert_not_found(core.attachment_content(b.id, m, 0).await);
    assert_not_found(core.raw_message(b.id, &raw).await);
    assert_not_found(core.set_message_tags(b.id, m, &[]).await);
    assert_not_found(
        core.patch_message_tags(b.id, m, &one("tags", json!(["inbox"]), json!([])))
            .await,
    );
    let b_identity = node.identity_id(&b).await.to_string();
    let reply = NewDraft {
        user_identities: vec![b_identity],
        parent_id: Some(m.to_string()),
        ..NewDraft::default()
    };
    assert_not_found(core.create_draft(b.id, reply).await);
    let as_alice = NewDraft {
        user_identities: vec![a_identity.to_string()],
        ..NewDraft::default()
    };
    assert_not_found(core.create_draft(b.id, as_alice).await);
    // Discussions.
    assert_not_found(core.discussion(b.id, &did).await);
    assert_not_found(core.set_discussion_tags(b.id, &did, &[]).await);
    // Contacts and their keys.
    assert_not_found(core.contact(b.id, c.id).await);
    assert_not_found(core.update_contact(b.id, c.id, &any).await);
    assert_not_found(core.delete_contact(b.id, c.id).await);
    assert_not_found(core.contact_identities(b.id, c.id).await);
    assert_not_found(core.set_contact_tags(b.id, c.id, &[]).await);
    assert_not_found(
        core.patch_contact_tags(b.id, c.id, &one("tags", json!([]), json!([])))
            .await,
    );
    assert_not_found(
        core.add_public_key(
            b.id,
            c.id,
            NewPublicKey {
                label: "k".into(),
                key: crate::gpg::gpg_key("Carol <carol@example.net>", "ed25519").base64(),
            },
        )
        .await,
    );
    assert_not_found(core.public_keys(b.id, c.id).await);
    assert_not_found(core.public_key(b.id, c.id, key.key_id).await);
    assert_not_found(
        core.patch_public_key(
            b.id,
            c.id,
            key.key_id,
            &one("label", json!("k"), json!("x")),
        )
        .await,
    );
    assert_not_found(core.delete_public_key(b.id, c.id, key.key_id).await);
    // Tags.
    assert_not_found(core.tag(b.id, &tag.name).await);
    assert_not_found(
        core.patch_tag(
            b.id,
            &tag.name,
            &one("label", json!("Alice only"), json!("x")),
        )
        .await,
    );
    assert_not_found(core.delete_tag(b.id, &tag.name).await);
    // Devices.
    assert_not_found(core.device(b.id, "alice-dev").await);
    assert_not_found(core.live_device(b.id, "alice-dev").await);
    assert_not_found(
        core.patch_device(
            b.id,
            "alice-dev",
            &one("name", json!("default"), json!("x")),
        )
        .await,
    );
    assert_not_found(core.revoke_device(b.id, "alice-dev").await);
    assert_not_found(core.request_device_validation(b.id, "alice-new").await);
    // Identities.
    assert_not_found(core.identity(b.id, a_identity).await);
    assert_not_found(core.remote_identity(b.id, remote.id).await);
    assert_not_found(core.remote_identity_with_credentials(b.id, remote.id).await);
    assert_not_found(
        core.patch_remote_identity(b.id, remote.id, &one("display_name", json!(""), json!("x")))
            .await,
    );
    assert_not_found(core.delete_remote_identity(b.id, remote.id).await);
    // Notifications.
    assert_not_found(core.notification(b.id, note).await);
    assert_not_found(core.delete_notification(b.id, note).await);

    // Lists and searches of bob show nothing of alice's.
    node.core.index_all_pending().await.unwrap();
    assert_eq!(
        core.search(b.id, "secret", None, 10, 0)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        core.search(a.id, "secret", None, 10, 0)
            .await
            .unwrap()
            .total,
        1
    );
    assert!(
        core.suggest_participants(b.id, "carol", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        core.list_discussions(b.id, ANY_LEVEL, 10, 0)
            .await
            .unwrap()
            .0,
        0
    );
    assert_eq!(core.list_notifications(b.id, 10, 0).await.unwrap().0, 0);
    // And alice's records are as they were.
    assert_eq!(core.message(a.id, m).await.unwrap(), received);
    assert_eq!(core.message(a.id, d).await.unwrap().attachments.len(), 1);
    assert_eq!(
        core.contact(a.id, c.id).await.unwrap().public_keys,
        vec![key]
    );
    assert_eq!(core.tag(a.id, &tag.name).await.unwrap(), tag);
    assert_eq!(node.counters(a.id).await, (2, 1));
    assert_eq!(core.list_devices(a.id).await.unwrap().len(), 2);
    assert!(core.notification(a.id, note).await.is_ok());
}
