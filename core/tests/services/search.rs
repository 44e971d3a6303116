//! Search answers hits with their records, and skips hits whose record is gone.

use std::time::{Duration, Instant};

use caliopen_core::CoreConfig;

use crate::contacts::contact;
use crate::harness::{Node, assert_invalid};

#[tokio::test]
async fn when_mail_stops_the_indexer_commits_without_waiting_out_its_interval() {
    let mut config = CoreConfig::default();
    config.index.commit_interval = Duration::from_secs(60);
    let node = Node::with_config(config).await;
    let alice = node.user("alice").await;
    let indexer = node.core.spawn_indexer();
    let headers = "From: carol@example.net\nTo: alice@caliopen.local";
    let found_within = |n: u64| {
        let core = node.core.clone();
        async move {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                let found = core
                    .search(alice.id, "aardvark", None, 10, 0)
                    .await
                    .unwrap();
                if found.total >= n {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            false
        }
    };
    node.deliver(&alice, &format!("{headers}\nSubject: first aardvark"), "x")
        .await;
    assert!(found_within(1).await, "a lone message is indexed at once");
    // That commit opened a 60 s interval; nothing else comes, so the next message
    // is indexed as soon as the stream is quiet, not a minute later.
    node.deliver(&alice, &format!("{headers}\nSubject: second aardvark"), "y")
        .await;
    assert!(
        found_within(2).await,
        "the last message of a burst waited out the interval"
    );
    indexer.abort();
}

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
