//! Two Caliopen processes on one shared store, ScyllaDB for records and
//! Elasticsearch for search, when `CALIOPEN_TEST_SCYLLA` (`127.0.0.1:9042`) and
//! `CALIOPEN_TEST_ELASTICSEARCH` (`http://127.0.0.1:9200`) name servers
//! (`docker compose -f deploy/compose.yaml up`). Ignored by default, so runners list it
//! as skipped; `cargo xtask test` runs it when both are set. The same division of work
//! is tested always, in process, by core's `cluster` tests.

use crate::common;

use std::time::Duration;

use common::node::{Node, Server, Session};

/// The Scylla node and the Elasticsearch URL this test needs.
fn servers() -> (String, String) {
    let var = |name| {
        std::env::var(name)
            .ok()
            .filter(|v: &String| !v.is_empty())
            .unwrap_or_else(|| panic!("{name} is not set: this test needs a server"))
    };
    (
        var("CALIOPEN_TEST_SCYLLA"),
        var("CALIOPEN_TEST_ELASTICSEARCH"),
    )
}

/// A node whose records are in `keyspace` on Scylla and whose search is on
/// Elasticsearch under `prefix`.
fn shared_node(scylla: &str, elastic: &str, keyspace: &str, prefix: &str) -> Node {
    let node = Node::new();
    node.write_config_with(
        true,
        &format!(
            "[storage]\nrecords = \"scylla\"\nsearch = \"elasticsearch\"\n\
             [storage.scylla]\ncontact_points = [\"{scylla}\"]\nkeyspace = \"{keyspace}\"\n\
             [storage.elasticsearch]\nnodes = [\"{elastic}\"]\nindex_prefix = \"{prefix}\"\n\
             [core.cluster]\nheartbeat = 200\nlease = 2000\n"
        ),
    );
    node
}

fn mail(n: usize) -> String {
    format!(
        "From: carol@example.org\r\nTo: alice@caliopen.local, bob@caliopen.local\r\n\
         Subject: cluster {n}\r\nMessage-ID: <cluster-{n}@example.org>\r\n\r\nmail {n}\r\n"
    )
}

fn send(server: &Server<'_>, n: usize) {
    let to = ["alice@caliopen.local", "bob@caliopen.local"];
    let replies = server.lmtp_send("carol@example.org", &to, &mail(n));
    assert!(to.iter().all(|r| replies[*r] == 250), "{replies:?}");
}

/// Waits until `session`'s user has exactly `total` messages on `server`.
fn has(server: &Server<'_>, session: &Session, total: u64) {
    let list = server.poll(
        session,
        "/api/v2/messages?limit=100",
        Duration::from_secs(60),
        |v| v["total"].as_u64() >= Some(total),
    );
    assert_eq!(list["total"], total, "each mail stored once");
}

#[test]
#[ignore = "needs ScyllaDB and Elasticsearch: set CALIOPEN_TEST_SCYLLA and CALIOPEN_TEST_ELASTICSEARCH (`cargo xtask test` then runs it)"]
fn two_processes_share_one_store_store_each_mail_once_and_take_over_a_killed_node() {
    let (scylla, elastic) = servers();
    let run = std::process::id();
    let keyspace = format!("caliopen_cluster_{run}");
    let prefix = format!("caliopen-cluster-{run}");
    let a = shared_node(&scylla, &elastic, &keyspace, &prefix);
    let b = shared_node(&scylla, &elastic, &keyspace, &prefix);
    for user in ["alice", "bob"] {
        a.cli(
            &["user", "add", user, "--password-stdin"],
            Some("correct horse battery"),
        )
        .expect("user add");
    }
    let sa = a.serve();
    let sb = b.serve();

    // Mail reaches either node; both serve every mailbox.
    for n in 0..20 {
        send(if n % 2 == 0 { &sa } else { &sb }, n);
    }
    for server in [&sa, &sb] {
        for user in ["alice", "bob"] {
            let session = server.login(user, "correct horse battery");
            has(server, &session, 20);
        }
    }

    for server in [&sa, &sb] {
        assert!(
            server
                .metrics()
                .lines()
                .any(|l| l == "caliopen_cluster_nodes 2")
        );
    }

    // b dies without leaving: after its lease, a processes its users' mail too.
    sb.kill();
    for n in 20..30 {
        send(&sa, n);
    }
    assert!(
        sa.metrics()
            .lines()
            .any(|l| l == "caliopen_cluster_nodes 1")
    );
    for user in ["alice", "bob"] {
        let session = sa.login(user, "correct horse battery");
        has(&sa, &session, 30);
        // Indexed once each, whichever node owned the user when the mail came.
        let found = sa.poll(
            &session,
            "/api/v2/search?term=cluster&limit=100",
            Duration::from_secs(60),
            |v| v["messages_hits"]["total"].as_u64() >= Some(30),
        );
        assert_eq!(found["messages_hits"]["total"], 30, "{found}");
    }
}
