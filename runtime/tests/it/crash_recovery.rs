//! Acknowledged mail survives a crash: a server that answered 250 and is killed
//! (SIGKILL) before processing delivers the message after restart.

use crate::common;

use std::time::Duration;

use common::node::Node;

#[test]
fn a_message_acknowledged_then_killed_before_processing_is_delivered_after_restart() {
    let node = Node::without_components();
    node.cli(
        &["user", "add", "alice", "--password-stdin"],
        Some("correct horse battery"),
    )
    .expect("user add");

    // No parser is deployed yet: the mail is accepted (durable) and stays pending.
    let server = node.serve();
    let mail = "From: bob@example.org\r\nTo: alice@caliopen.local\r\nSubject: survives\r\nMessage-ID: <s1@example.org>\r\n\r\nstill here\r\n";
    let replies = server.lmtp_send("bob@example.org", &["alice@caliopen.local"], mail);
    assert_eq!(replies["alice@caliopen.local"], 250);
    server.kill();

    // Restart with the components: the pending delivery is processed.
    node.write_config(true);
    let server = node.serve();
    let session = server.login("alice", "correct horse battery");
    let list = server.poll(&session, "/api/v2/messages", Duration::from_secs(60), |v| {
        v["total"] == 1
    });
    assert_eq!(list["messages"][0]["subject"], "survives");
    assert_eq!(
        list["messages"][0]["body"].as_str().map(str::trim_end),
        Some("still here")
    );

    // Delivered once: a redelivery of the same mail by the MTA is folded into it.
    let replies = server.lmtp_send("bob@example.org", &["alice@caliopen.local"], mail);
    assert_eq!(replies["alice@caliopen.local"], 250);
    server.wait_idle(Duration::from_secs(60));
    assert!(
        server
            .metrics()
            .lines()
            .any(|l| l == "caliopen_cluster_nodes 1"),
        "one process on the embedded store is a cluster of one"
    );
    let list = server.poll(&session, "/api/v2/messages", Duration::from_secs(30), |v| {
        v["total"].as_u64().is_some()
    });
    assert_eq!(
        list["total"], 1,
        "the redelivered mail folds into the stored message"
    );
}
