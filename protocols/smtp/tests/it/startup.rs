//! What stops the inbound server from starting: bad settings and TLS files that do not load.
//! A broken TLS setup is an error, never a silent fallback to clear text.

use std::sync::atomic::{AtomicUsize, Ordering};

use caliopen_core::{Core, CoreConfig};
use caliopen_smtp::{InboundError, InboundServer, InboundSettings};
use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};

use crate::common;

/// A core over its own store under `dir` (each call opens a new one).
fn core(dir: &tempfile::TempDir) -> Core {
    static STORES: AtomicUsize = AtomicUsize::new(0);
    let n = STORES.fetch_add(1, Ordering::Relaxed);
    let storage = EmbeddedStorage::open(
        &dir.path().join(format!("data-{n}")),
        EmbeddedOptions::default(),
    )
    .expect("open the embedded store");
    Core::new(storage.stores(), CoreConfig::default())
}

fn with_tls(cert: std::path::PathBuf, key: std::path::PathBuf) -> InboundSettings {
    InboundSettings {
        tls_cert: Some(cert),
        tls_key: Some(key),
        ..InboundSettings::default()
    }
}

#[tokio::test]
async fn tls_is_offered_only_when_configured() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let plain = InboundServer::new(core(&dir), InboundSettings::default()).expect("starts");
    assert!(!plain.tls_enabled());
    let (cert, key) = common::tls_files(dir.path());
    let tls = InboundServer::new(core(&dir), with_tls(cert, key)).expect("starts");
    assert!(tls.tls_enabled());
}

#[tokio::test]
async fn tls_files_that_do_not_load_are_an_error() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (cert, key) = common::tls_files(dir.path());
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).expect("create a directory");
    let missing = dir.path().join("missing.pem");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").expect("write");

    let cases = [
        (with_tls(missing.clone(), key.clone()), "certificate"),
        (with_tls(garbage.clone(), key.clone()), "certificate"),
        (with_tls(cert.clone(), missing), "private key"),
        (with_tls(cert.clone(), garbage), "private key"),
        // A key that does not match the certificate.
        (with_tls(cert, common::tls_files(&other).1), "invalid"),
    ];
    for (settings, expected) in cases {
        let error = InboundServer::new(core(&dir), settings.clone()).expect_err("refused");
        assert!(
            matches!(error, InboundError::TlsFile { .. } | InboundError::Tls(_)),
            "{error:?}"
        );
        assert!(
            error.to_string().contains(expected),
            "{error} for {settings:?}"
        );
    }
}

#[tokio::test]
async fn invalid_settings_are_an_error() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let settings = InboundSettings {
        tls_cert: Some("cert.pem".into()),
        ..InboundSettings::default()
    };
    let error = InboundServer::new(core(&dir), settings).expect_err("refused");
    assert!(matches!(error, InboundError::Settings(_)), "{error:?}");
}
