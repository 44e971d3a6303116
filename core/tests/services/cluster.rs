//! Two nodes on one store, as two processes on a shared Scylla store would be: each
//! has its own core, user locks and workers. Users are divided between them, each
//! delivery is processed by one node only, and a node that leaves or stops beating
//! hands its users over.

use std::time::Duration;

use caliopen_core::config::ClusterConfig;
use caliopen_core::model::User;
use caliopen_core::{Core, CoreConfig};

use crate::harness::Node;

/// Short enough for a quick test, long enough that a heartbeat slowed by a loaded
/// machine (an fsync of the shared store) does not make a node count the other dead.
fn fast_cluster() -> CoreConfig {
    CoreConfig {
        cluster: ClusterConfig {
            heartbeat: Duration::from_millis(50),
            lease: Duration::from_millis(1500),
        },
        ..CoreConfig::default()
    }
}

/// Waits until `cond` holds, for at most fifteen seconds.
async fn until(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..1500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting until {what}");
}

fn owned_by(core: &Core, users: &[User]) -> usize {
    users.iter().filter(|u| core.owns(u.id)).count()
}

/// Starts two nodes on one store and waits until they divide the users.
async fn two_nodes() -> (Node, Node) {
    let a = Node::clustered(fast_cluster()).await;
    let b = a.peer();
    let probe: Vec<uuid::Uuid> = (0..64).map(|_| uuid::Uuid::new_v4()).collect();
    until("both see both, and every user has one owner", || {
        a.core.live_nodes().len() == 2
            && b.core.live_nodes().len() == 2
            && probe.iter().all(|u| a.core.owns(*u) != b.core.owns(*u))
    })
    .await;
    (a, b)
}

/// Users, until each of the two nodes owns at least two of them.
async fn users_on_both(a: &Node, b: &Node) -> Vec<User> {
    let mut users = Vec::new();
    for n in 0..64 {
        users.push(a.user(&format!("user{n}")).await);
        if owned_by(&a.core, &users) >= 2 && owned_by(&b.core, &users) >= 2 {
            return users;
        }
    }
    panic!("64 users and one node owns almost all of them");
}

async fn deliver_to_all(a: &Node, b: &Node, users: &[User], round: usize, per_user: usize) {
    for (i, user) in users.iter().enumerate() {
        for n in 0..per_user {
            // Accepted through either node: acceptance is not divided, processing is.
            let via = if (i + n) % 2 == 0 { a } else { b };
            let headers = format!(
                "Subject: round {round} mail {n}\nFrom: x@example.org\nX-Processing-Ms: 20"
            );
            via.accept(user, &headers, "hello").await;
        }
    }
    a.settle().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_divide_users_and_process_each_delivery_once() {
    let (a, b) = two_nodes().await;
    let users = users_on_both(&a, &b).await;
    let on_a = owned_by(&a.core, &users);

    deliver_to_all(&a, &b, &users, 1, 4).await;
    // Each delivery went through exactly one node's chain: its owner's.
    assert_eq!(a.processed(), 4 * on_a, "node a processed its users' mail");
    assert_eq!(b.processed(), 4 * (users.len() - on_a), "node b too");
    for user in &users {
        assert_eq!(a.messages(user.id).await.len(), 4, "every mail once");
        assert_eq!(a.counters(user.id).await, (4, 4));
    }

    // b leaves cleanly: a takes every user over at once.
    b.stop();
    b.core.leave_cluster().await.unwrap();
    until("a owns every user", || {
        owned_by(&a.core, &users) == users.len()
    })
    .await;
    let (a_before, b_before) = (a.processed(), b.processed());
    deliver_to_all(&a, &b, &users, 2, 2).await;
    assert_eq!(a.processed() - a_before, 2 * users.len());
    assert_eq!(
        b.processed(),
        b_before,
        "a node that left processes nothing"
    );
    for user in &users {
        assert_eq!(a.counters(user.id).await, (6, 6));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_stops_beating_lets_go_and_its_users_move_after_the_lease() {
    let (a, b) = two_nodes().await;
    let users = users_on_both(&a, &b).await;

    // b hangs: no more heartbeats, and no leaving. It stops taking work itself
    // after half a lease; a counts it dead after a lease.
    b.stop();
    until("b lets go of its users", || owned_by(&b.core, &users) == 0).await;
    until("a owns every user", || {
        owned_by(&a.core, &users) == users.len()
    })
    .await;
    assert_eq!(a.core.live_nodes(), vec![a.core.node_id()]);
    deliver_to_all(&a, &b, &users, 1, 1).await;
    assert_eq!(a.processed(), users.len());
    assert_eq!(b.processed(), 0);
}

#[tokio::test]
async fn a_node_joining_a_cluster_waits_a_lease_before_taking_work() {
    let a = Node::clustered(fast_cluster()).await;
    until("a is alone and ready", || a.core.owns(uuid::Uuid::nil())).await;
    let b = a.peer();
    until("b sees a", || b.core.live_nodes().len() == 2).await;
    // Seen, but not yet ready: a may still be finishing work for b's users.
    let probe: Vec<uuid::Uuid> = (0..64).map(|_| uuid::Uuid::new_v4()).collect();
    assert!(probe.iter().all(|u| !b.core.owns(*u)));
    until("b takes its share", || {
        probe.iter().any(|u| b.core.owns(*u))
    })
    .await;
}
