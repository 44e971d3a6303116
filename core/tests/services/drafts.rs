//! Drafts: creation from an identity, replies, patches with `current_state`,
//! attachments, deletion.

use caliopen_core::CoreError;
use caliopen_core::model::ParticipantRole;
use caliopen_core::model::discussion::{discussion_id, discussion_key};
use caliopen_core::service::attachments::NewAttachment;
use caliopen_core::service::drafts::{DraftParticipant, NewDraft};
use serde_json::json;

use crate::harness::{Node, assert_invalid, assert_not_found, patch};

fn to(address: &str) -> DraftParticipant {
    DraftParticipant {
        role: "To".into(),
        address: address.into(),
        ..DraftParticipant::default()
    }
}

async fn draft_to(
    node: &Node,
    user: &caliopen_core::model::User,
    address: &str,
) -> caliopen_core::model::Message {
    let draft = NewDraft {
        user_identities: vec![node.identity_id(user).await.to_string()],
        participants: vec![to(address)],
        subject: "hello".into(),
        body: "first words".into(),
        ..NewDraft::default()
    };
    node.core.create_draft(user.id, draft).await.unwrap()
}

#[tokio::test]
async fn a_draft_is_written_from_an_identity_into_its_participants_discussion() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let d = draft_to(&node, &alice, "Bob@Example.org").await;
    assert!(d.is_draft && !d.is_unread && !d.is_received);
    assert_eq!(d.participants[0].role, ParticipantRole::From);
    assert_eq!(d.participants[0].address, "alice@caliopen.local");
    assert_eq!(d.participants[1].address, "bob@example.org");
    assert_eq!(
        d.discussion_id,
        discussion_id(&discussion_key(&d.participants))
    );
    assert_eq!(d.body_plain.as_deref(), Some("first words"));
    assert!(
        d.external_references
            .message_id
            .as_deref()
            .unwrap()
            .ends_with("@caliopen.local")
    );
    assert_eq!(
        node.counters(alice.id).await,
        (1, 0),
        "a draft counts as a message, never unread"
    );
    let view = node
        .core
        .discussion(alice.id, &d.discussion_id)
        .await
        .unwrap();
    assert_eq!((view.total_count, view.unread_count), (1, 0));
    assert!(matches!(
        node.core.set_unread(alice.id, d.id).await,
        Err(CoreError::Forbidden(_))
    ));
}

#[tokio::test]
async fn draft_input_is_validated_field_by_field() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let identity = node.identity_id(&alice).await.to_string();
    let base = NewDraft {
        user_identities: vec![identity.clone()],
        participants: vec![to("bob@example.org")],
        ..NewDraft::default()
    };
    let with = |f: &dyn Fn(&mut NewDraft)| {
        let mut d = base.clone();
        f(&mut d);
        d
    };
    let cases: Vec<(NewDraft, &str)> = vec![
        (with(&|d| d.user_identities.clear()), "user_identities"),
        (
            with(&|d| d.user_identities = vec!["nope".into()]),
            "user_identities[0]",
        ),
        (
            with(&|d| d.participants = vec![to("not an address")]),
            "participants[0].address",
        ),
        (
            with(&|d| d.participants[0].role = "Sender".into()),
            "participants[0].type",
        ),
        (
            with(&|d| d.participants[0].protocol = "twitter".into()),
            "participants[0].protocol",
        ),
        (
            with(&|d| d.participants[0].label = "a\u{1}b".into()),
            "participants[0].label",
        ),
        (with(&|d| d.parent_id = Some("nope".into())), "parent_id"),
        (with(&|d| d.subject = "s".repeat(999)), "subject"),
    ];
    for (draft, field) in cases {
        assert_invalid(node.core.create_draft(alice.id, draft).await, field);
    }
    let unknown = with(&|d| d.user_identities = vec![uuid::Uuid::now_v7().to_string()]);
    assert_not_found(node.core.create_draft(alice.id, unknown).await);
    assert_eq!(node.counters(alice.id).await, (0, 0), "nothing was written");
}

