//! An SMTP relay for the outbound tests: `tests/support/relay.py` on aiosmtpd
//! (Debian python3-aiosmtpd), spooling what it accepts.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::root;

/// The aiosmtpd relay, stopped on drop.
pub struct Relay {
    child: Child,
    pub port: u16,
    spool: tempfile::TempDir,
}

impl Relay {
    pub fn start(auth: Option<(&Path, &Path)>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let spool = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(root().join("runtime/tests/support/relay.py"))
            .arg(port.to_string())
            .arg(spool.path());
        if let Some((cert, key)) = auth {
            cmd.args([cert.as_os_str(), key.as_os_str()])
                .args(["relay-user", "relay-secret"]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect(
                "python3 with aiosmtpd (Debian python3-aiosmtpd, installed by cargo xtask setup)",
            );
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line.trim(), "ready", "the relay did not start");
        Self { child, port, spool }
    }

    /// (envelope, bytes) of every message received, in order.
    pub fn received(&self) -> Vec<(serde_json::Value, Vec<u8>)> {
        let mut out = Vec::new();
        for n in 1.. {
            let base = self.spool.path().join(n.to_string());
            let Ok(meta) = std::fs::read(base.with_extension("json")) else {
                break;
            };
            let raw = std::fs::read(base.with_extension("eml")).unwrap();
            out.push((serde_json::from_slice(&meta).unwrap(), raw));
        }
        out
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
