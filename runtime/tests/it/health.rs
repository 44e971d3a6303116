//! `GET /health` on the REST and admin listeners of a node started in process, and
//! what happens when a part the node cannot live without stops: both listeners say
//! which, and the node shuts itself down with an error (the `caliopen serve`
//! process then exits non-zero for its supervisor to restart it).

use std::process::Command;
use std::time::Duration;

use caliopen_runtime::config::Config;
use caliopen_runtime::server;
use serde_json::Value;

/// `curl` GET: the status and JSON body.
fn get(url: &str) -> (u16, Value) {
    let out = Command::new("curl")
        .args(["-sS", "-m", "10", "-w", "\n%{http_code}", url])
        .output()
        .expect("curl is needed for the HTTP client");
    let text = String::from_utf8_lossy(&out.stdout);
    let (body, code) = text.trim_end().rsplit_once('\n').unwrap_or(("", &text));
    (
        code.trim().parse().unwrap_or(0),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

fn config(dir: &std::path::Path) -> Config {
    let text = format!(
        "data_dir = {:?}\n[listen]\nhttp = \"127.0.0.1:0\"\nlmtp = \"127.0.0.1:0\"\nadmin = \"127.0.0.1:0\"\n\
         [admin]\ntoken = \"a-test-token-long-enough-for-anyone\"\n",
        dir.display().to_string()
    );
    Config::parse(&text, std::iter::empty()).expect("a test configuration")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_turns_red_on_both_listeners_when_a_critical_part_stops_and_the_node_exits() {
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path()))
        .await
        .expect("the node starts");
    let rest = format!("http://{}/health", running.http);
    let admin = format!("http://{}/health", running.admin);
    let (r, a) = tokio::task::block_in_place(|| (get(&rest), get(&admin)));
    assert_eq!(r, (200, serde_json::json!({ "status": "ok" })));
    assert_eq!(a, (200, serde_json::json!({ "status": "ok" })));

    // A critical task reports its end the way every guard does (core::health).
    running
        .core
        .health()
        .fail("delivery dispatcher", "its task panicked");
    // The answer changes at once, before the node begins to stop.
    let (r, a) = tokio::task::block_in_place(|| (get(&rest), get(&admin)));
    assert_eq!(r.0, 503, "{r:?}");
    assert_eq!(r.1["status"], "unhealthy");
    assert_eq!(r.1["unhealthy"], serde_json::json!(["delivery dispatcher"]));
    assert_eq!(a.0, 503, "{a:?}");
    assert_eq!(a.1["unhealthy"][0]["component"], "delivery dispatcher");
    assert_eq!(a.1["unhealthy"][0]["reason"], "its task panicked");

    let node = tokio::spawn(running.run_until(std::future::pending()));

    let outcome = tokio::time::timeout(Duration::from_secs(120), node)
        .await
        .expect("the node stops on its own")
        .unwrap();
    let err = outcome.expect_err("a failed node ends with an error (a non-zero exit)");
    assert!(err.to_string().contains("delivery dispatcher"), "{err}");
    // Stopped for good: nothing listens any more.
    let (code, _) = tokio::task::block_in_place(|| get(&rest));
    assert_eq!(code, 0, "the REST listener is closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orderly_stop_is_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path()))
        .await
        .expect("the node starts");
    let core = running.core.clone();
    running
        .run_until(async {})
        .await
        .expect("an orderly stop ends without error");
    assert!(
        core.health().report().is_healthy(),
        "parts stopped on purpose are not failures: {:?}",
        core.health().report()
    );
}
