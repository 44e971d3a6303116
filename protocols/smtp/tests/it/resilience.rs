//! The inbound server's resilience, driven by Python's `smtplib` over a real embedded store:
//! storage failures answered 451, timeouts, the connection cap and graceful shutdown.

use crate::common;

use std::time::Duration;

use caliopen_smtp::{InboundMode, InboundSettings};
use common::{ALICE, BOB, Bench, Python, SENDER, lmtp, message, opening, settings, smtplib};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_failure_on_data_is_a_451_and_the_retry_succeeds() {
    let bench = Bench::start(settings(InboundMode::Lmtp)).await;
    bench.faults.fail_writes(true);
    let mut steps = opening(&[ALICE, BOB]);
    steps.push(json!({"op": "data", "message": message("retry"), "replies": 2}));
    steps.push(json!({"op": "signal"}));
    steps.push(
        json!({"op": "sendmail", "from": SENDER, "to": [ALICE], "message": message("retry")}),
    );
    steps.push(json!({"op": "quit"}));
    let mut client = Python::spawn(bench.addr, &lmtp(&steps));
    let before = client.until_signal().await;
    assert_eq!(before[5].codes(), [451, 451], "{:?}", before[5]);
    assert!(
        before[5].result()[0][1]
            .as_str()
            .is_some_and(|t| t.starts_with("4.3.0")),
        "{:?}",
        before[5]
    );
    assert!(bench.pending().await.is_empty(), "a 451 leaves nothing");

    bench.faults.fail_writes(false);
    client.resume().await;
    let after = client.finish().await;
    assert_eq!(after[0].result()["refused"], json!({}), "{after:?}");
    assert_eq!(bench.pending().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_failure_on_rcpt_is_a_451() {
    let mut bench = Bench::start(settings(InboundMode::Lmtp)).await;
    bench.faults.fail_reads(true);
    let mut steps = opening(&[ALICE]);
    steps.push(json!({"op": "quit"}));
    let steps = smtplib(bench.addr, lmtp(&steps)).await;
    assert_eq!(steps[3].code(), 451);
    assert!(steps[3].text().starts_with("4.3.0"), "{:?}", steps[3]);
    bench.faults.fail_reads(false);
    bench.stop().await;
    assert!(bench.pending().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_client_gets_421_after_the_command_timeout() {
    let bench = Bench::start(InboundSettings {
        command_timeout: Duration::from_secs(1),
        ..settings(InboundMode::Lmtp)
    })
    .await;
    // Greeted, then silent: the next thing the client reads is the timeout.
    let steps = smtplib(bench.addr, lmtp(&[json!({"op": "getreply"})])).await;
    assert_eq!(steps[1].code(), 421);
    assert!(steps[1].text().starts_with("4.4.2"), "{:?}", steps[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_data_phase_gets_421_and_stores_nothing() {
    let mut bench = Bench::start(InboundSettings {
        data_timeout: Duration::from_secs(1),
        ..settings(InboundMode::Lmtp)
    })
    .await;
    let mut steps = opening(&[ALICE]);
    steps.push(json!({"op": "partial_data", "message": message("stalled")}));
    steps.push(json!({"op": "getreply"}));
    let steps = smtplib(bench.addr, lmtp(&steps)).await;
    assert_eq!(steps[4].code(), 354);
    // Whether the message bytes arrived before the deadline or not, the answer is the same.
    assert_eq!(steps[5].code(), 421);
    assert!(steps[5].text().starts_with("4.4.2"), "{:?}", steps[5]);
    bench.stop().await;
    assert!(bench.pending().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_get_421() {
    let bench = Bench::start(InboundSettings {
        max_connections: 1,
        ..settings(InboundMode::Lmtp)
    })
    .await;
    // The first client is greeted, so it holds the only slot while it waits.
    let mut first = Python::spawn(
        bench.addr,
        &lmtp(&[
            json!({"op": "hello"}),
            json!({"op": "signal"}),
            json!({"op": "sendmail", "from": SENDER, "to": [ALICE], "message": message("first")}),
            json!({"op": "quit"}),
        ]),
    );
    first.until_signal().await;
    let second = smtplib(bench.addr, lmtp(&[json!({"op": "hello"})])).await;
    let (kind, detail) = second[0].error().expect("the second client is refused");
    assert_eq!(kind, "SMTPConnectError");
    assert!(detail.contains("421"), "{detail}");

    first.resume().await;
    let steps = first.finish().await;
    assert_eq!(steps[0].result()["refused"], json!({}));
    assert_eq!(bench.pending().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_an_idle_session_421() {
    let mut bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let mut client = Python::spawn(
        bench.addr,
        &lmtp(&[
            json!({"op": "hello"}),
            json!({"op": "signal"}),
            json!({"op": "getreply"}),
        ]),
    );
    client.until_signal().await;
    // Returns once every session has ended.
    bench.stop().await;
    client.resume().await;
    let steps = client.finish().await;
    assert_eq!(steps[0].code(), 421, "{steps:?}");
    assert!(steps[0].text().starts_with("4.3.2"), "{:?}", steps[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_message_in_progress_finish() {
    let mut bench = Bench::start(settings(InboundMode::Lmtp)).await;
    let mut steps = opening(&[ALICE]);
    steps.push(json!({"op": "partial_data", "message": message("in flight")}));
    steps.push(json!({"op": "signal"}));
    steps.push(json!({"op": "docmd", "line": "."}));
    steps.push(json!({"op": "getreply"}));
    let mut client = Python::spawn(bench.addr, &lmtp(&steps));
    client.until_signal().await;
    bench.request_stop();
    // The listener closes after the stop flag is set: from here the session knows.
    bench.wait_listener_closed().await;
    client.resume().await;
    let steps = client.finish().await;
    assert_eq!(steps[0].code(), 250, "the message is accepted: {steps:?}");
    assert_eq!(
        steps[1].code(),
        421,
        "then the session is closed: {steps:?}"
    );
    assert!(steps[1].text().starts_with("4.3.2"), "{:?}", steps[1]);
    bench.stop().await;
    assert_eq!(bench.pending().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drops_a_session_stuck_in_data_after_its_timeout() {
    let mut bench = Bench::start(InboundSettings {
        shutdown_timeout: Duration::from_secs(1),
        ..settings(InboundMode::Lmtp)
    })
    .await;
    let mut steps = opening(&[ALICE]);
    steps.push(json!({"op": "partial_data", "message": message("stuck")}));
    steps.push(json!({"op": "signal"}));
    steps.push(json!({"op": "getreply"}));
    let mut client = Python::spawn(bench.addr, &lmtp(&steps));
    client.until_signal().await;
    // Bounded by the shutdown timeout, not by the 180 s data timeout.
    bench.stop().await;
    client.resume().await;
    let steps = client.finish().await;
    let (kind, _) = steps[0]
        .error()
        .expect("no reply, the connection is dropped");
    assert!(
        ["SMTPServerDisconnected", "ConnectionResetError"].contains(&kind.as_str()),
        "{kind}"
    );
    assert!(bench.pending().await.is_empty());
}
