//! `cargo xtask schemathesis` (and part of `cargo xtask test`, beside the suite): the REST
//! API checked by Schemathesis (from PyPI) against the original spec
//! (`protocols/rest/openapi/swagger.json`), on a real `caliopen serve`.
//!
//! 1. Schemathesis is installed once into a virtualenv, `target/py-tools`.
//! 2. `caliopen` is built and started on free loopback ports with a fresh data dir
//!    under `target/schemathesis/`, without components (the API does not need them).
//! 3. A user signs up and logs in on a random device id (so generated requests
//!    cannot guess it and revoke the session by deleting that device; they can
//!    still learn it from `GET /v2/devices`, hence [`LAST`]).
//! 4. `schemathesis run` sends positive and negative generated requests to every
//!    operation but [`EXCLUDED`], with the user's `Authorization` and
//!    `X-Caliopen-Device-ID` headers, and fails on any 5xx or any answer whose body
//!    contradicts the schema the spec declares for its status; the operations
//!    that can end that session ([`LAST`]) get a second run of their own after.
//!
//! The original spec points at five `../objects/*.yaml#/properties` files it never
//! shipped (the `current_state` of PATCH bodies); the copy given to Schemathesis
//! inlines the properties of the definition of the same name instead, and takes
//! the properties of `protocols/rest/openapi/client-overrides.json` (what the
//! original answered and its web client reads beyond the swagger), as the REST
//! tests' validator does.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

/// The Schemathesis release line the run was written for.
const SCHEMATHESIS: &str = "schemathesis>=4.3,<5";

/// Operations left out, as Schemathesis operation names (`METHOD /path`, the path
/// without the `/api` base path), each passed as `--exclude-name`. Each says why.
const EXCLUDED: &[&str] = &[
    // Its only documented answer is 501 (the original never implemented it),
    // which `not_a_server_error` cannot tell from a crash. `GET /v2/search` runs.
    "POST /v2/search",
];

/// Operations that can end the run's session, tested in a second run after all
/// the others. Schemathesis reuses the ids that responses carry (here the
/// device of `GET /v2/devices`), so the random device id does not keep it from
/// deleting the session's device; every later request would then get a 401.
const LAST: &[&str] = &["DELETE /v2/devices/{device_id}"];

/// Generated cases per operation and phase: bounds the run of `cargo xtask test` to a
/// few minutes. `--long` (the full run) generates [`MAX_EXAMPLES_LONG`].
const MAX_EXAMPLES: &str = "25";
const MAX_EXAMPLES_LONG: &str = "200";

/// Runs Schemathesis against a fresh server. `built_by_tests`: the test build has
/// just made the server binary (the integration tests need it), which is used as it
/// is; that spares a second build of the workspace with another feature set.
/// Otherwise the binary is built first.
///
/// `log`: where the output goes (a file, written anew) instead of the terminal,
/// when the run shares it with another.
pub fn run(
    root: &Path,
    built_by_tests: bool,
    long: bool,
    log: Option<&Path>,
) -> anyhow::Result<()> {
    match log {
        None => run_here(root, built_by_tests, long, &Output::Terminal),
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let result = run_here(root, built_by_tests, long, &Output::File(file));
            if let Err(e) = &result {
                // The reason ends the log, which the caller prints.
                let _ = std::fs::OpenOptions::new()
                    .append(true)
                    .open(path)
                    .and_then(|mut f| {
                        std::io::Write::write_all(&mut f, format!("xtask: {e:#}\n").as_bytes())
                    });
            }
            result
        }
    }
}

/// Where the run writes.
enum Output {
    Terminal,
    File(std::fs::File),
}

impl Output {
    /// A line of the run's own.
    fn say(&self, line: &str) {
        match self {
            Self::Terminal => println!("{line}"),
            Self::File(f) => {
                let _ = std::io::Write::write_all(&mut &*f, format!("{line}\n").as_bytes());
            }
        }
    }

