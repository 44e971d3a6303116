//! Caliopen under test: the release binary, the project's `configs/caliopen.toml` with
//! only the data directory, the listeners and the mail domain overridden (`CALIOPEN_*`
//! variables), users created with `caliopen user add` before `caliopen serve`, and the
//! admin listener's `/metrics` read for the delivery backlog and the component timings.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::procs::{self, Server};

/// The mail domain of the users the bench creates.
pub const DOMAIN: &str = "caliopen.local";

/// A running `caliopen serve` over a fresh data directory.
#[derive(Debug)]
pub struct Caliopen {
    pub server: Server,
    pub lmtp: SocketAddr,
    admin: SocketAddr,
}

/// What `/metrics` says.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    pub pending: u64,
    pub quarantined: u64,
    /// Search-index operations not applied yet.
    pub index_backlog: u64,
    /// Per component: (name, calls, seconds of wall time in calls).
    pub components: Vec<(String, u64, f64)>,
}

/// Builds the release binaries (cargo does nothing when they are up to date). The
/// components are not rebuilt: `cargo xtask components` builds them; a missing one is
/// reported when the server starts.
pub fn build(root: &Path) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let what = "cargo build --release -p caliopen-runtime -p caliopen-bench";
    eprintln!("caliopen-bench: {what}");
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(root).args([
        "build",
        "--release",
        "-p",
        "caliopen-runtime",
        "-p",
        "caliopen-bench",
    ]);
    run_visible(cmd, what)
}

