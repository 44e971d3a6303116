//! A Caliopen node run as a real process, driven by real clients: the `caliopen`
//! binary for CLI and server, Python's smtplib for LMTP, curl for HTTP.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use super::root;

/// A data directory and a configuration for one node.
pub struct Node {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub http: u16,
    pub lmtp: u16,
    pub admin: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Node {
    /// A node whose configuration deploys the email parser and broker.
    pub fn new() -> Self {
        let node = Self::bare();
        node.write_config(true);
        node
    }

    /// A node with no component configured: deliveries are accepted and stay
    /// pending (no parser to run them through) until components are deployed.
    pub fn without_components() -> Self {
        let node = Self::bare();
        node.write_config(false);
        node
    }

    fn bare() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (http, lmtp) = (free_port(), free_port());
        let config = dir.path().join("caliopen.toml");
        Self {
            dir,
            config,
            http,
            lmtp,
            admin: free_port(),
        }
    }

    /// Rewrites the configuration, with or without the email components.
    pub fn write_config(&self, components: bool) {
        self.write_config_with(components, "");
    }

    /// Rewrites the configuration, with `extra` TOML tables after the usual ones
    /// (a `[storage]` choice, for instance).
    pub fn write_config_with(&self, components: bool, extra: &str) {
        let root = root().canonicalize().unwrap();
        let mut text = format!(
            "data_dir = \"data\"\n[listen]\nhttp = \"127.0.0.1:{}\"\nlmtp = \"127.0.0.1:{}\"\nadmin = \"127.0.0.1:{}\"\n\
             [core.delivery]\nretry_base = 100\nmax_attempts = 1000\n",
            self.http, self.lmtp, self.admin
        );
        if components {
            for (dir, artefact) in [
                ("email-parser", "caliopen_email_parser"),
                ("email-broker", "caliopen_email_broker"),
            ] {
                text.push_str(&format!(
                    "[[components]]\nmanifest = \"{root}/components/{dir}/component.toml\"\nwasm = \"{root}/target/components/{artefact}.wasm\"\n",
                    root = root.display()
                ));
            }
        }
        text.push_str(extra);
        std::fs::write(&self.config, text).unwrap();
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_caliopen"));
        cmd.arg("--config")
            .arg(&self.config)
            .args(args)
            .env("RUST_LOG", "info");
        cmd
    }

    /// Runs a CLI command to completion; its stdout on success.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)))
        }
    }

    /// Starts `caliopen serve` and waits until both listeners accept.
    pub fn serve(&self) -> Server<'_> {
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let child = self
            .command(&["serve"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = Server { node: self, child };
        server.wait_listening(Duration::from_secs(120));
        server
    }
}

/// A running `caliopen serve`; killed (SIGKILL) when dropped.
pub struct Server<'a> {
    pub node: &'a Node,
    child: Child,
}

/// A logged-in client.
#[derive(Clone, Debug)]
pub struct Session {
    pub user_id: String,
    pub token: String,
    pub device: String,
}

