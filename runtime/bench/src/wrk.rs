//! `wrk`, the HTTP load generator (Debian's package, installed when missing): one run
//! with `--latency`, its requests/s and latency distribution read from its report.

use std::process::Command;
use std::time::Duration;

use anyhow::Context as _;

/// What one `wrk` run reports.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub requests_per_sec: f64,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    /// "Non-2xx or 3xx responses".
    pub non_2xx: u64,
    /// Bytes read per second (headers and bodies), from "Transfer/sec".
    pub bytes_per_sec: f64,
}

impl Outcome {
    /// Mean size of one answer, headers included.
    pub fn bytes_per_request(&self) -> f64 {
        self.bytes_per_sec / self.requests_per_sec.max(f64::MIN_POSITIVE)
    }
}

/// Installs `wrk` with apt-get when it is missing.
pub fn ensure_installed() -> anyhow::Result<()> {
    if crate::report::output("sh", &["-c", "command -v wrk"]).is_some() {
        return Ok(());
    }
    eprintln!("caliopen-bench: installing wrk");
    let mut cmd = Command::new("apt-get");
    cmd.args(["install", "-y", "-qq", "--no-install-recommends", "wrk"])
        .env("DEBIAN_FRONTEND", "noninteractive");
    crate::procs::run(cmd, "apt-get install wrk")
        .context("install wrk by hand: apt-get install -y wrk")?;
    Ok(())
}

/// The Debian package version (`wrk` itself prints it only with its usage).
pub fn version() -> String {
    crate::report::output("dpkg-query", &["-W", "-f=${Version}", "wrk"])
        .unwrap_or_else(|| "unknown".into())
}

/// Runs `wrk -t2 -c<connections> -d<seconds>s --latency` with `headers` on `url`.
pub fn run(
    url: &str,
    headers: &[(String, String)],
    connections: usize,
    seconds: u64,
) -> anyhow::Result<Outcome> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2".to_owned(),
        format!("-c{connections}"),
        format!("-d{seconds}s"),
        "--latency".to_owned(),
    ]);
    for (k, v) in headers {
        cmd.arg("-H").arg(format!("{k}: {v}"));
    }
    cmd.arg(url);
    eprintln!("caliopen-bench: wrk {url}");
    let text = crate::procs::run(cmd, "wrk")?;
    parse(&text).with_context(|| format!("cannot read wrk's report:\n{text}"))
}

/// The status of one GET, errors included.
pub fn status(url: &str, headers: &[(String, String)]) -> anyhow::Result<u16> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut req = agent.get(url);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    Ok(req
        .call()
        .with_context(|| format!("GET {url}"))?
        .status()
        .as_u16())
}

fn parse(text: &str) -> Option<Outcome> {
    let mut o = Outcome::default();
    for line in text.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("50%"), Some(v)) => o.p50 = duration(v)?,
            (Some("90%"), Some(v)) => o.p90 = duration(v)?,
            (Some("99%"), Some(v)) => o.p99 = duration(v)?,
            (Some("Requests/sec:"), Some(v)) => o.requests_per_sec = v.parse().ok()?,
            (Some("Transfer/sec:"), Some(v)) => o.bytes_per_sec = bytes(v)?,
            _ => {}
        }
        if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            o.non_2xx = v.trim().parse().ok()?;
        }
    }
    (o.requests_per_sec > 0.0).then_some(o)
}

/// `512.00B`, `0.90MB`, `1.20GB` (powers of 1024, as wrk prints them).
fn bytes(v: &str) -> Option<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().ok()?;
    let scale = match unit {
        "B" => 1.0,
        "KB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(n * scale)
}

/// `123.45us`, `1.20ms`, `2.00s`, `1.00m`.
fn duration(v: &str) -> Option<Duration> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().ok()?;
    let secs = match unit {
        "us" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrk_report_is_read() {
        let text = "Running 10s test @ http://127.0.0.1:1/api\n  2 threads and 16 connections\n\
            Latency Distribution\n     50%  812.00us\n     75%    1.10ms\n     90%    2.50ms\n     99%   12.30ms\n\
            48000 requests in 10.00s, 9.00MB read\n  Non-2xx or 3xx responses: 3\nRequests/sec:   4800.12\n\
            Transfer/sec:      0.90MB\n";
        let o = parse(text).unwrap();
        assert_eq!(o.p50, Duration::from_micros(812));
        assert_eq!(o.p99, Duration::from_micros(12_300));
        assert_eq!(o.non_2xx, 3);
        assert!((o.requests_per_sec - 4800.12).abs() < 1e-9);
        assert!((o.bytes_per_sec - 0.9 * 1024.0 * 1024.0).abs() < 1e-6);
        assert!((o.bytes_per_request() - 196.6).abs() < 0.1);
        assert!(parse("garbage").is_none());
    }
}
