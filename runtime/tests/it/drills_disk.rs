//! Fault drill, disk full: the node's data directory is a small file system of its own.
//! While senders deliver over LMTP, it is filled up, then emptied. While the store cannot
//! write, mail is refused with a temporary (4xx) reply, never acknowledged and lost; when space
//! returns, the same process takes mail again (the embedded store reopens its database by
//! itself) and every acknowledged mail ends up stored exactly once.
//!
//! A read-only data directory: the node, stopped, cannot start on it and says why;
//! made writable again, it starts and every acknowledged mail is there once.
//!
//! Mounting needs root (CAP_SYS_ADMIN): the test uses a tmpfs, or a loop-mounted ext4 image,
//! and fails otherwise, saying why; `cargo xtask test` lists it as skipped when not root.

use crate::common;
use crate::common::drills;

use std::time::{Duration, Instant};

use common::node::Node;
use drills::{
    Loader, OnError, Outcome, PASSWORD, SmallDisk, USER, acked_ids, assert_stored_once,
    stored_message_ids, wait_settled,
};

/// Longest wait for a phase's replies.
const WAIT: Duration = Duration::from_secs(90);

/// Waits until `count` more outcomes match `wanted` than there were at `from`.
fn wait_for(
    loader: &Loader,
    from: usize,
    count: usize,
    what: &str,
    wanted: impl Fn(&Outcome) -> bool,
    log: impl Fn() -> String,
) {
    let start = Instant::now();
    loop {
        let outcomes = loader.outcomes();
        let matching = outcomes[from.min(outcomes.len())..]
            .iter()
            .filter(|o| wanted(o))
            .count();
        if matching >= count {
            return;
        }
        assert!(
            start.elapsed() < WAIT,
            "{matching} of {count} {what} after {WAIT:?}; last outcomes {:?}\nserver log:\n{}",
            &outcomes[outcomes.len().saturating_sub(5)..],
            log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn is_acked(o: &Outcome) -> bool {
    matches!(o, Outcome::Acked(_))
}

fn is_temporary_refusal(o: &Outcome) -> bool {
    matches!(o, Outcome::Refused(_, code) if (400..500).contains(code))
}

#[test]
fn a_full_data_dir_refuses_mail_with_4xx_and_recovers_after_space_returns() {
    let started = Instant::now();
    let node = Node::new();
    let disk = SmallDisk::mount(&node.dir.path().join("data"), 96).unwrap_or_else(|reason| {
        panic!("this drill mounts a small tmpfs and needs root: {reason}")
    });
    node.cli(&["user", "add", USER, "--password-stdin"], Some(PASSWORD))
        .expect("user add");
    let server = node.serve();
    let loader = Loader::start(node.lmtp, 2, 0, 40.0, "disk", OnError::Retry);
    wait_for(&loader, 0, 20, "acknowledged mails", is_acked, || {
        server.log()
    });

    // Full: refused for now (4xx), not lost. Space returns: the node, not restarted,
    // takes mail again.
    let ballast = disk.fill();
    let from = loader.outcomes().len();
    wait_for(
        &loader,
        from,
        5,
        "4xx refusals on a full disk",
        is_temporary_refusal,
        || server.log(),
    );
    std::fs::remove_file(&ballast).expect("remove the ballast");
    let from = loader.outcomes().len();
    wait_for(
        &loader,
        from,
        20,
        "acknowledged mails after space returned",
        is_acked,
        || server.log(),
    );

    let outcomes = loader.finish();
    let permanent: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Refused(_, code) if *code >= 500))
        .collect();
    assert!(
        permanent.is_empty(),
        "a storage fault answered 5xx: {permanent:?}"
    );
    let acked = acked_ids(&outcomes);
    wait_settled(&server, Duration::from_secs(300));
    let session = server.login(USER, PASSWORD);
    assert_stored_once(&acked, &stored_message_ids(&server, &session));
    let refused = outcomes.iter().filter(|o| is_temporary_refusal(o)).count();
    eprintln!(
        "{} acknowledged, {refused} refused with 4xx, {} connection errors, all acknowledged mail stored once, in {:?}",
        acked.len(),
        outcomes.len() - acked.len() - refused,
        started.elapsed()
    );
    server.kill();
}

#[test]
fn a_read_only_data_dir_stops_the_node_with_a_clear_error_and_loses_nothing() {
    let node = Node::new();
    let disk = SmallDisk::mount(&node.dir.path().join("data"), 96).unwrap_or_else(|reason| {
        panic!("this drill mounts a small tmpfs and needs root: {reason}")
    });
    node.cli(&["user", "add", USER, "--password-stdin"], Some(PASSWORD))
        .expect("user add");
    let server = node.serve();
    let loader = Loader::start(node.lmtp, 2, 0, 40.0, "read-only", OnError::Retry);
    wait_for(&loader, 0, 20, "acknowledged mails", is_acked, || {
        server.log()
    });

    // Read-only (a remount is refused while the server holds files open: it is
    // stopped first, as a failing disk would stop it).
    server.kill();
    disk.set_read_only(true);
    let mut child = node
        .command(&["serve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start caliopen serve");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for caliopen serve") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("caliopen serve kept running on a read-only data directory");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().expect("its output");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !status.success(),
        "serve started on a read-only data dir: {said}"
    );
    assert!(
        said.contains("is not writable") && said.to_lowercase().contains("read-only"),
        "the error does not say the data directory is read-only: {said}"
    );

    // Writable again: the node starts and mail flows.
    disk.set_read_only(false);
    let server = node.serve();
    let from = loader.outcomes().len();
    wait_for(
        &loader,
        from,
        20,
        "acknowledged mails after the data dir became writable",
        is_acked,
        || server.log(),
    );
    let outcomes = loader.finish();
    assert!(
        !outcomes
            .iter()
            .any(|o| matches!(o, Outcome::Refused(_, code) if *code >= 500)),
        "a storage fault answered 5xx"
    );
    let acked = acked_ids(&outcomes);
    wait_settled(&server, Duration::from_secs(300));
    let session = server.login(USER, PASSWORD);
    assert_stored_once(&acked, &stored_message_ids(&server, &session));
    server.kill();
}