#[tokio::test]
async fn a_reply_keeps_the_parents_participants_and_references() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let parent = node
        .deliver(
            &alice,
            "From: Bob <bob@example.org>\nTo: alice@caliopen.local\nCc: carol@example.net\nSubject: plans\nMessage-ID: <m1@example.org>",
            "shall we?",
        )
        .await;
    let reply = node
        .core
        .create_draft(
            alice.id,
            NewDraft {
                user_identities: vec![node.identity_id(&alice).await.to_string()],
                participants: vec![to("someone-else@example.com")],
                parent_id: Some(parent.id.to_string()),
                body: "yes".into(),
                ..NewDraft::default()
            },
        )
        .await
        .unwrap();
    let roles: Vec<(ParticipantRole, &str)> = reply
        .participants
        .iter()
        .map(|p| (p.role, p.address.as_str()))
        .collect();
    assert_eq!(
        roles,
        vec![
            (ParticipantRole::From, "alice@caliopen.local"),
            (ParticipantRole::To, "bob@example.org"),
            (ParticipantRole::Cc, "carol@example.net"),
        ]
    );
    assert_eq!(reply.discussion_id, parent.discussion_id);
    assert_eq!(reply.subject, "Re: plans");
    assert_eq!(reply.parent_id, Some(parent.id));
    assert_eq!(
        reply.external_references.parent_id.as_deref(),
        Some("m1@example.org")
    );
    assert_eq!(
        reply.external_references.ancestors_ids,
        vec!["m1@example.org".to_owned()]
    );
    let d = node
        .core
        .discussion(alice.id, &parent.discussion_id)
        .await
        .unwrap();
    assert_eq!((d.total_count, d.unread_count), (2, 1));
}

#[tokio::test]
async fn patching_a_draft_checks_current_state_and_moves_it_between_discussions() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let d = draft_to(&node, &alice, "bob@example.org").await;
    let changed = node
        .core
        .patch_draft(
            alice.id,
            d.id,
            &patch(json!({
                "subject": "hello all", "body": "<p>hi</p>", "body_is_plain": false,
                "participants": [
                    {"type": "From", "protocol": "email", "address": "alice@caliopen.local"},
                    {"type": "To", "protocol": "email", "address": "bob@example.org"},
                    {"type": "Cc", "protocol": "email", "address": "carol@example.net"}
                ],
                "current_state": {
                    "subject": "hello", "body": "first words", "body_is_plain": true,
                    "participants": [
                        {"type": "From", "address": "alice@caliopen.local"},
                        {"type": "To", "address": "bob@example.org"}
                    ]
                }
            })),
        )
        .await
        .unwrap();
    assert_eq!(changed.subject, "hello all");
    assert_eq!(changed.body_html.as_deref(), Some("<p>hi</p>"));
    assert_eq!(changed.participants.len(), 3);
    assert_ne!(changed.discussion_id, d.discussion_id);
    assert_not_found(node.core.discussion(alice.id, &d.discussion_id).await);
    let moved = node
        .core
        .discussion(alice.id, &changed.discussion_id)
        .await
        .unwrap();
    assert_eq!(moved.total_count, 1);
    assert_eq!(node.counters(alice.id).await, (1, 0));

    let stale = patch(json!({"subject": "x", "current_state": {"subject": "hello"}}));
    assert!(matches!(
        node.core.patch_draft(alice.id, d.id, &stale).await,
        Err(CoreError::Conflict(_))
    ));
    // A changed field missing from `current_state` was empty for the client
    // (the web client leaves falsy values out): the subject is not, a conflict.
    assert!(matches!(
        node.core
            .patch_draft(
                alice.id,
                d.id,
                &patch(json!({"subject": "x", "current_state": {}})),
            )
            .await,
        Err(CoreError::Conflict(_))
    ));
    // Keys a draft does not take are dropped, as the original's non-strict
    // `patch_draft`: nothing left to change leaves the draft as it was.
    let same = node
        .core
        .patch_draft(
            alice.id,
            d.id,
            &patch(json!({"is_unread": true, "current_state": {"is_unread": false}})),
        )
        .await
        .unwrap();
    assert_eq!(same.subject, "hello all");
    assert!(!same.is_unread);
    assert_invalid(
        node.core
            .patch_draft(
                alice.id,
                d.id,
                &patch(json!({"subject": 5, "current_state": {"subject": "hello all"}})),
            )
            .await,
        "subject",
    );
    let received = node
        .deliver(
            &alice,
            "From: bob@example.org\nTo: alice@caliopen.local\nSubject: in",
            "x",
        )
        .await;
    let edit = patch(json!({"subject": "x", "current_state": {"subject": "in"}}));
    assert!(matches!(
        node.core.patch_draft(alice.id, received.id, &edit).await,
        Err(CoreError::Forbidden(_))
    ));
}

