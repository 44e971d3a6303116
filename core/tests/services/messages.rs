//! Flags, actions, deletion, counters, received attachments and raw mail.

use caliopen_core::CoreError;
use std::sync::Arc;

use caliopen_core::model::discussion::ANY_LEVEL;
use caliopen_core::service::attachments::{PartError, PartReader};
use caliopen_core::service::messages::MessageFilter;
use caliopen_core::tables::MESSAGES;
use caliopen_storage_traits::{Scan, Scope};

use crate::harness::{Node, assert_invalid, assert_not_found};

const FROM_BOB: &str = "From: Bob <bob@example.org>\nTo: alice@caliopen.local";

/// Messages actually stored for a user.
async fn stored_messages(node: &Node, user: uuid::Uuid) -> i64 {
    let page = node
        .stores
        .records
        .scan(MESSAGES, Scope::User(user), Scan::all(100_000))
        .await
        .unwrap();
    page.items.len() as i64
}

#[tokio::test]
async fn read_unread_and_delete_keep_every_counter_exact() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let m1 = node
        .deliver(&alice, &format!("{FROM_BOB}\nSubject: one"), "1")
        .await;
    let m2 = node
        .deliver(&alice, &format!("{FROM_BOB}\nSubject: two"), "2")
        .await;
    let m3 = node
        .deliver(&alice, &format!("{FROM_BOB}\nSubject: three"), "3")
        .await;
    let c1 = node
        .deliver(
            &alice,
            "From: carol@example.net\nTo: alice@caliopen.local\nSubject: carol",
            "c",
        )
        .await;
    assert_eq!(m1.discussion_id, m3.discussion_id);
    assert_ne!(m1.discussion_id, c1.discussion_id);
    assert_eq!(node.counters(alice.id).await, (4, 4));

    let read = node.core.set_read(alice.id, m1.id).await.unwrap();
    assert!(!read.is_unread);
    node.core.set_read(alice.id, m1.id).await.unwrap();
    assert_eq!(
        node.counters(alice.id).await,
        (4, 3),
        "setting a flag twice counts once"
    );
    node.core.set_unread(alice.id, m1.id).await.unwrap();
    assert_eq!(node.counters(alice.id).await, (4, 4));
    node.core.set_read(alice.id, m1.id).await.unwrap();
    node.core
        .message_actions(alice.id, m2.id, &["set_read".into()])
        .await
        .unwrap();
    assert_eq!(node.counters(alice.id).await, (4, 2));
    let d = node
        .core
        .discussion(alice.id, &m1.discussion_id)
        .await
        .unwrap();
    assert_eq!((d.total_count, d.unread_count), (3, 1));

    node.core.delete_message(alice.id, m3.id).await.unwrap();
    assert_eq!(node.counters(alice.id).await, (3, 1));
    let d = node
        .core
        .discussion(alice.id, &m1.discussion_id)
        .await
        .unwrap();
    assert_eq!((d.total_count, d.unread_count), (2, 0));
    assert_eq!(
        d.discussion.last_message_id, m2.id,
        "the summary follows the newest remaining message"
    );
    node.core.delete_message(alice.id, m1.id).await.unwrap();
    node.core.delete_message(alice.id, m2.id).await.unwrap();
    assert_not_found(node.core.discussion(alice.id, &m1.discussion_id).await);
    let (total, list) = node
        .core
        .list_discussions(alice.id, ANY_LEVEL, 10, 0)
        .await
        .unwrap();
    assert_eq!((total, list.len()), (1, 1));
    assert_eq!(node.counters(alice.id).await, (1, 1));
    assert_eq!(stored_messages(&node, alice.id).await, 1);
    let (total, _) = node
        .core
        .list_messages(alice.id, &MessageFilter::default())
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_not_found(node.core.message(alice.id, m1.id).await);
    assert_not_found(node.core.delete_message(alice.id, m1.id).await);
}

#[tokio::test]
async fn actions_are_validated() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let m = node
        .deliver(&alice, &format!("{FROM_BOB}\nSubject: act"), "x")
        .await;
    assert_invalid(
        node.core.message_actions(alice.id, m.id, &[]).await,
        "actions",
    );
    assert_invalid(
        node.core
            .message_actions(alice.id, m.id, &["set_read".into(), "fly".into()])
            .await,
        "actions[1]",
    );
    assert!(matches!(
        node.core
            .message_actions(alice.id, m.id, &["send".into()])
            .await,
        Err(CoreError::NotConfigured(_))
    ));
    assert_eq!(
        node.counters(alice.id).await,
        (1, 1),
        "a refused action list changes nothing"
    );
}

