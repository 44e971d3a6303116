//! Hostile guests are contained: each misbehaviour ends in its typed error, the
//! host keeps serving, and the message in hand is handled by the slot's policy,
//! never lost.

use crate::common;

use std::time::Duration;

use common::inproc::InProcess;

const GRANTS: &str = "\"log\", \"config\", \"contacts\"";
const SETTLE: Duration = Duration::from_secs(120);

/// After a hostile call, a normal mail still goes through the same node.
async fn still_serving(node: &InProcess, user: uuid::Uuid, who: &str) {
    node.deploy_test_qualifier("9.9.9", "skip", GRANTS, "mode = \"tag\"\ntag = \"after\"")
        .await
        .unwrap();
    node.deliver(who, "after the storm").await;
    node.settle(SETTLE).await;
    let messages = node.messages(user).await;
    let after = messages
        .iter()
        .find(|m| m.subject == "after the storm")
        .expect("the node still delivers");
    assert!(after.tags.contains(&"after".to_owned()), "{:?}", after.tags);
}

/// A refused deploy leaves the slot without an active version.
async fn assert_slot_empty(node: &InProcess, slot: &str) {
    let active = node.core.slot(slot).await.unwrap().active;
    assert!(active.is_none(), "{slot} has an active version: {active:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_infinite_loop_hits_the_deadline_and_the_message_is_stored_unqualified() {
    let node = InProcess::new().await;
    let alice = node.user("alice").await;
    node.deploy_test_qualifier("1.0.0", "skip", GRANTS, "mode = \"loop\"")
        .await
        .unwrap();
    node.deliver("alice", "looping").await;
    node.settle(SETTLE).await;
    let messages = node.messages(alice).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].qualification.not_qualified_by,
        vec!["test-qualifier@1.0.0".to_owned()]
    );
    let metrics = node.engine.metrics().component("test-qualifier", "1.0.0");
    assert_eq!(metrics.errors("deadline"), 1);
    still_serving(&node, alice, "alice").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_memory_bomb_hits_the_cap_and_the_message_is_stored_unqualified() {
    let node = InProcess::new().await;
    let alice = node.user("alice").await;
    node.deploy_test_qualifier("1.0.0", "skip", GRANTS, "mode = \"memory\"")
        .await
        .unwrap();
    node.deliver("alice", "hungry").await;
    node.settle(SETTLE).await;
    let messages = node.messages(alice).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].qualification.not_qualified_by,
        vec!["test-qualifier@1.0.0".to_owned()]
    );
    assert_eq!(
        node.engine
            .metrics()
            .component("test-qualifier", "1.0.0")
            .errors("memory"),
        1
    );
    still_serving(&node, alice, "alice").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_traps_with_guest_function_names_and_quarantines_under_that_policy() {
    let node = InProcess::new().await;
    let alice = node.user("alice").await;
    node.deploy_test_qualifier("1.0.0", "quarantine", GRANTS, "mode = \"panic\"")
        .await
        .unwrap();
    node.deliver("alice", "boom").await;
    node.settle(SETTLE).await;
    assert!(node.messages(alice).await.is_empty());
    let quarantined = node.core.quarantined().await.unwrap();
    assert_eq!(quarantined.len(), 1);
    let reason = &quarantined[0].reason;
    assert!(reason.contains("trap"), "{reason}");
    assert!(
        reason.contains("explode"),
        "the backtrace names the guest function: {reason}"
    );
    // The operator replays it once the slot is fixed: nothing was lost.
    node.deploy_test_qualifier(
        "1.0.1",
        "quarantine",
        GRANTS,
        "mode = \"tag\"\ntag = \"fixed\"",
    )
    .await
    .unwrap();
    node.core.replay(quarantined[0].delivery.id).await.unwrap();
    node.settle(SETTLE).await;
    let messages = node.messages(alice).await;
    assert_eq!(messages.len(), 1);
    assert!(messages[0].tags.contains(&"fixed".to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_output_is_refused_and_retried_then_quarantined() {
    let node = InProcess::new().await;
    let alice = node.user("alice").await;
    node.deploy_test_qualifier("1.0.0", "retry", GRANTS, "mode = \"huge-output\"")
        .await
        .unwrap();
    node.deliver("alice", "verbose").await;
    node.settle(SETTLE).await;
    assert!(node.messages(alice).await.is_empty());
    let quarantined = node.core.quarantined().await.unwrap();
    assert_eq!(quarantined.len(), 1);
    assert!(
        quarantined[0].reason.contains("invalid output"),
        "{}",
        quarantined[0].reason
    );
    assert!(
        quarantined[0].reason.contains("gave up after 3 attempts"),
        "{}",
        quarantined[0].reason
    );
    assert_eq!(
        node.engine
            .metrics()
            .component("test-qualifier", "1.0.0")
            .errors("invalid_output"),
        3
    );
    still_serving(&node, alice, "alice").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_that_is_not_granted_is_refused_at_deploy_with_its_name() {
    let node = InProcess::new().await;
    let err = node
        .deploy_test_qualifier("1.0.0", "skip", "\"log\", \"config\"", "mode = \"tag\"")
        .await
        .unwrap_err();
    assert!(err.contains("caliopen:platform/contacts"), "{err}");
    assert!(err.contains("does not grant"), "{err}");
    assert_slot_empty(&node, "qualifier:test").await;
}

/// Exports are type-checked against the manifest's world once, at deploy; the
/// instances made for each call rely on that check and do not repeat it.
#[tokio::test(flavor = "multi_thread")]
async fn a_component_whose_exports_are_not_its_worlds_is_refused_at_deploy() {
    let node = InProcess::new().await;
    // The email parser's imports are all grantable to a qualifier; its export is not.
    let manifest = "name = \"not-a-qualifier\"\nversion = \"1.0.0\"\nworld = \"qualifier\"\n\
                    slot = \"qualifier:test\"\ngrants = [\"log\", \"clock\", \"config\"]\n\
                    [limits]\ndeadline_ms = 300\nmemory_mib = 32\nmax_output_kib = 1024\n\
                    [policy]\non_failure = \"skip\"\n";
    let err = node
        .registry
        .deploy(manifest, common::component("caliopen_email_parser"), false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("does not implement world `qualifier`"),
        "{err}"
    );
    assert!(err.contains("qualify"), "{err}");
    assert_slot_empty(&node, "qualifier:test").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guest_cannot_read_another_users_contacts() {
    use caliopen_core::model::Contact;
    use caliopen_core::model::contact::ContactEmail;

    let node = InProcess::new().await;
    let alice = node.user("alice").await;
    let bob = node.user("bob").await;
    // Bob's own contact card carries bob@caliopen.local; give Bob a second contact.
    let secret = node
        .core
        .create_contact(
            bob,
            Contact {
                title: "Bob's secret friend".into(),
                emails: vec![ContactEmail {
                    address: "friend@example.org".into(),
                    ..ContactEmail::default()
                }],
                ..Contact::default()
            },
        )
        .await
        .unwrap();
    let config = format!(
        "mode = \"contacts\"\ncontact-id = \"{}\"\naddress = \"friend@example.org\"",
        secret.id
    );
    node.deploy_test_qualifier("1.0.0", "skip", GRANTS, &config)
        .await
        .unwrap();
    node.deliver("alice", "for alice").await;
    node.deliver("bob", "for bob").await;
    node.settle(SETTLE).await;
    let for_alice = &node.messages(alice).await[0];
    assert!(
        !for_alice.tags.iter().any(|t| t.starts_with("found")),
        "alice's message saw bob's contact: {:?}",
        for_alice.tags
    );
    let for_bob = &node.messages(bob).await[0];
    assert!(
        for_bob.tags.contains(&"found-id".to_owned())
            && for_bob.tags.contains(&"found-address".to_owned()),
        "{:?}",
        for_bob.tags
    );
}
