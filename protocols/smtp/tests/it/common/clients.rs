//! The real clients the tests drive: Python's smtplib (through `tests/lmtp_client.py`) and
//! swaks. Every wait is bounded by [`CLIENT_TIMEOUT`]; a missing client fails the test
//! with the command that installs it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::time::timeout;

/// Longest wait for a client step: generous, for a loaded 2-core machine.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lmtp_client.py")
}

/// One line of the Python client's output: `{"op": ..., "result": ...}` or
/// `{"op": ..., "error": [type, detail]}`.
#[derive(Debug, Clone)]
pub struct Step(pub Value);

impl Step {
    pub fn op(&self) -> &str {
        self.0["op"].as_str().unwrap_or_default()
    }

    /// The step's result; panics if the step failed.
    pub fn result(&self) -> &Value {
        assert!(self.0.get("error").is_none(), "step failed: {}", self.0);
        &self.0["result"]
    }

    /// The error type and detail, if the step failed.
    pub fn error(&self) -> Option<(String, String)> {
        let error = self.0.get("error")?;
        Some((error[0].as_str()?.to_owned(), error[1].as_str()?.to_owned()))
    }

    /// The reply code of a step whose result is one `[code, text]` reply.
    pub fn code(&self) -> u64 {
        self.result()[0].as_u64().expect("a reply code")
    }

    /// The text of such a reply.
    pub fn text(&self) -> &str {
        self.result()[1].as_str().expect("a reply text")
    }

    /// The codes of a step whose result is a list of replies.
    pub fn codes(&self) -> Vec<u64> {
        self.result()
            .as_array()
            .expect("a list of replies")
            .iter()
            .map(|r| r[0].as_u64().expect("a reply code"))
            .collect()
    }
}

/// A running Python client, read step by step.
#[derive(Debug)]
pub struct Python {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Python {
    /// Starts `lmtp_client.py` against `addr` with `spec` (`{"protocol", "steps"}`).
    pub fn spawn(addr: SocketAddr, spec: &Value) -> Self {
        let mut child = Command::new("python3")
            .arg(script())
            .arg(addr.ip().to_string())
            .arg(addr.port().to_string())
            .arg(spec.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run python3 (apt-get install python3): {e}"));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        Self {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
        }
    }

    async fn next_line(&mut self) -> Option<Value> {
        let line = timeout(CLIENT_TIMEOUT, self.lines.next_line())
            .await
            .expect("the Python client went silent")
            .expect("reading the Python client's output")?;
        Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad line {line:?}: {e}")))
    }

    /// The steps printed up to the script's `signal` step.
    pub async fn until_signal(&mut self) -> Vec<Step> {
        let mut steps = Vec::new();
        loop {
            let line = self
                .next_line()
                .await
                .unwrap_or_else(|| panic!("the client ended before its signal: {steps:?}"));
            if line.get("signal").is_some() {
                return steps;
            }
            steps.push(Step(line));
        }
    }

    /// Lets the script go on after its `signal` step.
    pub async fn resume(&mut self) {
        self.stdin
            .write_all(b"go\n")
            .await
            .expect("writing to the client");
        self.stdin.flush().await.expect("writing to the client");
    }

    /// The remaining steps, once the script has ended.
    pub async fn finish(mut self) -> Vec<Step> {
        let mut steps = Vec::new();
        while let Some(line) = self.next_line().await {
            steps.push(Step(line));
        }
        let status = timeout(CLIENT_TIMEOUT, self.child.wait())
            .await
            .expect("the Python client does not exit")
            .expect("waiting for the Python client");
        assert!(
            status.success(),
            "the Python client failed: {status}; steps {steps:?}"
        );
        steps
    }
}

/// Runs the Python client to its end; the steps start with `connect`.
pub async fn smtplib(addr: SocketAddr, spec: Value) -> Vec<Step> {
    Python::spawn(addr, &spec).finish().await
}

/// What a swaks run printed.
#[derive(Debug)]
pub struct Swaks {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Swaks {
    /// The server's replies, as `"250 2.0.0 ..."` lines, whether in clear (`<-`), over TLS
    /// (`<~`) or marked as errors (`<**`, `<~*`).
    pub fn replies(&self) -> Vec<String> {
        self.stdout
            .lines()
            .filter_map(|line| {
                let rest = line
                    .strip_prefix("<**")
                    .or_else(|| line.strip_prefix("<~*"))
                    .or_else(|| line.strip_prefix("<-"))
                    .or_else(|| line.strip_prefix("<~"))?;
                Some(rest.trim().to_owned())
            })
            .collect()
    }

    /// Replies starting with `prefix`.
    pub fn replies_starting(&self, prefix: &str) -> Vec<String> {
        self.replies()
            .into_iter()
            .filter(|r| r.starts_with(prefix))
            .collect()
    }
}

/// Runs swaks against `addr` with `args` (after `--server`, `--port`, a long timeout and
/// `--hide-informational`).
pub async fn swaks(addr: SocketAddr, args: &[&str]) -> Swaks {
    let output = Command::new("swaks")
        .arg("--server")
        .arg(addr.ip().to_string())
        .arg("--port")
        .arg(addr.port().to_string())
        .args(["--timeout", "120", "--helo", "client.test"])
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = match timeout(CLIENT_TIMEOUT, output).await {
        Err(_) => panic!("swaks did not finish in {CLIENT_TIMEOUT:?}"),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("swaks is not installed; these tests need it: apt-get install -y swaks")
        }
        Ok(Err(e)) => panic!("cannot run swaks: {e}"),
        Ok(Ok(output)) => output,
    };
    Swaks {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
