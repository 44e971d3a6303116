//! Fault drill, crash: `kill -9` of the server while several senders deliver over LMTP,
//! then a restart. Every mail that got a 250 must be stored exactly once, whatever the
//! crash interrupted (a mail being received, stored, parsed or indexed). Mail that did not
//! get its 250 may or may not be there: the MTA would retry it.

use crate::common::drills;

use std::time::{Duration, Instant};

use drills::{
    Loader, OnError, PASSWORD, USER, acked_ids, assert_stored_once, node_with_user,
    stored_message_ids, wait_settled,
};

/// Concurrent senders, and how many 250s each crash waits for.
const SENDERS: u32 = 4;
const ACKED_BEFORE_CRASH: usize = 60;

#[test]
fn every_acknowledged_mail_survives_kill_9_during_ingest_exactly_once() {
    let started = Instant::now();
    let node = node_with_user();
    let mut acked = Vec::new();

    // Two crashes: a fresh store, then one already recovering from the first crash.
    for round in 0..2 {
        let server = node.serve();
        let loader = Loader::start(
            node.lmtp,
            SENDERS,
            0,
            0.0,
            &format!("crash{round}"),
            OnError::Stop,
        );
        loader.wait_acked(ACKED_BEFORE_CRASH, Duration::from_secs(120), || {
            server.log()
        });
        server.kill();
        let outcomes = loader.finish();
        let ids = acked_ids(&outcomes);
        assert!(ids.len() >= ACKED_BEFORE_CRASH, "{outcomes:?}");
        eprintln!("round {round}: {} acknowledged, then kill -9", ids.len());
        acked.extend(ids);
    }

    let server = node.serve();
    wait_settled(&server, Duration::from_secs(300));
    let session = server.login(USER, PASSWORD);
    let stored = stored_message_ids(&server, &session);
    assert_stored_once(&acked, &stored);

    // The restarted node takes mail as before.
    let loader = Loader::start(node.lmtp, 2, 5, 0.0, "after", OnError::Stop);
    let outcomes = loader.finish();
    let after = acked_ids(&outcomes);
    assert_eq!(after.len(), 10, "{outcomes:?}");
    wait_settled(&server, Duration::from_secs(120));
    let stored = stored_message_ids(&server, &session);
    assert_stored_once(&after, &stored);
    assert_stored_once(&acked, &stored);
    eprintln!(
        "{} acknowledged mails across two crashes, all stored once, in {:?}",
        acked.len(),
        started.elapsed()
    );
}
