//! The delivery workers: any free worker takes the next delivery, so one user's mail
//! is processed side by side, and a mail delivered twice still gives one message.

use crate::harness::Node;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_users_mail_is_processed_side_by_side_and_a_double_delivery_stays_one_message() {
    let node = Node::new().await; // the default number of workers (more than two)
    let alice = node.user("alice").await;
    for n in 0..4 {
        node.accept(
            &alice,
            &format!("Subject: mail {n}\nFrom: bob@example.org\nX-Processing-Ms: 300"),
            "hello",
        )
        .await;
    }
    // The same bytes twice, without a Message-ID: two pending deliveries of one
    // blob, processed at the same time, past the check made before processing.
    let twice = "Subject: twice\nFrom: carol@example.org\nX-Processing-Ms: 300";
    node.accept(&alice, twice, "same bytes").await;
    node.accept(&alice, twice, "same bytes").await;
    node.settle().await;

    assert!(
        node.most_processed_at_once() >= 2,
        "one user's deliveries were processed one at a time (at most {} at once)",
        node.most_processed_at_once()
    );
    let all = node.messages(alice.id).await;
    let mut subjects: Vec<&str> = all.iter().map(|m| m.subject.as_str()).collect();
    subjects.sort_unstable();
    assert_eq!(
        subjects,
        ["mail 0", "mail 1", "mail 2", "mail 3", "twice"],
        "every mail once"
    );
    assert_eq!(node.counters(alice.id).await, (5, 5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_new_mail_is_not_held_behind_one_users_backlog() {
    let node = Node::new().await; // eight workers, up to sixteen more queued for them
    let alice = node.user("alice").await;
    let bob = node.user("bob").await;
    const FLOOD: usize = 160;
    for n in 0..FLOOD {
        node.accept(
            &alice,
            &format!("Subject: flood {n}\nFrom: list@example.org\nX-Processing-Ms: 150"),
            "hello",
        )
        .await;
    }
    let alice_pending = || async {
        let pending = node.core.pending_deliveries().await.unwrap();
        pending.iter().filter(|p| p.user_id == alice.id).count()
    };
    node.accept(
        &bob,
        "Subject: for bob\nFrom: carol@example.org\nX-Processing-Ms: 150",
        "hi",
    )
    .await;
    let backlog = alice_pending().await;
    assert!(
        backlog >= FLOOD * 3 / 4,
        "the flood was nearly processed already ({backlog} left): no backlog to test"
    );

    // Polled until bob's mail is stored: how much of alice's backlog went first?
    let mut left = None;
    for _ in 0..2000 {
        if !node.messages(bob.id).await.is_empty() {
            left = Some(alice_pending().await);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let waited_for = backlog - left.expect("bob's mail was stored");
    eprintln!("bob's mail waited for {waited_for} of alice's {backlog} pending deliveries");
    // In queue order it would wait for the whole backlog; handed over ahead, for
    // about what was already in the workers' hands (8 processed, 16 queued), and
    // what finishes while it is processed and noticed.
    assert!(
        waited_for <= 60,
        "bob's mail waited for {waited_for} of alice's {backlog} pending deliveries"
    );
    node.settle().await;
    assert_eq!(
        node.messages(alice.id).await.len(),
        FLOOD,
        "the flood, once each"
    );
    assert_eq!(node.messages(bob.id).await.len(), 1);
}
