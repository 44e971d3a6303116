//! Checks of the ephemeral role: time to live, namespaces, counter windows.

use std::time::Duration;

use tokio::time::{Instant, sleep, sleep_until};

use crate::Backend;
use crate::support::{close, ok, open};

const NS: &str = "conformance-token";
const OTHER_NS: &str = "conformance-session";

/// Values expire after their TTL, namespaces are separate, a put replaces value and TTL.
pub async fn ephemeral_ttl(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let eph = &stores.ephemeral;
    let key = uuid::Uuid::new_v4().as_bytes().to_vec();
    let (short, long) = (Duration::from_secs(1), Duration::from_secs(120));
    let start = Instant::now();

    ok(
        backend,
        "put",
        eph.put(NS, &key, b"short-lived", short).await,
    );
    let mut replaced = key.clone();
    replaced.push(b'r');
    ok(
        backend,
        "put",
        eph.put(NS, &replaced, b"first", short).await,
    );
    ok(
        backend,
        "put",
        eph.put(NS, &replaced, b"second", long).await,
    );
    let mut kept = key.clone();
    kept.push(b'k');
    ok(
        backend,
        "put",
        eph.put(NS, &kept, b"long-lived", long).await,
    );
    let mut deleted = key.clone();
    deleted.push(b'd');
    ok(backend, "put", eph.put(NS, &deleted, b"doomed", long).await);

    assert_eq!(
        ok(backend, "get", eph.get(NS, &key).await).as_deref(),
        Some(&b"short-lived"[..]),
        "[{name}] a fresh value reads back"
    );
    assert_eq!(
        ok(backend, "get", eph.get(OTHER_NS, &key).await),
        None,
        "[{name}] namespaces do not share keys"
    );
    assert_eq!(
        ok(backend, "get", eph.get(NS, &replaced).await).as_deref(),
        Some(&b"second"[..]),
        "[{name}] a put replaces the value"
    );
    ok(backend, "delete", eph.delete(NS, &deleted).await);
    assert_eq!(
        ok(backend, "get", eph.get(NS, &deleted).await),
        None,
        "[{name}] a deleted value is gone"
    );
    ok(
        backend,
        "delete of a missing value",
        eph.delete(NS, &deleted).await,
    );

    sleep_until(start + short + Duration::from_millis(300)).await;
    assert_eq!(
        ok(backend, "get", eph.get(NS, &key).await),
        None,
        "[{name}] an expired value is never returned"
    );
    assert_eq!(
        ok(backend, "get", eph.get(NS, &replaced).await).as_deref(),
        Some(&b"second"[..]),
        "[{name}] a put replaces the TTL too"
    );
    assert_eq!(
        ok(backend, "get", eph.get(NS, &kept).await).as_deref(),
        Some(&b"long-lived"[..]),
        "[{name}] an unexpired value stays"
    );

    ok(
        backend,
        "put with a zero TTL",
        eph.put(NS, &key, b"already gone", Duration::ZERO).await,
    );
    assert_eq!(
        ok(backend, "get", eph.get(NS, &key).await),
        None,
        "[{name}] a zero TTL expires at once"
    );
    close(backend, stores).await;
}

/// `increment` counts within a window that starts at the first increment and is not
/// extended by later ones; an expired counter starts again at 1. Concurrent
/// increments are exact.
pub async fn ephemeral_increment_window(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name().to_string();
    let eph = stores.ephemeral.clone();
    let key = uuid::Uuid::new_v4().as_bytes().to_vec();
    let window = Duration::from_secs(1);

    let start = Instant::now();
    for want in 1..=3 {
        let got = ok(backend, "increment", eph.increment(NS, &key, window).await);
        assert_eq!(got, want, "[{name}] increments count up from 1");
    }
    let other = ok(
        backend,
        "increment",
        eph.increment(OTHER_NS, &key, window).await,
    );
    assert_eq!(other, 1, "[{name}] counters are per namespace");
    sleep_until(start + Duration::from_millis(500)).await;
    let got = ok(backend, "increment", eph.increment(NS, &key, window).await);
    if start.elapsed() < window {
        assert_eq!(
            got, 4,
            "[{name}] increments within the window keep counting"
        );
    } else {
        eprintln!(
            "[{name}] ephemeral_increment_window: too slow to check counting within a window"
        );
    }
    sleep_until(start + window + Duration::from_millis(200)).await;
    let restarted = Instant::now();
    let got = ok(backend, "increment", eph.increment(NS, &key, window).await);
    assert_eq!(
        got, 1,
        "[{name}] the window runs from the first increment: after it, counting restarts at 1"
    );
    sleep(Duration::from_millis(500)).await;
    let got = ok(backend, "increment", eph.increment(NS, &key, window).await);
    if restarted.elapsed() < window {
        assert_eq!(
            got, 2,
            "[{name}] the new window started at the restarting increment"
        );
    } else {
        eprintln!("[{name}] ephemeral_increment_window: too slow to check the second window");
    }

    let shared = uuid::Uuid::new_v4().as_bytes().to_vec();
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let eph = eph.clone();
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            eph.increment(NS, &shared, Duration::from_secs(60)).await
        }));
    }
    let mut counts = Vec::new();
    for task in tasks {
        match task.await {
            Ok(count) => counts.push(ok(backend, "concurrent increment", count)),
            Err(e) => panic!("[{name}] a concurrent increment task failed: {e}"),
        }
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=40).collect::<Vec<u64>>(),
        "[{name}] concurrent increments each get a distinct count"
    );
    close(backend, stores).await;
}
