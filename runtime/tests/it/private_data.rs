//! The real `caliopen serve` against what an attacker on the same machine or
//! behind the same proxy tries: an admin API left open by an empty, blank or
//! short token; data files readable by other local users; a client choosing its
//! address with `X-Forwarded-For` to escape the login throttle.

use crate::common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::node::Node;
use serde_json::{Value, json};

/// Runs `caliopen serve` and waits for it to exit; `Err` with its log when it is
/// still serving after `timeout` (it is then killed).
fn serve_expecting_exit(node: &Node, timeout: Duration) -> Result<String, String> {
    let mut child = node
        .command(&["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let log = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(!status.success(), "serve exited successfully: {log}");
            return Ok(log);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_empty_blank_or_short_admin_token_is_refused_at_start() {
    // A crash between creating and writing the token file leaves it empty.
    let cases: [(&str, Option<&str>); 4] = [
        ("", Some("")),
        ("", Some("  \n")),
        ("[admin]\ntoken = \"   \"\n", None),
        ("[admin]\ntoken = \"short-token\"\n", None),
    ];
    for (config, file) in cases {
        let node = Node::without_components();
        node.write_config_with(false, config);
        if let Some(text) = file {
            let data = node.dir.path().join("data");
            std::fs::create_dir_all(&data).unwrap();
            std::fs::write(data.join("admin.token"), text).unwrap();
        }
        let log = serve_expecting_exit(&node, Duration::from_secs(90)).unwrap_or_else(|log| {
            panic!("served with the admin token of {config:?} / {file:?}; its log:\n{log}")
        });
        assert!(log.contains("admin token"), "{config:?} / {file:?}: {log}");
    }
}

/// Every folder under `dir` (and `dir`) with its mode, then every file.
fn modes(dir: &Path, out: &mut Vec<(String, bool, u32)>) {
    let meta = std::fs::symlink_metadata(dir).unwrap();
    out.push((
        dir.display().to_string(),
        true,
        meta.permissions().mode() & 0o777,
    ));
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue; // removed meanwhile
        };
        if meta.is_dir() {
            modes(&path, out);
        } else if meta.is_file() {
            out.push((
                path.display().to_string(),
                false,
                meta.permissions().mode() & 0o777,
            ));
        }
    }
}

#[test]
fn the_data_directory_is_the_owners_only() {
    let node = Node::without_components();
    // An older install: world-readable folders and files.
    let data = node.dir.path().join("data");
    std::fs::create_dir_all(data.join("store")).unwrap();
    std::fs::write(data.join("store/left-by-an-older-version"), b"x").unwrap();
    for (path, mode) in [
        (data.clone(), 0o755),
        (data.join("store"), 0o755),
        (data.join("store/left-by-an-older-version"), 0o644),
    ] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let server = node.serve();
    // Writes after the start: a user, a login, tokens.
    let (code, v) = server.post_anonymous(
        "/api/v1/users",
        &json!({"username": "alice", "password": "correct horse battery", "recovery_email": "a@example.org"}),
    );
    assert_eq!(code, 200, "{v}");
    server.login("alice", "correct horse battery");

    let token = std::fs::read_to_string(data.join("admin.token")).unwrap();
    assert!(
        token.len() >= 32 && !token.contains(char::is_whitespace),
        "{token:?}"
    );
    let mut all = Vec::new();
    modes(&data, &mut all);
    assert!(all.len() > 10, "the store's files are there: {all:?}");
    let loose: Vec<_> = all
        .iter()
        .filter(|(_, dir, mode)| *mode != if *dir { 0o700 } else { 0o600 })
        .collect();
    assert!(loose.is_empty(), "readable by others: {loose:#?}");
    server.kill();
}

fn curl(args: &[&str]) -> (u16, Value) {
    let out = Command::new("curl")
        .args(["-sS", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout);
    let (body, code) = text.trim_end().rsplit_once('\n').unwrap_or(("", &text));
    (
        code.trim().parse().unwrap(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

#[test]
fn only_a_trusted_proxy_names_the_client() {
    let node = Node::without_components();
    node.write_config_with(
        false,
        "[rest]\ntrusted_proxies = [\"127.0.0.1\"]\n[core]\nlogin_attempts = 2\n",
    );
    let server = node.serve();
    let (code, v) = server.post_anonymous(
        "/api/v1/users",
        &json!({"username": "alice", "password": "correct horse battery", "recovery_email": "a@example.org"}),
    );
    assert_eq!(code, 200, "{v}");
    let url = format!("http://127.0.0.1:{}/api/v1/authentications", node.http);
    let login = |forwarded: &str, password: &str| {
        let body = json!({"username": "alice", "password": password,
            "device": {"device_id": "default"}})
        .to_string();
        curl(&[
            "-H",
            "content-type: application/json",
            "-H",
            &format!("X-Forwarded-For: {forwarded}"),
            "-d",
            &body,
            &url,
        ])
        .0
    };
    assert_eq!(login("203.0.113.66", "guess one"), 401);
    assert_eq!(login("203.0.113.66", "guess two"), 429);
    assert_eq!(login("203.0.113.66", "correct horse battery"), 429);
    // The proxy (the TCP peer, trusted) names another client: not blocked.
    assert_eq!(login("198.51.100.7", "correct horse battery"), 200);
    server.kill();
}
