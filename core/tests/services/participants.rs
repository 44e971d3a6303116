//! Participant suggestions from contacts and from addresses seen in mail.

use caliopen_core::model::participant::SuggestionSource;

use crate::contacts::contact;
use crate::harness::{Node, assert_invalid};

#[tokio::test]
async fn suggestions_come_from_contacts_then_seen_participants() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let headers =
        "From: Bob Martin <bob@example.org>\nTo: alice@caliopen.local\nCc: bobcat@example.net";
    node.deliver(&alice, &format!("{headers}\nSubject: one"), "1")
        .await;
    node.deliver(
        &alice,
        "From: Bob Martin <bob@example.org>\nTo: alice@caliopen.local\nSubject: two",
        "2",
    )
    .await;
    let c = node
        .core
        .create_contact(alice.id, contact("Bobby Contact", "bobby@z.org"))
        .await
        .unwrap();

    let found = node
        .core
        .suggest_participants(alice.id, "BOB", 10)
        .await
        .unwrap();
    let got: Vec<(&str, SuggestionSource)> = found
        .iter()
        .map(|s| (s.address.as_str(), s.source))
        .collect();
    assert_eq!(
        got,
        vec![
            ("bobby@z.org", SuggestionSource::Contact),
            ("bob@example.org", SuggestionSource::Participant),
            ("bobcat@example.net", SuggestionSource::Participant),
        ],
        "contacts first, then the most frequent addresses"
    );
    assert_eq!(found[0].contact_id, Some(c.id));
    assert_eq!(found[1].label, "Bob Martin");
    assert_eq!(
        node.core
            .suggest_participants(alice.id, "martin", 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        node.core
            .suggest_participants(alice.id, "bob", 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        node.core
            .suggest_participants(alice.id, "alice", 10)
            .await
            .unwrap()
            .iter()
            .all(|s| s.address != "alice@caliopen.local"),
        "the user's own address is never suggested"
    );
    assert_invalid(
        node.core.suggest_participants(alice.id, "bo", 10).await,
        "q",
    );
}
