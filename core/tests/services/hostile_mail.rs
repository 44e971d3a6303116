//! Mail written as an attack: header values longer than any key may be, a
//! Message-ID sent first by someone who knows it, a delivery that panics; and ids
//! from clients longer than anything stored. None of it may stop the pipeline, be
//! retried forever, or suppress other mail.

use std::time::Duration;

use caliopen_core::config::DeliveryConfig;
use caliopen_core::{CoreConfig, CoreError};

use crate::harness::{Node, assert_not_found};

/// About the size of the folded headers that once panicked every delivery.
const HUGE: usize = 67_000;

/// Waits until `n` deliveries are quarantined (or fails after a generous minute).
async fn quarantined(node: &Node, n: usize) -> Vec<caliopen_core::delivery::QuarantinedDelivery> {
    for _ in 0..1200 {
        let q = node.core.quarantined().await.unwrap();
        if q.len() >= n {
            return q;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{n} deliveries were not quarantined; pending: {:?}",
        node.core.pending_deliveries().await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_sent_first_with_a_known_message_id_does_not_suppress_the_real_one() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    // The attacker knows the id the bank's statement will carry, and sends first.
    let forged = node
        .deliver(
            &alice,
            "Subject: nothing to see\nFrom: mallory@evil.example\nMessage-ID: <statement-42@bank.example>",
            "decoy",
        )
        .await;
    let real = node
        .deliver(
            &alice,
            "Subject: your statement\nFrom: bank@bank.example\nMessage-ID: <statement-42@bank.example>",
            "the real thing",
        )
        .await;
    assert_ne!(forged.id, real.id, "the real mail is a message of its own");
    assert_eq!(real.body_plain.as_deref(), Some("the real thing"));
    // The same bytes again still fold into one message.
    node.accept(
        &alice,
        "Subject: your statement\nFrom: bank@bank.example\nMessage-ID: <statement-42@bank.example>",
        "the real thing",
    )
    .await;
    node.settle().await;
    assert_eq!(node.messages(alice.id).await.len(), 2);
    assert_eq!(node.counters(alice.id).await, (2, 2));

    // Deleting one leaves the other (each is indexed under the id on its own).
    node.core.delete_message(alice.id, forged.id).await.unwrap();
    let left: Vec<_> = node
        .messages(alice.id)
        .await
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(left, vec![real.id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_values_longer_than_any_key_are_stored_whole() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let msgid = format!("{}@example.org", "m".repeat(HUGE));
    let list = format!("{}.lists.example.org", "l".repeat(HUGE));
    let sender = format!("{}@example.org", "s".repeat(HUGE));
    let headers = format!(
        "Subject: long headers\nFrom: {sender}\nMessage-ID: <{msgid}>\nIn-Reply-To: <{msgid}>\nList-Id: {list}"
    );
    let message = node.deliver(&alice, &headers, "hello").await;
    assert_eq!(
        message.external_references.message_id.as_deref(),
        Some(msgid.as_str()),
        "the record keeps the whole Message-ID"
    );
    assert!(message.participants.iter().any(|p| p.address == sender));
    // The same long-headed mail from elsewhere is a second message, not a fold.
    let again = node
        .deliver(
            &alice,
            &headers.replace("long headers", "long headers again"),
            "hi",
        )
        .await;
    assert_ne!(again.id, message.id);
    let seen = node
        .core
        .suggest_participants(alice.id, "sss", 10)
        .await
        .unwrap();
    assert_eq!(
        seen.len(),
        1,
        "the long sender is counted once, by its digest"
    );
    node.core
        .delete_message(alice.id, message.id)
        .await
        .unwrap();
    node.core.delete_message(alice.id, again.id).await.unwrap();
    assert!(node.messages(alice.id).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_that_panics_is_counted_and_quarantined_and_other_mail_goes_on() {
    let config = CoreConfig {
        delivery: DeliveryConfig {
            max_attempts: 3,
            retry_base: Duration::from_millis(20),
            retry_max: Duration::from_millis(100),
            ..DeliveryConfig::default()
        },
        ..CoreConfig::default()
    };
    let node = Node::with_config(config).await;
    let alice = node.user("alice").await;
    node.accept(&alice, "Subject: boom\nX-Panic: a bug in a component", "x")
        .await;
    let q = quarantined(&node, 1).await;
    assert_eq!(q[0].delivery.attempts, 3, "{q:?}");
    assert_eq!(q[0].stage, "delivery");
    assert!(q[0].reason.contains("panicked"), "{}", q[0].reason);
    assert!(
        q[0].reason.contains("a bug in a component"),
        "{}",
        q[0].reason
    );
    assert!(
        q[0].reason.contains("gave up after 3 attempts"),
        "{}",
        q[0].reason
    );
    // Three attempts, never a fourth.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(node.processed(), 3, "attempts after the quarantine");
    assert!(node.core.pending_deliveries().await.unwrap().is_empty());

    // The quarantine stays; the next mail is stored as usual.
    node.accept(&alice, "Subject: after the panic", "fine")
        .await;
    for _ in 0..1200 {
        let messages = node.messages(alice.id).await;
        if messages.iter().any(|m| m.subject == "after the panic") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the mail after the panic was not stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_from_clients_longer_than_anything_stored_find_nothing() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let long = "x".repeat(70_000);
    assert_not_found(node.core.tag(alice.id, &long).await);
    assert_not_found(node.core.delete_tag(alice.id, &long).await);
    assert_not_found(node.core.discussion(alice.id, &long).await);
    assert_not_found(node.core.raw_message(alice.id, &long).await);
    assert!(
        node.core
            .resolve_recipient(&format!("{long}@caliopen.local"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        node.core
            .contacts_by_address(alice.id, &format!("{long}@example.org"))
            .await
            .unwrap()
            .is_empty()
    );
    for result in [
        node.core.slot(&long).await.map(|_| ()),
        node.core.component_record(&long, "1.0.0").await.map(|_| ()),
        node.core
            .component_record("parser", &long)
            .await
            .map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(CoreError::Invalid { .. })),
            "{result:?}"
        );
    }
}

/// The storage guard behind every service: a key too long to store is the
/// caller's mistake (400), and the store goes on writing for everyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_too_long_to_store_is_refused_and_writes_go_on() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let result = node
        .core
        .request_password_reset(&"u".repeat(70_000), "alice@recovery.example", None)
        .await;
    assert!(
        matches!(result, Err(CoreError::Invalid { .. })),
        "{result:?}"
    );
    let bob = node.user("bob").await;
    assert_ne!(bob.id, alice.id);
    let message = node.deliver(&alice, "Subject: still writing", "ok").await;
    assert_eq!(message.subject, "still writing");
}
