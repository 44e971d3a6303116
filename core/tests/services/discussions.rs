//! The discussion a set of participants makes.

use caliopen_core::service::drafts::DraftParticipant;

use crate::harness::{Node, assert_invalid};

fn p(role: &str, address: &str) -> DraftParticipant {
    DraftParticipant {
        role: role.into(),
        protocol: "email".into(),
        address: address.into(),
        ..DraftParticipant::default()
    }
}

#[tokio::test]
async fn a_discussion_is_found_by_its_participants_with_or_without_the_user() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let m = node
        .deliver(
            &alice,
            "From: Bob <bob@example.org>\nTo: alice@caliopen.local\nSubject: hi",
            "x",
        )
        .await;
    let with_user = node
        .core
        .discussion_for_participants(
            alice.id,
            &[
                p("From", "bob@example.org"),
                p("To", "Alice@Caliopen.local"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        with_user.discussion_id.as_deref(),
        Some(m.discussion_id.as_str())
    );
    let without_user = node
        .core
        .discussion_for_participants(alice.id, &[p("To", "bob@example.org")])
        .await
        .unwrap();
    assert_eq!(
        without_user.discussion_id.as_deref(),
        Some(m.discussion_id.as_str())
    );
    assert_eq!(without_user.hash, m.discussion_id);

    let new = node
        .core
        .discussion_for_participants(alice.id, &[p("To", "carol@example.net")])
        .await
        .unwrap();
    assert_eq!(new.discussion_id, None);
    assert_eq!(new.hash.len(), 32);

    assert_invalid(
        node.core.discussion_for_participants(alice.id, &[]).await,
        "participants",
    );
    assert_invalid(
        node.core
            .discussion_for_participants(alice.id, &[p("To", "nope")])
            .await,
        "participants[0].address",
    );
    assert_invalid(
        node.core
            .discussion_for_participants(alice.id, &[p("Boss", "b@x.org")])
            .await,
        "participants[0].type",
    );
}