fn run_visible(mut cmd: Command, what: &str) -> anyhow::Result<()> {
    let status = cmd.status().with_context(|| format!("cannot run {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// `caliopen --version`.
pub fn version(bin: &Path) -> String {
    crate::report::output(&bin.to_string_lossy(), &["--version"])
        .unwrap_or_else(|| "unknown".into())
}

impl Caliopen {
    /// Creates `users` in a new data directory under `dir`, then starts the server and
    /// waits until it answers on LMTP and `/metrics` (the components are deployed then).
    pub fn start(bin: &Path, config: &Path, dir: &Path, users: &[String]) -> anyhow::Result<Self> {
        if !bin.is_file() {
            bail!(
                "{} is missing: cargo build --release -p caliopen-runtime",
                bin.display()
            );
        }
        let (lmtp, http, admin) = (
            procs::free_port()?,
            procs::free_port()?,
            procs::free_port()?,
        );
        let command = |args: &[&str]| command(bin, config, dir, (lmtp, http, admin), args);
        for user in users {
            add_user(command(&["user", "add", user, "--password-stdin"]), user)?;
        }
        let mut server = Server::spawn(
            "caliopen serve",
            command(&["serve"]),
            dir.join("caliopen.log"),
        )?;
        procs::wait_listening(&mut server, lmtp, Duration::from_secs(300))?;
        let caliopen = Self {
            server,
            lmtp,
            admin,
        };
        caliopen.metrics().context("/metrics does not answer")?;
        Ok(caliopen)
    }

    /// An LMTP load on this server: `messages` transactions over `connections`, one
    /// recipient each, among `users` round robin.
    pub fn load(
        &self,
        connections: usize,
        messages: u64,
        users: &[String],
    ) -> crate::lmtp::LoadSpec {
        crate::lmtp::LoadSpec {
            addr: self.lmtp,
            connections,
            messages,
            recipients_per_message: 1,
            mailboxes: users.iter().map(|u| format!("{u}@{DOMAIN}")).collect(),
            timeout: Duration::from_secs(120),
        }
    }

    /// The admin listener (`/metrics`, `/admin`).
    pub fn admin(&self) -> SocketAddr {
        self.admin
    }

    /// Reads `/metrics`.
    pub fn metrics(&self) -> anyhow::Result<Metrics> {
        let url = format!("http://{}/metrics", self.admin);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let text = agent
            .get(&url)
            .call()
            .with_context(|| format!("GET {url}"))?
            .body_mut()
            .read_to_string()?;
        Ok(parse_metrics(&text))
    }

    /// Polls `/metrics` until `done` holds; returns the metrics then.
    pub fn wait_until(
        &mut self,
        timeout: Duration,
        done: impl Fn(&Metrics) -> bool,
    ) -> anyhow::Result<Metrics> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            self.server.check_alive()?;
            let m = self.metrics()?;
            if done(&m) {
                return Ok(m);
            }
            if std::time::Instant::now() > deadline {
                bail!(
                    "after {timeout:?}: {} deliveries pending, {} index operations waiting",
                    m.pending,
                    m.index_backlog
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log(&self) -> PathBuf {
        self.server.log.clone()
    }
}

/// `caliopen <args>` with the project's configuration and only our overrides: the data
/// directory `<dir>/data`, the listeners, the mail domain (a `CALIOPEN_*` variable of
/// the caller's shell would change the run).
pub fn command(
    bin: &Path,
    config: &Path,
    dir: &Path,
    (lmtp, http, admin): (SocketAddr, SocketAddr, SocketAddr),
    args: &[&str],
) -> Command {
    let mut cmd = Command::new(bin);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CALIOPEN_")) {
        cmd.env_remove(k);
    }
    cmd.arg("--config")
        .arg(config)
        .args(args)
        .env("CALIOPEN_DATA_DIR", dir.join("data"))
        .env("CALIOPEN_LISTEN__LMTP", lmtp.to_string())
        .env("CALIOPEN_LISTEN__HTTP", http.to_string())
        .env("CALIOPEN_LISTEN__ADMIN", admin.to_string())
        .env("CALIOPEN_CORE__DEFAULT_DOMAIN", DOMAIN);
    cmd
}

/// Creates `user` with `cmd` (`caliopen user add <user> --password-stdin`).
pub fn add_user(mut cmd: Command, user: &str) -> anyhow::Result<()> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run caliopen user add")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(b"bench password for a bench user\n")?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "caliopen user add {user} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Reads the Prometheus text of `/metrics` (or of the engine's metrics).
pub fn parse_metrics(text: &str) -> Metrics {
    let mut m = Metrics::default();
    let mut sums: Vec<(String, f64)> = Vec::new();
    let mut counts: Vec<(String, u64)> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((name, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let label = || {
            name.split_once("component=\"")
                .and_then(|(_, r)| r.split_once('"'))
                .map(|(c, _)| c.to_owned())
                .unwrap_or_default()
        };
        match name.split('{').next() {
            Some("caliopen_deliveries_pending") => m.pending = value.parse().unwrap_or(0),
            Some("caliopen_deliveries_quarantined") => m.quarantined = value.parse().unwrap_or(0),
            Some("caliopen_index_backlog") => m.index_backlog = value.parse().unwrap_or(0),
            Some("caliopen_component_call_seconds_sum") => {
                sums.push((label(), value.parse().unwrap_or(0.0)));
            }
            Some("caliopen_component_call_seconds_count") => {
                counts.push((label(), value.parse().unwrap_or(0)));
            }
            _ => {}
        }
    }
    for (name, sum) in sums {
        let count = counts
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, c)| *c);
        m.components.push((name, count, sum));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_read_from_prometheus_text() {
        let text = "# HELP x\ncaliopen_component_call_seconds_sum{component=\"email-parser\",version=\"0.1.0\"} 1.5\n\
                    caliopen_component_call_seconds_count{component=\"email-parser\",version=\"0.1.0\"} 3\n\
                    caliopen_deliveries_pending 42\ncaliopen_deliveries_quarantined 2\ncaliopen_index_backlog 7\n";
        let m = parse_metrics(text);
        assert_eq!((m.pending, m.quarantined, m.index_backlog), (42, 2, 7));
        assert_eq!(m.components, vec![("email-parser".to_owned(), 3, 1.5)]);
    }
}
