//! Fault drill, hostile components under load: while senders deliver over LMTP, a qualifier
//! that loops forever, then one that eats memory, are deployed in the qualifier slot, then a
//! well-behaved one. Mail keeps being acknowledged throughout; every acknowledged mail is
//! stored once; the mails the hostile versions handled are stored unqualified by them (the
//! slot's `skip` policy), each ended by its typed error (deadline, memory), and nothing is
//! quarantined.

use crate::common;
use crate::common::drills;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use caliopen_smtp::{InboundMode, InboundSettings};
use common::inproc::InProcess;
use drills::{Loader, OnError, acked_ids};

const GRANTS: &str = "\"log\", \"config\", \"contacts\"";
/// Mails acknowledged in each phase (well-behaved, looping, memory-hungry, well-behaved).
const PER_PHASE: usize = 24;
const SETTLE: Duration = Duration::from_secs(300);
/// Longest wait for a phase's mails to be acknowledged.
const WAIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_qualifiers_deployed_mid_stream_are_contained_and_mail_keeps_flowing() {
    let started = Instant::now();
    let node = InProcess::new().await;
    let alice = node.user("alice").await;
    node.deploy_test_qualifier("1.0.0", "skip", GRANTS, "mode = \"tag\"\ntag = \"before\"")
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let settings = InboundSettings {
        mode: InboundMode::Lmtp,
        hostname: "mx.drill.test".into(),
        ..InboundSettings::default()
    };
    let server = tokio::spawn(caliopen_smtp::serve(
        listener,
        node.core.clone(),
        settings,
        async move {
            let _ = stopped.await;
        },
    ));

    // Three senders at a steady 30 mails/s; they reconnect if anything drops them.
    let loader = Loader::start(port, 3, 0, 30.0, "hostile", OnError::Retry);
    let no_log = String::new;
    let mut target = PER_PHASE;
    for (version, config) in [
        ("1.1.0", "mode = \"loop\""),
        ("1.2.0", "mode = \"memory\""),
        ("1.3.0", "mode = \"tag\"\ntag = \"after\""),
    ] {
        tokio::task::block_in_place(|| loader.wait_acked(target, WAIT, no_log));
        node.deploy_test_qualifier(version, "skip", GRANTS, config)
            .await
            .unwrap();
        target += PER_PHASE;
    }
    tokio::task::block_in_place(|| loader.wait_acked(target, WAIT, no_log));
    let outcomes = tokio::task::block_in_place(|| loader.finish());
    let acked = acked_ids(&outcomes);
    let refused: Vec<_> = outcomes
        .iter()
        .filter(|o| !matches!(o, drills::Outcome::Acked(_)))
        .collect();
    assert!(refused.is_empty(), "mail stopped flowing: {refused:?}");
    node.settle(SETTLE).await;
    let _ = stop.send(());
    server.await.unwrap().unwrap();

    assert!(
        node.core.quarantined().await.unwrap().is_empty(),
        "nothing is quarantined under `skip`"
    );
    let messages = node.messages(alice).await;
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for m in &messages {
        let id = m
            .external_references
            .message_id
            .as_deref()
            .unwrap_or_default();
        *by_id.entry(id).or_insert(0) += 1;
    }
    for id in &acked {
        assert_eq!(by_id.get(id.as_str()), Some(&1), "{id} is not stored once");
    }
    assert_eq!(
        messages.len(),
        acked.len(),
        "nothing stored that was not acknowledged"
    );

    // Each mail was tagged by a well-behaved version or skipped by a hostile one.
    let mut skipped = 0;
    for m in &messages {
        let tagged = ["before", "after"]
            .iter()
            .any(|t| m.tags.contains(&(*t).to_owned()));
        let unqualified = m
            .qualification
            .not_qualified_by
            .iter()
            .any(|v| v == "test-qualifier@1.1.0" || v == "test-qualifier@1.2.0");
        assert!(tagged != unqualified, "{:?} {:?}", m.tags, m.qualification);
        skipped += usize::from(unqualified);
    }
    let metrics = node.engine.metrics();
    let deadlines = metrics
        .component("test-qualifier", "1.1.0")
        .errors("deadline");
    let memory = metrics
        .component("test-qualifier", "1.2.0")
        .errors("memory");
    assert!(deadlines >= 1, "the looping version handled no mail");
    assert!(memory >= 1, "the memory-hungry version handled no mail");
    assert_eq!(usize::try_from(deadlines + memory).unwrap(), skipped);
    assert!(
        messages
            .iter()
            .any(|m| m.tags.contains(&"after".to_owned())),
        "the well-behaved version took over again"
    );
    eprintln!(
        "{} mails acknowledged, {deadlines} stopped at the deadline, {memory} at the memory cap, in {:?}",
        acked.len(),
        started.elapsed()
    );
}
