//! Dovecot's LMTP server, the reference: Debian's `dovecot-core` and `dovecot-lmtpd`
//! (installed by the bench when missing), a private instance started in the foreground
//! (`dovecot -F -c <dir>/dovecot.conf`) with its own base_dir, state_dir and log, an LMTP
//! listener on a loopback port, and a passwd-file userdb whose users get a maildir.
//!
//! Nothing that changes durability is set: `mail_fsync` and the fsync behaviour of the
//! maildir and index code are Dovecot's defaults (`doveconf` prints them into the report).
//! As root, Dovecot's own `dovecot`/`dovenull` users run its services and mail is
//! written as `nobody` (Dovecot refuses to write mail as root); otherwise everything runs
//! as the calling user.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::procs::{self, Server};

/// The packages the bench installs when Dovecot is missing.
pub const PACKAGES: &[&str] = &["dovecot-core", "dovecot-lmtpd"];

const LMTP_BINARY: &str = "/usr/lib/dovecot/lmtp";

/// A running private Dovecot.
#[derive(Debug)]
pub struct Dovecot {
    pub server: Server,
    pub lmtp: SocketAddr,
    pub conf: PathBuf,
    mail: PathBuf,
}

/// Installs Dovecot's packages with apt-get when `dovecot` or its LMTP server is missing.
pub fn ensure_installed() -> anyhow::Result<()> {
    if which("dovecot") && Path::new(LMTP_BINARY).exists() {
        return Ok(());
    }
    eprintln!("caliopen-bench: installing {}", PACKAGES.join(" "));
    let root = crate::report::output("id", &["-u"]).is_some_and(|u| u == "0");
    let mut cmd = if root {
        Command::new("apt-get")
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", "apt-get"]);
        c
    };
    cmd.args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(PACKAGES)
        .env("DEBIAN_FRONTEND", "noninteractive");
    procs::run(cmd, "apt-get install").with_context(|| {
        format!(
            "install Dovecot by hand: apt-get install -y {}",
            PACKAGES.join(" ")
        )
    })?;
    Ok(())
}

fn which(program: &str) -> bool {
    crate::report::output("sh", &["-c", &format!("command -v {program}")]).is_some()
}

/// `dovecot --version`.
pub fn version() -> String {
    crate::report::output("dovecot", &["--version"]).unwrap_or_else(|| "not installed".into())
}

/// Who runs what: (internal user, login user, mail uid, mail gid).
fn identities() -> anyhow::Result<(String, String, u32, u32)> {
    let id = |args: &[&str]| -> anyhow::Result<String> {
        crate::report::output("id", args).with_context(|| format!("id {}", args.join(" ")))
    };
    if id(&["-u"])? == "0" {
        Ok((
            "dovecot".into(),
            "dovenull".into(),
            id(&["-u", "nobody"])?.parse()?,
            id(&["-g", "nobody"])?.parse()?,
        ))
    } else {
        let me = id(&["-un"])?;
        Ok((me.clone(), me, id(&["-u"])?.parse()?, id(&["-g"])?.parse()?))
    }
}

