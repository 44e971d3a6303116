//! Search answers hits with their records, and skips hits whose record is gone.

use crate::contacts::contact;
use crate::harness::{Node, assert_invalid};

#[tokio::test]
async fn search_answers_messages_and_contacts_with_their_records() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let bob = node.user("bob").await;
    let headers = "From: carol@example.net\nTo: alice@caliopen.local";
    let m1 = node
        .deliver(
            &alice,
            &format!("{headers}\nSubject: pangolin sighting"),
            "scales everywhere",
        )
        .await;
    node.deliver(
        &alice,
        &format!("{headers}\nSubject: other"),
        "nothing to see",
    )
    .await;
    node.deliver(
        &bob,
        "From: carol@example.net\nTo: bob@caliopen.local\nSubject: pangolin too",
        "x",
    )
    .await;
    let c = node
        .core
        .create_contact(alice.id, contact("Pangolin Fan Club", "club@example.org"))
        .await
        .unwrap();
    node.core.index_all_pending().await.unwrap();

    let found = node
        .core
        .search(alice.id, "pangolin", None, 10, 0)
        .await
        .unwrap();
    assert_eq!(found.total, 2);
    assert_eq!(found.messages.hits.len(), 1, "bob's message is not alice's");
    assert_eq!(found.messages.hits[0].id, m1.id);
    assert_eq!(found.messages.hits[0].document, m1);
    assert!(!found.messages.hits[0].highlights.is_empty());
    assert_eq!(found.contacts.hits[0].document, c);

    let only = node
        .core
        .search(alice.id, "pangolin", Some("contact"), 10, 0)
        .await
        .unwrap();
    assert_eq!((only.messages.total, only.contacts.total), (0, 1));
    let body = node
        .core
        .search(alice.id, "scales", Some("message"), 10, 0)
        .await
        .unwrap();
    assert_eq!(body.messages.hits[0].document.subject, "pangolin sighting");

    // A record deleted before the indexer ran: its hit is skipped.
    node.core.delete_contact(alice.id, c.id).await.unwrap();
    let stale = node
        .core
        .search(alice.id, "pangolin", Some("contact"), 10, 0)
        .await
        .unwrap();
    assert_eq!((stale.contacts.total, stale.contacts.hits.len()), (0, 0));

    assert_invalid(node.core.search(alice.id, "  ", None, 10, 0).await, "term");
    assert_invalid(
        node.core
            .search(alice.id, "x", Some("picture"), 10, 0)
            .await,
        "doctype",
    );
    assert_invalid(
        node.core
            .search(alice.id, "x", Some("message"), 10, 10_000)
            .await,
        "offset",
    );
}
