//! OpenPGP keys made by GnuPG for tests (`gpg --batch --quick-gen-key`), each
//! in a GnuPG home of its own. Shared with caliopen-rest's tests, which include
//! this file (`protocols/rest/tests/it/common/mod.rs`).

use std::process::Command;

use base64::Engine as _;

/// A key GnuPG made: armored and binary, with what GnuPG says of it.
pub struct GpgKey {
    pub armored: String,
    pub binary: Vec<u8>,
    /// Upper-case hex, from `--with-colons`.
    pub fingerprint: String,
    /// The key length GnuPG reports.
    pub bits: u32,
}

impl GpgKey {
    /// The key as the web client sends it: base64 of the armored text.
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.armored)
    }
}

/// Makes a key for user id `uid` with `algo` (`ed25519`, `rsa2048`, ...) in a
/// GnuPG home of its own, then stops that home's agent.
pub fn gpg_key(uid: &str, algo: &str) -> GpgKey {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().to_str().unwrap();
    let gpg = |args: &[&str]| {
        let out = Command::new("gpg")
            .args(["--batch", "--homedir", dir, "--pinentry-mode", "loopback"])
            .args(args)
            .output()
            .expect("gpg runs (install gnupg)");
        assert!(out.status.success(), "gpg {args:?}: {out:?}");
        out.stdout
    };
    gpg(&[
        "--passphrase",
        "",
        "--quick-gen-key",
        uid,
        algo,
        "default",
        "never",
    ]);
    let armored = String::from_utf8(gpg(&["--armor", "--export", uid])).unwrap();
    let binary = gpg(&["--export", uid]);
    let colons = String::from_utf8(gpg(&["--with-colons", "--fingerprint", uid])).unwrap();
    let field = |kind: &str, n: usize| {
        colons
            .lines()
            .find(|l| l.starts_with(kind))
            .and_then(|l| l.split(':').nth(n))
            .unwrap()
            .to_owned()
    };
    let key = GpgKey {
        armored,
        binary,
        fingerprint: field("fpr:", 9),
        bits: field("pub:", 2).parse().unwrap(),
    };
    let _ = Command::new("gpgconf")
        .args(["--homedir", dir, "--kill", "gpg-agent"])
        .status();
    key
}