impl Dovecot {
    /// Writes the configuration under `dir`, starts Dovecot and waits for its listener.
    pub fn start(dir: &Path, users: &[String]) -> anyhow::Result<Self> {
        if dir.to_string_lossy().contains(char::is_whitespace) {
            bail!(
                "Dovecot's configuration cannot name {}: use a --work-dir without spaces",
                dir.display()
            );
        }
        let lmtp = procs::free_port()?;
        let (internal, login, uid, gid) = identities()?;
        let mail = dir.join("mail");
        for sub in ["run", "state", "mail"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        // Dovecot's unprivileged processes must reach the configuration and the mail.
        set_mode(dir, 0o755)?;
        std::os::unix::fs::chown(&mail, Some(uid), Some(gid))
            .context("chown the mail directory")?;
        let passwd = dir.join("users");
        let entries: String = users.iter().map(|u| format!("{u}:::::::\n")).collect();
        std::fs::write(&passwd, entries)?;
        set_mode(&passwd, 0o644)?;

        let conf = dir.join("dovecot.conf");
        std::fs::write(&conf, config(dir, lmtp, &internal, &login, (uid, gid)))?;
        set_mode(&conf, 0o644)?;
        let mut cmd = Command::new("dovecot");
        cmd.arg("-F").arg("-c").arg(&conf);
        let mut server = Server::spawn("dovecot", cmd, dir.join("dovecot.out"))?;
        procs::wait_listening(&mut server, lmtp, Duration::from_secs(60)).with_context(|| {
            format!(
                "Dovecot did not start; see {}",
                dir.join("dovecot.log").display()
            )
        })?;
        Ok(Self {
            server,
            lmtp,
            conf,
            mail,
        })
    }

    /// The effective value of settings, as `doveconf` prints them.
    pub fn settings(&self, names: &[&str]) -> Vec<(String, String)> {
        let conf = self.conf.to_string_lossy();
        let mut args = vec!["-c", &conf];
        args.extend(names);
        crate::report::output("doveconf", &args)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                l.split_once(" = ")
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
            })
            .collect()
    }

    /// `doveadm import` of the mbox `file` into `user`'s INBOX (the anchor of the import
    /// scenario); the mbox is copied under the run's folder, readable by the mail user.
    /// Answers the wall time and the command's peak resident memory (MiB).
    pub fn import_mbox(&self, user: &str, file: &Path) -> anyhow::Result<(Duration, Option<f64>)> {
        let (_, _, uid, gid) = identities()?;
        let src = self.mail.with_file_name("import-src");
        std::fs::create_dir_all(&src)?;
        let mbox = src.join("inbox.mbox");
        std::fs::copy(file, &mbox)?;
        for p in [&src, &mbox] {
            std::os::unix::fs::chown(p, Some(uid), Some(gid)).context("chown the mbox")?;
        }
        let location = format!("mbox:{}:INBOX={}", src.display(), mbox.display());
        let mut cmd = Command::new("doveadm");
        cmd.arg("-c")
            .arg(&self.conf)
            .args(["import", "-u", user, &location, "", "all"]);
        let start = std::time::Instant::now();
        let mut child = cmd.spawn().context("cannot run doveadm import")?;
        let mut peak = None;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if let Some(p) = crate::sys::peak_rss_mib(child.id()) {
                peak = Some(p);
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        if !status.success() {
            bail!(
                "doveadm import failed ({status}); see {}",
                self.conf.with_file_name("dovecot.log").display()
            );
        }
        Ok((start.elapsed(), peak))
    }

    /// Mail files in every maildir (`new` and `cur`).
    pub fn stored_files(&self) -> anyhow::Result<u64> {
        let mut n = 0;
        for user in std::fs::read_dir(&self.mail)? {
            let user = user?.path();
            for sub in ["new", "cur"] {
                if let Ok(files) = std::fs::read_dir(user.join(sub)) {
                    n += files.count() as u64;
                }
            }
        }
        Ok(n)
    }
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("chmod {}", path.display()))
}

/// The whole configuration: LMTP only, loopback only, defaults for everything that
/// touches the disk.
fn config(
    dir: &Path,
    lmtp: SocketAddr,
    internal: &str,
    login: &str,
    (uid, gid): (u32, u32),
) -> String {
    let d = dir.display();
    format!(
        "# Written by caliopen-bench: a private Dovecot for the ingest benchmark.\n\
         protocols = lmtp\n\
         listen = 127.0.0.1\n\
         base_dir = {d}/run\n\
         state_dir = {d}/state\n\
         log_path = {d}/dovecot.log\n\
         ssl = no\n\
         default_internal_user = {internal}\n\
         default_login_user = {login}\n\
         first_valid_uid = {uid}\n\
         mail_location = maildir:{d}/mail/%n\n\
         passdb {{\n  driver = passwd-file\n  args = username_format=%n {d}/users\n}}\n\
         userdb {{\n  driver = passwd-file\n  args = username_format=%n {d}/users\n  \
         default_fields = uid={uid} gid={gid} home={d}/mail/%n\n}}\n\
         service lmtp {{\n  inet_listener lmtp {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n}}\n",
        port = lmtp.port(),
    )
}