impl Server<'_> {
    /// Kills the server with SIGKILL: no shutdown, no flush.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.node.dir.path().join("server.log")).unwrap_or_default()
    }

    fn wait_listening(&self, timeout: Duration) {
        let start = Instant::now();
        for port in [self.node.http, self.node.lmtp] {
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    start.elapsed() < timeout,
                    "server did not listen in time; its log:\n{}",
                    self.log()
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// Delivers `mail` with Python's smtplib.LMTP; the reply code per recipient.
    pub fn lmtp_send(&self, from: &str, to: &[&str], mail: &str) -> HashMap<String, u16> {
        let script = r#"
import json, smtplib, sys
port, sender, rcpts, data = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), sys.stdin.buffer.read()
lmtp = smtplib.LMTP("127.0.0.1", port)
try:
    refused = lmtp.sendmail(sender, rcpts, data)
    codes = {r: 250 for r in rcpts}
    codes.update({r: c for r, (c, _) in refused.items()})
except smtplib.SMTPRecipientsRefused as e:
    codes = {r: c for r, (c, _) in e.recipients.items()}
lmtp.quit()
print(json.dumps(codes))
"#;
        let mut child = Command::new("python3")
            .args([
                "-c",
                script,
                &self.node.lmtp.to_string(),
                from,
                &serde_json::to_string(to).unwrap(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 is needed for the LMTP client");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(mail.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "smtplib.LMTP failed: {}\nserver log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn curl(&self, args: &[&str]) -> (u16, Value) {
        let out = Command::new("curl")
            .args(["-sS", "-w", "\n%{http_code}"])
            .args(args)
            .output()
            .expect("curl is needed for the HTTP client");
        let text = String::from_utf8_lossy(&out.stdout);
        let (body, code) = text
            .trim_end()
            .rsplit_once('\n')
            .unwrap_or(("", text.trim()));
        let code = code
            .parse()
            .unwrap_or_else(|_| panic!("curl failed: {}", String::from_utf8_lossy(&out.stderr)));
        (code, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.node.http)
    }

    /// The Prometheus text of the admin listener.
    pub fn metrics(&self) -> String {
        let out = Command::new("curl")
            .args([
                "-sS",
                &format!("http://127.0.0.1:{}/metrics", self.node.admin),
            ])
            .output()
            .expect("curl is needed for the HTTP client");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until no accepted delivery is left unprocessed.
    pub fn wait_idle(&self, timeout: Duration) {
        let start = Instant::now();
        while !self
            .metrics()
            .lines()
            .any(|l| l == "caliopen_deliveries_pending 0")
        {
            assert!(
                start.elapsed() < timeout,
                "deliveries still pending; server log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Logs in with `POST /api/v1/authentications`.
    pub fn login(&self, username: &str, password: &str) -> Session {
        // A login names its device (400 without, as the original).
        let body = serde_json::json!({
            "username": username, "password": password,
            "device": {"device_id": "default"},
        })
        .to_string();
        let (code, v) = self.curl(&[
            "-H",
            "content-type: application/json",
            "-d",
            &body,
            &self.url("/api/v1/authentications"),
        ]);
        assert_eq!(code, 200, "login failed: {v}");
        Session {
            user_id: v["user_id"].as_str().unwrap().into(),
            token: v["tokens"]["access_token"].as_str().unwrap().into(),
            device: v["device"]["device_id"].as_str().unwrap().into(),
        }
    }

    /// An authenticated GET.
    pub fn get(&self, s: &Session, path: &str) -> (u16, Value) {
        let auth =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", s.user_id, s.token));
        self.curl(&[
            "-H",
            &format!("Authorization: Bearer {auth}"),
            "-H",
            &format!("X-Caliopen-Device-ID: {}", s.device),
            &self.url(path),
        ])
    }

    /// An authenticated request with an optional JSON body.
    pub fn call(
        &self,
        s: &Session,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let auth =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", s.user_id, s.token));
        let body = body.map(Value::to_string);
        let mut args = vec![
            "-X".to_owned(),
            method.to_owned(),
            "-H".to_owned(),
            format!("Authorization: Bearer {auth}"),
            "-H".to_owned(),
            format!("X-Caliopen-Device-ID: {}", s.device),
        ];
        if let Some(body) = body {
            args.extend(["-H".into(), "content-type: application/json".into()]);
            args.extend(["-d".into(), body]);
        }
        args.push(self.url(path));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.curl(&args)
    }

    /// An unauthenticated POST of a JSON body.
    pub fn post_anonymous(&self, path: &str, body: &Value) -> (u16, Value) {
        self.curl(&[
            "-H",
            "content-type: application/json",
            "-d",
            &body.to_string(),
            &self.url(path),
        ])
    }

    /// GETs `path` until `done` holds for the answer.
    pub fn poll(
        &self,
        s: &Session,
        path: &str,
        timeout: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let start = Instant::now();
        loop {
            let (code, v) = self.get(s, path);
            if code == 200 && done(&v) {
                return v;
            }
            assert!(
                start.elapsed() < timeout,
                "gave up on {path}: last answer {code} {v}\nserver log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Server<'_> {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