#[tokio::test]
async fn draft_attachments_are_uploaded_listed_read_and_deleted() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let d = draft_to(&node, &alice, "bob@example.org").await;
    let file = |name: &str, content: &[u8]| NewAttachment {
        file_name: name.into(),
        content_type: "Text/Plain".into(),
        is_inline: false,
        content: content.to_vec(),
    };
    let a = node
        .core
        .add_draft_attachment(alice.id, d.id, file("notes.txt", b"some notes"))
        .await
        .unwrap();
    let b = node
        .core
        .add_draft_attachment(alice.id, d.id, file("more.txt", b"more"))
        .await
        .unwrap();
    assert_eq!((a.index, b.index), (0, 1));
    assert_eq!(a.content_type, "text/plain");
    assert_eq!(
        node.core.attachments(alice.id, d.id).await.unwrap().len(),
        2
    );
    let data = node
        .core
        .attachment_content(alice.id, d.id, 0)
        .await
        .unwrap();
    assert_eq!(data.content, b"some notes".to_vec());
    let view = node
        .core
        .discussion(alice.id, &d.discussion_id)
        .await
        .unwrap();
    assert_eq!(view.attachment_count, 2);

    node.core
        .delete_draft_attachment(alice.id, d.id, 0)
        .await
        .unwrap();
    assert_not_found(node.core.delete_draft_attachment(alice.id, d.id, 0).await);
    let c = node
        .core
        .add_draft_attachment(alice.id, d.id, file("third.txt", b"3"))
        .await
        .unwrap();
    assert_eq!(c.index, 2, "an attachment id is never reused");
    let view = node
        .core
        .discussion(alice.id, &d.discussion_id)
        .await
        .unwrap();
    assert_eq!(view.attachment_count, 2);

    assert_invalid(
        node.core
            .add_draft_attachment(alice.id, d.id, file("a/b", b"x"))
            .await,
        "file_name",
    );
    assert_invalid(
        node.core
            .add_draft_attachment(alice.id, d.id, file("", b"x"))
            .await,
        "file_name",
    );
    assert_invalid(
        node.core
            .add_draft_attachment(alice.id, d.id, file("e.txt", b""))
            .await,
        "content",
    );
    let mut bad_type = file("t.txt", b"x");
    bad_type.content_type = "nonsense".into();
    assert_invalid(
        node.core
            .add_draft_attachment(alice.id, d.id, bad_type)
            .await,
        "content_type",
    );
    let received = node
        .deliver(
            &alice,
            "From: bob@example.org\nTo: alice@caliopen.local\nSubject: r",
            "x",
        )
        .await;
    assert!(matches!(
        node.core
            .add_draft_attachment(alice.id, received.id, file("x.txt", b"x"))
            .await,
        Err(CoreError::Forbidden(_))
    ));

    // The received mail shares the draft's participants, hence its discussion.
    assert_eq!(received.discussion_id, d.discussion_id);
    node.core.delete_message(alice.id, d.id).await.unwrap();
    let view = node
        .core
        .discussion(alice.id, &d.discussion_id)
        .await
        .unwrap();
    assert_eq!(
        (view.total_count, view.unread_count, view.attachment_count),
        (1, 1, 0)
    );
    assert_eq!(view.discussion.last_message_id, received.id);
    assert_eq!(node.counters(alice.id).await, (1, 1));
}