    /// For a child's stdout and stderr.
    fn stdio(&self) -> anyhow::Result<(Stdio, Stdio)> {
        Ok(match self {
            Self::Terminal => (Stdio::inherit(), Stdio::inherit()),
            Self::File(f) => (f.try_clone()?.into(), f.try_clone()?.into()),
        })
    }
}

fn run_here(root: &Path, built_by_tests: bool, long: bool, out: &Output) -> anyhow::Result<()> {
    let examples = if long {
        MAX_EXAMPLES_LONG
    } else {
        MAX_EXAMPLES
    };
    let schemathesis = install(root)?;
    let python = root.join("target/py-tools/bin/python");
    let binary = crate::cargo_target_dir(root).join("debug/caliopen");
    let fresh = built_by_tests && binary.exists();
    if fresh {
        out.say("xtask: schemathesis runs the server binary the test build made");
    } else {
        build(root)?;
    }
    let work = root
        .join("target/schemathesis")
        .join(format!("run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("data"))
        .with_context(|| format!("cannot create {}", work.display()))?;
    let http = free_port()?;
    let config = work.join("caliopen.toml");
    std::fs::write(&config, config_text(http)?)?;
    let server = Server::start(&binary, &config, &work)?;
    let base = format!("http://127.0.0.1:{http}/api");

    let spec = work.join("swagger.json");
    let prepared = Command::new(&python)
        .arg("-c")
        .arg(PREPARE)
        .arg(&base)
        .arg(root.join("protocols/rest/openapi/swagger.json"))
        .arg(&spec)
        .arg(root.join("protocols/rest/openapi/client-overrides.json"))
        .stderr(out.stdio()?.1)
        .output()
        .context("cannot run the preparation script")?;
    if !prepared.status.success() {
        server.show_log(out);
        bail!("could not sign up and log in on the server");
    }
    let headers = String::from_utf8(prepared.stdout)?;
    let schemathesis_run = |filter: &str, operations: &[&str]| {
        let mut cmd = Command::new(&schemathesis);
        cmd.current_dir(&work)
            .arg("run")
            .arg(&spec)
            .args(["--url", &base])
            .args(["--checks", "not_a_server_error,response_schema_conformance"])
            .args(["--mode", "all", "--max-examples", examples])
            // Not the `coverage` phase: on the spec's `NewUser` its generator trips
            // on itself (Schemathesis 4.32: "Inconsistent results" raised inside
            // `cover_schema_iter`, before any request). Fuzzing sends both kinds.
            .args(["--phases", "examples,fuzzing"])
            // One worker: two threads can race in CPython 3.11's `ast` (Hypothesis
            // parsing its own sources: "AST constructor recursion depth mismatch",
            // an error of the tool, not of the API), and one is no slower here.
            .args(["--workers", "1", "--request-timeout", "10", "--no-shrink"]);
        for operation in operations {
            cmd.args([filter, operation]);
        }
        for header in headers.lines().filter(|l| !l.is_empty()) {
            cmd.args(["--header", header]);
        }
        let (stdout, stderr) = out.stdio()?;
        cmd.stdout(stdout)
            .stderr(stderr)
            .status()
            .context("cannot start schemathesis")
    };
    out.say(&format!("xtask: schemathesis against {base}"));
    let everything_else: Vec<&str> = EXCLUDED.iter().chain(LAST).copied().collect();
    let status = schemathesis_run("--exclude-name", &everything_else)?;
    if !status.success() {
        server.show_log(out);
        bail!("schemathesis found failures ({status})");
    }
    out.say("xtask: schemathesis, session-ending operations last");
    let status = schemathesis_run("--include-name", LAST)?;
    if !status.success() {
        server.show_log(out);
        bail!("schemathesis found failures in the last operations ({status})");
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// The virtualenv's `schemathesis`, installed on first use.
pub fn install(root: &Path) -> anyhow::Result<PathBuf> {
    let venv = root.join("target/py-tools");
    let bin = venv.join("bin/schemathesis");
    if bin.exists() {
        return Ok(bin);
    }
    println!("xtask: installing {SCHEMATHESIS} into {}", venv.display());
    crate::run(
        {
            let mut c = Command::new("python3");
            c.arg("-m").arg("venv").arg(&venv);
            c
        },
        "python3 -m venv (Debian: python3-venv)",
    )?;
    crate::run(
        {
            let mut c = Command::new(venv.join("bin/pip"));
            c.args(["install", "--quiet", SCHEMATHESIS]);
            c
        },
        "pip install schemathesis",
    )?;
    Ok(bin)
}

fn build(root: &Path) -> anyhow::Result<()> {
    let mut cmd = crate::cargo(root);
    cmd.args(["build", "-p", "caliopen-runtime", "--bin", "caliopen"]);
    crate::run(cmd, "cargo build caliopen")
}

/// A port the system just gave and took back.
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn config_text(http: u16) -> anyhow::Result<String> {
    Ok(format!(
        r#"# Written by `cargo xtask schemathesis`.
data_dir = "data"

[listen]
http = "127.0.0.1:{http}"
lmtp = "127.0.0.1:{lmtp}"
admin = "127.0.0.1:{admin}"

[core]
# Generated logins, signups and lookups must reach the API, not the rate limiter.
login_attempts = 1000000

[core.auth]
address_attempts = 1000000
account_attempts = 1000000
signups_per_address = 1000000
lookups_per_address = 1000000

[wasm]
pooling = false

[log]
filter = "warn"
"#,
        lmtp = free_port()?,
        admin = free_port()?,
    ))
}

/// `caliopen serve`, stopped when dropped.
#[derive(Debug)]
struct Server {
    child: Child,
    log: PathBuf,
}

impl Server {
    fn start(binary: &Path, config: &Path, work: &Path) -> anyhow::Result<Self> {
        let log = work.join("server.log");
        let out = std::fs::File::create(&log)?;
        let child = Command::new(binary)
            .arg("--config")
            .arg(config)
            .arg("serve")
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .context("cannot start caliopen serve")?;
        // The preparation script waits for the API to answer.
        Ok(Self { child, log })
    }

    fn show_log(&self, out: &Output) {
        if let Ok(log) = std::fs::read_to_string(&self.log) {
            out.say(&format!(
                "--- caliopen serve log ({}) ---\n{log}",
                self.log.display()
            ));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for the API, signs a user up, logs them in on a random device, writes
/// the spec with its dangling references inlined and the client overrides
/// applied, and prints the two headers.
/// Arguments: base URL, original spec, spec to write, client overrides.
const PREPARE: &str = r#"
import base64, json, sys, time, urllib.request, uuid

base, source, target, overrides = sys.argv[1:5]

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        raw = res.read()
        return json.loads(raw) if raw else None

deadline = time.time() + 60
while True:
    try:
        call("GET", "/openapi.json")
        break
    except Exception:
        if time.time() > deadline:
            raise
        time.sleep(0.3)

password = "schemathesis " + uuid.uuid4().hex
device = str(uuid.uuid4())
call("POST", "/v1/users", {"username": "schemathesis", "password": password,
                           "recovery_email": "schemathesis@example.org"})
login = call("POST", "/v1/authentications", {
    "username": "schemathesis", "password": password, "context": "ci",
    "device": {"device_id": device}})
token = base64.b64encode(
    f"{login['user_id']}:{login['tokens']['access_token']}".encode()).decode()

spec = json.load(open(source))
definitions = spec["definitions"]

def inline(node):
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if len(node) == 1 and ref.startswith("../objects/") and ref.endswith(".yaml#/properties"):
            name = ref[len("../objects/"):-len(".yaml#/properties")]
            return json.loads(json.dumps(definitions[name]["properties"]))
        return {k: inline(v) for k, v in node.items()}
    if isinstance(node, list):
        return [inline(v) for v in node]
    return node

spec = inline(spec)
for name, change in json.load(open(overrides))["definitions"].items():
    spec["definitions"][name]["properties"].update(change["properties"])
json.dump(spec, open(target, "w"))
print(f"Authorization: Bearer {token}")
print(f"X-Caliopen-Device-ID: {device}")
"#;
