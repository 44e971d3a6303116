//! Installs the Debian packages a fresh machine lacks, and only those.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// What the packages are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Building and running the server.
    Serve,
    /// Also the real peers the tests drive.
    Test,
}

/// Debian's route to wasm guests (see ../shared/TOOLCHAIN.md): a rustc with the
/// standard library sources, and wasm-ld.
pub const WASM_PACKAGES: &[&str] = &["rustc-web", "cargo-web", "rust-web-src", "lld-22"];

/// Real peers of the tests. Postfix is the MTA in front of our LMTP server in
/// `protocols/smtp/tests/postfix.rs`; its package does not start a system instance where
/// policy-rc.d forbids it (containers, CI), and elsewhere a system Postfix on port 25 does
/// not get in the way: the test runs its own instance on loopback ports. Dovecot, the
/// reference of the ingest benchmark, is installed by `caliopen-bench` itself.
///
/// swaks speaks STARTTLS through Net::SSLeay, a package it only recommends (recommends
/// are not installed here). The hostile-edge tests hold a server to a file descriptor
/// limit with prlimit (util-linux) and find its pid with pgrep (procps). The OpenPGP key
/// tests have GnuPG make real keys (gnupg).
const TEST_PACKAGES: &[&str] = &[
    "swaks",
    "libnet-ssleay-perl",
    "postfix",
    "curl",
    "python3-aiosmtpd",
    "python3-venv",
    "util-linux",
    "procps",
    "gnupg",
];

pub fn run(root: &Path, purpose: Purpose) -> anyhow::Result<()> {
    let mut wanted: Vec<&str> = Vec::new();
    if !crate::components::rustup_has_wasm_target() {
        wanted.extend(WASM_PACKAGES);
    }
    wanted.extend(crate::components::interpreted::missing_packages(root));
    if purpose == Purpose::Test {
        wanted.extend(TEST_PACKAGES);
    }
    let missing: Vec<&str> = wanted.into_iter().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("xtask: installing Debian packages: {}", missing.join(" "));
    if apt_install(&missing).is_err() {
        // A fresh machine may have no package lists yet.
        apt(&["update", "-qq"])?;
        apt_install(&missing)?;
    }
    Ok(())
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(packages);
    apt(&args)
}

fn apt(args: &[&str]) -> anyhow::Result<()> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    let mut cmd = if root {
        Command::new("apt-get")
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", "apt-get"]);
        c
    };
    cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
    let status = cmd.status().context("cannot run apt-get")?;
    if !status.success() {
        bail!(
            "`apt-get {}` failed ({status}); run it as root, then retry",
            args.join(" ")
        );
    }
    Ok(())
}
