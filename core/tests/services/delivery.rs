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