#[tokio::test]
async fn a_deleted_message_leaves_the_search_index_and_its_raw_mail_is_no_longer_served() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let m = node
        .deliver(&alice, &format!("{FROM_BOB}\nSubject: quokka"), "marsupial")
        .await;
    node.core.index_all_pending().await.unwrap();
    let found = node
        .core
        .search(alice.id, "quokka", Some("message"), 10, 0)
        .await
        .unwrap();
    assert_eq!(found.messages.hits.len(), 1);
    let raw_id = m.raw_msg_id.clone().unwrap();
    assert!(
        node.core
            .raw_message(alice.id, &raw_id)
            .await
            .unwrap()
            .ends_with(b"marsupial")
    );

    node.core.delete_message(alice.id, m.id).await.unwrap();
    node.core.index_all_pending().await.unwrap();
    let found = node
        .core
        .search(alice.id, "quokka", None, 10, 0)
        .await
        .unwrap();
    assert_eq!(found.messages.total, 0);
    assert_not_found(node.core.raw_message(alice.id, &raw_id).await);
}

/// Answers which part of which raw mail it was asked for.
#[derive(Debug)]
struct NamesThePart;

#[async_trait::async_trait]
impl PartReader for NamesThePart {
    async fn read_part(&self, raw: Vec<u8>, index: u32) -> Result<Option<Vec<u8>>, PartError> {
        Ok(raw
            .starts_with(b"From: Bob")
            .then(|| format!("part {index} of a mail from Bob").into_bytes()))
    }
}

#[tokio::test]
async fn a_received_attachment_is_served_as_a_part_of_the_raw_mail() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let m = node
        .deliver(
            &alice,
            &format!("{FROM_BOB}\nSubject: files\nX-Attach: a.pdf; application/pdf"),
            "see",
        )
        .await;
    let d = node
        .core
        .discussion(alice.id, &m.discussion_id)
        .await
        .unwrap();
    assert_eq!(d.attachment_count, 1);
    // Core parses no mail: without a part reader, a received attachment cannot be read.
    assert!(matches!(
        node.core.attachment_content(alice.id, m.id, 0).await,
        Err(CoreError::NotConfigured(_))
    ));
    node.core.set_part_reader(Arc::new(NamesThePart));
    let data = node
        .core
        .attachment_content(alice.id, m.id, 0)
        .await
        .unwrap();
    assert_eq!(data.attachment.file_name, "a.pdf");
    assert_eq!(data.content, b"part 1 of a mail from Bob".to_vec());
    assert_not_found(node.core.attachment_content(alice.id, m.id, 7).await);
    assert_not_found(node.core.raw_message(alice.id, "not-a-blob-id").await);
    assert_not_found(node.core.raw_message(alice.id, &"0".repeat(64)).await);
    node.core.delete_message(alice.id, m.id).await.unwrap();
    assert_not_found(node.core.discussion(alice.id, &m.discussion_id).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_stay_exact_under_concurrent_flag_changes_and_deletions() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let m = node
            .deliver(&alice, &format!("{FROM_BOB}\nSubject: n{i}"), "x")
            .await;
        ids.push(m.id);
    }
    let discussion = node
        .core
        .message(alice.id, ids[0])
        .await
        .unwrap()
        .discussion_id;
    let mut tasks = Vec::new();
    for round in 0..8 {
        for (i, id) in ids.iter().enumerate() {
            let core = node.core.clone();
            let (user, id) = (alice.id, *id);
            tasks.push(tokio::spawn(async move {
                if (round + i) % 2 == 0 {
                    core.set_read(user, id).await
                } else {
                    core.set_unread(user, id).await
                }
            }));
        }
    }
    let mut deletions = Vec::new();
    for id in &ids[..2] {
        let core = node.core.clone();
        let (user, id) = (alice.id, *id);
        deletions.push(tokio::spawn(
            async move { core.delete_message(user, id).await },
        ));
    }
    for t in tasks {
        // A flag change that runs after its message's deletion finds it gone.
        match t.await.unwrap() {
            Ok(_) | Err(CoreError::NotFound { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    for t in deletions {
        t.await.unwrap().unwrap();
    }
    let left = node.messages(alice.id).await;
    let unread = left.iter().filter(|m| m.is_unread).count() as i64;
    assert_eq!(node.counters(alice.id).await, (left.len() as i64, unread));
    assert_eq!(stored_messages(&node, alice.id).await, 4);
    let d = node.core.discussion(alice.id, &discussion).await.unwrap();
    assert_eq!((d.total_count, d.unread_count), (4, unread as u64));
}
