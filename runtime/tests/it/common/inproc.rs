//! A node in the test process: real embedded store, real core, real Wasmtime and
//! components, delivery workers running; no listeners.

use std::sync::Arc;
use std::time::{Duration, Instant};

use caliopen_core::delivery::Recipient;
use caliopen_core::model::Message;
use caliopen_core::service::messages::MessageFilter;
use caliopen_core::service::users::NewUser;
use caliopen_core::{Core, CoreConfig};
use caliopen_runtime::pipeline::{ComponentPipeline, Slots};
use caliopen_runtime::registry::{DeployReport, Registry};
use caliopen_runtime::wasm::{EngineSettings, WasmEngine};
use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};
use uuid::Uuid;

use super::{component, root, shared_cache};

pub struct InProcess {
    pub dir: tempfile::TempDir,
    /// The compiled-component cache (shared by the tests: [`super::shared_cache`]).
    pub cache: std::path::PathBuf,
    pub core: Core,
    pub engine: Arc<WasmEngine>,
    pub registry: Registry,
    pub slots: Arc<Slots>,
    _storage: EmbeddedStorage,
    workers: caliopen_core::delivery::DeliveryWorkers,
}

impl InProcess {
    /// A node with the email parser and broker deployed.
    pub async fn new() -> Self {
        Self::with(&[
            ("email-parser", "caliopen_email_parser"),
            ("email-broker", "caliopen_email_broker"),
        ])
        .await
    }

    /// A node with the whole default chain: parser, broker and the four qualifiers.
    pub async fn with_default_chain() -> Self {
        Self::with(&[
            ("email-parser", "caliopen_email_parser"),
            ("email-broker", "caliopen_email_broker"),
            ("qualifier-tags", "caliopen_qualifier_tags"),
            ("qualifier-spam", "caliopen_qualifier_spam"),
            ("qualifier-pi", "caliopen_qualifier_pi"),
            ("qualifier-importance", "caliopen_qualifier_importance"),
        ])
        .await
    }

    async fn with(components: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let storage =
            EmbeddedStorage::open(&dir.path().join("store"), EmbeddedOptions::default()).unwrap();
        let mut config = CoreConfig::default();
        config.delivery.retry_base = Duration::from_millis(20);
        config.delivery.max_attempts = 3;
        let core = Core::new(storage.stores(), config);
        let engine = Arc::new(WasmEngine::new(&EngineSettings::default()).unwrap());
        let slots = Arc::new(Slots::default());
        let cache = shared_cache();
        let registry = Registry::new(core.clone(), engine.clone(), slots.clone(), cache.clone());
        let pipeline: Arc<dyn caliopen_core::delivery::MailProcessor> =
            Arc::new(ComponentPipeline::new(engine.clone(), slots.clone()));
        let workers = core.spawn_delivery_workers(&pipeline);
        let node = Self {
            dir,
            cache,
            core,
            engine,
            registry,
            slots,
            _storage: storage,
            workers,
        };
        let _compiling = super::lock_shared_cache();
        for (dir, artefact) in components {
            let manifest =
                std::fs::read_to_string(root().join("components").join(dir).join("component.toml"))
                    .unwrap();
            node.registry
                .deploy(&manifest, component(artefact), false)
                .await
                .unwrap();
        }
        node
    }

    /// Deploys the test qualifier with a manifest built from its parts.
    pub async fn deploy_test_qualifier(
        &self,
        version: &str,
        policy: &str,
        grants: &str,
        config: &str,
    ) -> Result<DeployReport, String> {
        let manifest = format!(
            "name = \"test-qualifier\"\nversion = \"{version}\"\nworld = \"qualifier\"\nslot = \"qualifier:test\"\n\
             grants = [{grants}]\n[limits]\ndeadline_ms = 300\nmemory_mib = 32\nmax_output_kib = 1024\n\
             [policy]\non_failure = \"{policy}\"\n[config]\n{config}\n"
        );
        self.registry
            .deploy(&manifest, component("caliopen_test_qualifier"), false)
            .await
            .map_err(|e| e.to_string())
    }

    pub async fn user(&self, name: &str) -> Uuid {
        self.core
            .create_user(NewUser {
                username: name.into(),
                password: "a long enough password".into(),
                recovery_email: format!("{name}@example.org"),
                ..NewUser::default()
            })
            .await
            .unwrap()
            .id
    }

    /// Accepts raw bytes for a local user, as LMTP would.
    pub async fn deliver_raw(&self, to: &str, raw: &[u8]) -> Uuid {
        let r = self
            .core
            .resolve_recipient(&format!("{to}@caliopen.local"))
            .await
            .unwrap()
            .unwrap();
        self.core
            .accept_mail(raw, "sender@example.org", &[r])
            .await
            .unwrap()[0]
    }

    /// Accepts a mail for a local user, as LMTP would.
    pub async fn deliver(&self, to: &str, subject: &str) -> Uuid {
        let raw = format!(
            "From: Someone <someone@example.org>\r\nTo: {to}@caliopen.local\r\nSubject: {subject}\r\n\
             Message-ID: <{}@example.org>\r\n\r\nBody of {subject}\r\n",
            Uuid::new_v4()
        );
        let r = self
            .core
            .resolve_recipient(&format!("{to}@caliopen.local"))
            .await
            .unwrap()
            .unwrap();
        let recipient = Recipient { ..r };
        self.core
            .accept_mail(raw.as_bytes(), "someone@example.org", &[recipient])
            .await
            .unwrap()[0]
    }

    /// Waits until no delivery is pending.
    pub async fn settle(&self, timeout: Duration) {
        let start = Instant::now();
        while !self.core.pending_deliveries().await.unwrap().is_empty() {
            assert!(
                start.elapsed() < timeout,
                "deliveries still pending after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn messages(&self, user: Uuid) -> Vec<Message> {
        let filter = MessageFilter {
            limit: 10_000,
            ..MessageFilter::default()
        };
        self.core.list_messages(user, &filter).await.unwrap().1
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.workers.abort();
    }
}
