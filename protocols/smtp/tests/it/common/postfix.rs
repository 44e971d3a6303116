//! A private Postfix for the tests: its own configuration, queue and data directories in a
//! temporary directory, `postfix -c DIR start-fg` as a child of the test, smtpd on a loopback
//! port only, and mail for `caliopen.local` relayed over LMTP to the server under test
//! (`transport_maps`). Stopped with `postfix -c DIR stop` (then killed if it lingers) when
//! dropped, so no Postfix process outlives the test.
//!
//! Postfix's master must start as root (it drops to the `postfix` user for its daemons).
//! Without Postfix the tests fail with the command that installs it.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Longest wait for Postfix to start, deliver or stop: generous, for a loaded machine.
pub const POSTFIX_TIMEOUT: Duration = Duration::from_secs(120);

/// The domain Postfix relays to the server under test.
const RELAYED_DOMAIN: &str = "caliopen.local";

/// A running private Postfix.
#[derive(Debug)]
pub struct Postfix {
    /// Its smtpd, on loopback.
    pub smtpd: SocketAddr,
    config: PathBuf,
    child: Option<Child>,
    dir: TempDir,
}

fn postfix_command() -> PathBuf {
    let sbin = Path::new("/usr/sbin/postfix");
    if sbin.exists() {
        return sbin.to_path_buf();
    }
    let found = Command::new("sh")
        .args(["-c", "command -v postfix"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    found.unwrap_or_else(|| {
        panic!("Postfix is not installed; this test needs it: DEBIAN_FRONTEND=noninteractive apt-get install -y postfix")
    })
}

fn id(args: &[&str]) -> u32 {
    let out = Command::new("id").args(args).output().expect("run id");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| {
            panic!(
                "id {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// A temporary directory the `postfix` user can reach: Postfix's daemons drop root before
/// they open the queue, so every ancestor must be searchable by others. `TMPDIR` may point
/// under a private home (`/root` is 0700 on Debian); then `/tmp` is used instead.
fn traversable_temp_dir() -> PathBuf {
    let searchable = |dir: &Path| {
        dir.ancestors().all(|a| {
            std::fs::metadata(a).is_ok_and(|m| m.is_dir() && m.permissions().mode() & 0o001 != 0)
        })
    };
    let preferred = std::env::temp_dir();
    if searchable(&preferred) {
        return preferred;
    }
    let fallback = PathBuf::from("/tmp");
    assert!(
        searchable(&fallback),
        "neither {} nor /tmp is reachable by the postfix user",
        preferred.display()
    );
    fallback
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

impl Postfix {
    /// Starts Postfix relaying `caliopen.local` to the LMTP server at `lmtp`, and waits until
    /// its smtpd accepts connections.
    pub async fn start(lmtp: SocketAddr) -> Self {
        let postfix = postfix_command();
        assert_eq!(
            id(&["-u"]),
            0,
            "Postfix's master must start as root; run this test as root"
        );
        let dir = tempfile::Builder::new()
            .prefix("postfix-")
            .tempdir_in(traversable_temp_dir())
            .expect("temporary directory");
        let root = dir.path();
        let config = root.join("conf");
        for sub in ["conf", "queue", "data"] {
            std::fs::create_dir_all(root.join(sub)).expect("create Postfix's directories");
        }
        // The daemons run as `postfix`: they must reach the queue and own the data directory.
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::os::unix::fs::chown(root.join("data"), Some(id(&["-u", "postfix"])), None)
            .expect("chown the data directory");
        let smtpd = SocketAddr::from(([127, 0, 0, 1], free_port()));
        std::fs::write(config.join("main.cf"), main_cf(root, lmtp)).expect("write main.cf");
        std::fs::write(config.join("master.cf"), master_cf(smtpd)).expect("write master.cf");

        let out = std::fs::File::create(root.join("postfix.out")).expect("create postfix.out");
        let child = Command::new(&postfix)
            .arg("-c")
            .arg(&config)
            .arg("start-fg")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("clone a file handle"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", postfix.display()));
        let mut postfix = Self {
            smtpd,
            config,
            child: Some(child),
            dir,
        };
        postfix.wait_listening().await;
        postfix
    }

    async fn wait_listening(&mut self) {
        let deadline = Instant::now() + POSTFIX_TIMEOUT;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("poll postfix"))
            {
                self.child = None;
                panic!(
                    "Postfix exited at start ({status}):\n{}",
                    self.diagnostics()
                );
            }
            if TcpStream::connect_timeout(&self.smtpd, Duration::from_millis(200)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Postfix's smtpd does not listen on {}:\n{}",
                self.smtpd,
                self.diagnostics()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Postfix's own log (`maillog_file`).
    pub fn maillog(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }

    /// What to print when something goes wrong: the command's output and the log.
    pub fn diagnostics(&self) -> String {
        let out = std::fs::read_to_string(self.dir.path().join("postfix.out")).unwrap_or_default();
        format!(
            "--- postfix start-fg output ---\n{out}\n--- maillog ---\n{}",
            self.maillog()
        )
    }

    /// Waits, bounded, until the log has `count` lines that contain every one of `needles`.
    pub async fn wait_log(&self, needles: &[&str], count: usize) -> Vec<String> {
        let deadline = Instant::now() + POSTFIX_TIMEOUT;
        loop {
            let lines: Vec<String> = self
                .maillog()
                .lines()
                .filter(|l| needles.iter().all(|n| l.contains(n)))
                .map(str::to_owned)
                .collect();
            if lines.len() >= count {
                return lines;
            }
            assert!(
                Instant::now() < deadline,
                "no {count} log lines with {needles:?}:\n{}",
                self.diagnostics()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `postfix -c DIR stop`, then waits for the master to exit (killing it after the timeout).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new(postfix_command())
            .arg("-c")
            .arg(&self.config)
            .arg("stop")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + POSTFIX_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // The master did not stop: kill it and what it started.
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("queue/pid/master.pid")) {
            let _ = Command::new("kill").args(["-KILL", pid.trim()]).status();
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A relay for `caliopen.local` only: no local delivery, no aliases, no DNS, loopback only.
/// `local_header_rewrite_clients` is empty so that Postfix leaves the headers of mail from
/// 127.0.0.1 as they are (it still prepends its Received header).
fn main_cf(root: &Path, lmtp: SocketAddr) -> String {
    let d = root.display();
    format!(
        "compatibility_level = 3.6\n\
         queue_directory = {d}/queue\n\
         data_directory = {d}/data\n\
         mail_owner = postfix\n\
         setgid_group = postdrop\n\
         maillog_file = {d}/maillog\n\
         maillog_file_prefixes = {d}\n\
         inet_interfaces = 127.0.0.1\n\
         inet_protocols = ipv4\n\
         myhostname = mx.postfix.test\n\
         mydomain = postfix.test\n\
         myorigin = postfix.test\n\
         mydestination =\n\
         local_recipient_maps =\n\
         alias_maps =\n\
         alias_database =\n\
         relay_domains = {RELAYED_DOMAIN}\n\
         transport_maps = inline:{{ {RELAYED_DOMAIN}=lmtp:inet:{lmtp} }}\n\
         mynetworks = 127.0.0.0/8\n\
         smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n\
         local_header_rewrite_clients =\n\
         smtp_dns_support_level = disabled\n\
         biff = no\n\
         append_dot_mydomain = no\n\
         queue_run_delay = 1s\n\
         minimal_backoff_time = 1s\n\
         maximal_backoff_time = 2s\n"
    )
}

/// The services a relay needs, none chrooted; smtpd on `smtpd` only.
fn master_cf(smtpd: SocketAddr) -> String {
    let services = [
        format!("{smtpd} inet n - n - - smtpd"),
        "pickup unix n - n 60 1 pickup".into(),
        "cleanup unix n - n - 0 cleanup".into(),
        "qmgr unix n - n 300 1 qmgr".into(),
        "rewrite unix - - n - - trivial-rewrite".into(),
        "bounce unix - - n - 0 bounce".into(),
        "defer unix - - n - 0 bounce".into(),
        "trace unix - - n - 0 bounce".into(),
        "verify unix - - n - 1 verify".into(),
        "flush unix n - n 1000? 0 flush".into(),
        "proxymap unix - - n - - proxymap".into(),
        "smtp unix - - n - - smtp".into(),
        "relay unix - - n - - smtp".into(),
        "showq unix n - n - - showq".into(),
        "error unix - - n - - error".into(),
        "retry unix - - n - - error".into(),
        "discard unix - - n - - discard".into(),
        "lmtp unix - - n - - lmtp".into(),
        "anvil unix - - n - 1 anvil".into(),
        "scache unix - - n - 1 scache".into(),
        "postlog unix-dgram n - n - 1 postlogd".into(),
    ];
    services.join("\n") + "\n"
}
