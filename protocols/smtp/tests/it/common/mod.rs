//! The test bench: a real embedded store in a temporary directory, a core over it with two
//! users, and the inbound server on 127.0.0.1:0, stopped through its graceful shutdown.
#![allow(dead_code)] // Each test file uses part of it.

pub mod clients;
pub mod faults;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use caliopen_core::delivery::accept::PendingDelivery;
use caliopen_core::service::users::NewUser;
use caliopen_core::{Core, CoreConfig};
use caliopen_smtp::{InboundError, InboundMode, InboundSettings};
use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};
use caliopen_storage_traits::Stores;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use uuid::Uuid;

#[allow(unused_imports)] // Each test file uses part of it.
pub use clients::{Python, Step, Swaks, smtplib, swaks};
#[allow(unused_imports)]
pub use faults::Faults;

pub const ALICE: &str = "alice@caliopen.local";
pub const BOB: &str = "bob@caliopen.local";
pub const UNKNOWN: &str = "nobody@caliopen.local";
pub const SENDER: &str = "sender@example.org";

/// Longest wait for the server to stop; its own `shutdown_timeout` is shorter.
const STOP_TIMEOUT: Duration = Duration::from_secs(120);

/// Settings for tests: the defaults, in `mode`.
pub fn settings(mode: InboundMode) -> InboundSettings {
    InboundSettings {
        mode,
        hostname: "mx.test".into(),
        ..InboundSettings::default()
    }
}

/// A running server over a real embedded store.
#[derive(Debug)]
pub struct Bench {
    pub addr: SocketAddr,
    pub core: Core,
    pub alice: Uuid,
    pub bob: Uuid,
    pub faults: Arc<Faults>,
    /// Read access to what the server stored, around core (blobs).
    stores: Stores,
    storage: Option<EmbeddedStorage>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), InboundError>>>,
    dir: TempDir,
}

impl Bench {
    /// Opens a store, creates `alice` and `bob`, and starts the server.
    pub async fn start(settings: InboundSettings) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let storage = EmbeddedStorage::open(&dir.path().join("data"), EmbeddedOptions::default())
            .expect("open the embedded store");
        let stores = storage.stores();
        let faults = Arc::new(Faults::default());
        let core = Core::new(faults::wrap(stores.clone(), &faults), CoreConfig::default());
        let alice = create_user(&core, "alice").await;
        let bob = create_user(&core, "bob").await;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(caliopen_smtp::serve(
            listener,
            core.clone(),
            settings,
            async move {
                let _ = stopped.await;
            },
        ));
        Self {
            addr,
            core,
            alice,
            bob,
            faults,
            stores,
            storage: Some(storage),
            stop: Some(stop),
            server: Some(server),
            dir,
        }
    }

    /// Asks the server to stop (without waiting).
    pub fn request_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops the server and waits until every session has ended: after this, nothing more
    /// can be stored by a connection.
    pub async fn stop(&mut self) {
        self.request_stop();
        if let Some(server) = self.server.take() {
            tokio::time::timeout(STOP_TIMEOUT, server)
                .await
                .expect("the server did not stop")
                .expect("the server task panicked")
                .expect("the server failed");
        }
    }

    /// Whether the listener is closed (a connection is refused).
    pub async fn listener_closed(&self) -> bool {
        tokio::net::TcpStream::connect(self.addr).await.is_err()
    }

    /// Waits, bounded, until the stopping server has closed its listener.
    pub async fn wait_listener_closed(&self) {
        let wait = async {
            while !self.listener_closed().await {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(STOP_TIMEOUT, wait)
            .await
            .expect("the listener is still open");
    }

    /// Every pending delivery.
    pub async fn pending(&self) -> Vec<PendingDelivery> {
        self.core
            .pending_deliveries()
            .await
            .expect("list pending deliveries")
    }

    /// The stored raw mail of a delivery.
    pub async fn raw(&self, delivery: &PendingDelivery) -> Vec<u8> {
        self.stores
            .blobs
            .get(&delivery.raw.0)
            .await
            .expect("read the blob")
            .expect("the blob exists")
    }

    /// Stops the server, closes the store, opens it again and lists the pending deliveries:
    /// what survives a restart.
    pub async fn pending_after_reopen(mut self) -> Vec<PendingDelivery> {
        self.stop().await;
        let Self {
            core,
            stores,
            storage,
            dir,
            ..
        } = self;
        drop((core, stores));
        storage
            .expect("the store is open")
            .close()
            .await
            .expect("close the store");
        let storage = EmbeddedStorage::open(&dir.path().join("data"), EmbeddedOptions::default())
            .expect("reopen the store");
        let core = Core::new(storage.stores(), CoreConfig::default());
        let pending = core.pending_deliveries().await.expect("list pending");
        drop(core);
        storage.close().await.expect("close the store");
        pending
    }
}

async fn create_user(core: &Core, username: &str) -> Uuid {
    core.create_user(NewUser {
        username: username.into(),
        password: "correct horse battery staple".into(),
        recovery_email: format!("{username}@example.org"),
        given_name: username.into(),
        family_name: "Test".into(),
        settings: None,
    })
    .await
    .expect("create a user")
    .id
}

/// The usual opening for the Python client: LHLO/EHLO, MAIL, RCPT to each of `to`.
pub fn opening(to: &[&str]) -> Vec<Value> {
    let mut steps = vec![
        json!({"op": "hello"}),
        json!({"op": "mail", "from": SENDER}),
    ];
    steps.extend(to.iter().map(|rcpt| json!({"op": "rcpt", "to": rcpt})));
    steps
}

/// A Python client spec in LMTP.
pub fn lmtp(steps: &[Value]) -> Value {
    json!({"protocol": "lmtp", "steps": steps})
}

/// A small message with CRLF line ends and a line that needs dot-stuffing.
pub fn message(subject: &str) -> String {
    format!(
        "From: sender@example.org\r\nTo: alice@caliopen.local\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}@example.org>\r\n\r\nHello.\r\n.A line that starts with a dot.\r\nBye.\r\n"
    )
}

/// A self-signed certificate for `localhost` and its key, as PEM files in `dir`.
pub fn tls_files(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".into(), "mx.test".into()])
        .expect("generate a certificate");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).expect("write the certificate");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("write the key");
    (cert, key)
}

/// Test settings with STARTTLS from files in `dir`.
pub fn tls_settings(mode: InboundMode, dir: &std::path::Path) -> InboundSettings {
    let (cert, key) = tls_files(dir);
    InboundSettings {
        tls_cert: Some(cert),
        tls_key: Some(key),
        ..settings(mode)
    }
}
