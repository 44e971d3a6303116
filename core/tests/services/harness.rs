//! A node on the real embedded store in a temporary directory, users, and mail
//! delivered through the real pipeline with a test [`MailProcessor`].

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use caliopen_core::context::UserContext;
use caliopen_core::delivery::{
    DeliveryWorkers, InboundMessage, MailProcessor, MergedVerdict, ProcessedMail, ProcessingError,
};
use caliopen_core::model::message::{Attachment, ExternalReferences};
use caliopen_core::model::{Message, Participant, ParticipantRole, User};
use caliopen_core::service::messages::MessageFilter;
use caliopen_core::service::patch::MergePatch;
use caliopen_core::service::users::NewUser;
use caliopen_core::{Core, CoreConfig, CoreError};

use crate::credentials_key::with_test_key;
use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};
use caliopen_storage_traits::Stores;
use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// One node: storage, core, and the delivery workers.
pub struct Node {
    pub core: Core,
    pub stores: Stores,
    workers: DeliveryWorkers,
    membership: Option<JoinHandle<()>>,
    processing: Arc<Concurrency>,
    storage: Arc<(EmbeddedStorage, tempfile::TempDir)>,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Node {
    pub async fn new() -> Self {
        Self::with_config(CoreConfig::default()).await
    }

    pub async fn with_config(config: CoreConfig) -> Self {
        Self::start(open_storage(), config, false)
    }

    /// A node that takes part in a cluster (heartbeats, users divided among nodes).
    pub async fn clustered(config: CoreConfig) -> Self {
        Self::start(open_storage(), config, true)
    }

    /// Another clustered node on this node's store, as a second process on a shared
    /// store would be: its own core, user locks, workers and test chain.
    pub fn peer(&self) -> Self {
        Self::start(self.storage.clone(), self.core.config().clone(), true)
    }

    /// Another core on this node's store with other settings (another key, say).
    pub fn peer_with_config(&self, config: CoreConfig) -> Self {
        Self::start(self.storage.clone(), config, true)
    }

    fn start(
        storage: Arc<(EmbeddedStorage, tempfile::TempDir)>,
        config: CoreConfig,
        clustered: bool,
    ) -> Self {
        let stores = storage.0.stores();
        let core = Core::new(stores.clone(), with_test_key(config));
        let membership = clustered.then(|| core.spawn_membership());
        let processing = Arc::new(Concurrency::default());
        let processor: Arc<dyn MailProcessor> = Arc::new(HeaderProcessor {
            processing: processing.clone(),
        });
        let workers = core.spawn_delivery_workers(&processor);
        Self {
            core,
            stores,
            workers,
            membership,
            processing,
            storage,
        }
    }

    /// Stops this node's workers and heartbeat (its store stays open).
    pub fn stop(&self) {
        self.workers.abort();
        if let Some(m) = &self.membership {
            m.abort();
        }
    }

    /// How many mails this node's test chain has processed.
    pub fn processed(&self) -> usize {
        self.processing.total.load(Ordering::SeqCst)
    }

    /// A new user `name` with password `password-of-<name>`.
    pub async fn user(&self, name: &str) -> User {
        self.core
            .create_user(NewUser {
                username: name.into(),
                password: format!("password-of-{name}"),
                recovery_email: format!("{name}@recovery.example"),
                given_name: name.into(),
                family_name: "Tester".into(),
                settings: None,
            })
            .await
            .expect("signup")
    }

    /// Delivers a mail made of `headers` (one per line) and `body` to the local
    /// address of `to`, waits for the pipeline, and answers the stored message.
    pub async fn deliver(&self, to: &User, headers: &str, body: &str) -> Message {
        self.accept(to, headers, body).await;
        self.settle().await;
        let subject = header(headers, "Subject").unwrap_or_default();
        let listed = self
            .messages(to.id)
            .await
            .into_iter()
            .find(|m| m.subject == subject && m.is_received)
            .expect("the delivered message");
        // As stored: lists resolve participants against today's contacts.
        self.core.message(to.id, listed.id).await.unwrap()
    }

    /// Every message of `user` (up to 10,000), newest first.
    pub async fn messages(&self, user: Uuid) -> Vec<Message> {
        let filter = MessageFilter {
            limit: 10_000,
            ..MessageFilter::default()
        };
        self.core.list_messages(user, &filter).await.unwrap().1
    }

    /// Accepts a mail made of `headers` and `body` for `to` without waiting for it.
    pub async fn accept(&self, to: &User, headers: &str, body: &str) {
        let raw = format!("{}\r\n\r\n{body}", headers.trim().replace('\n', "\r\n"));
        let recipient = self
            .core
            .resolve_recipient(&to.local_identity)
            .await
            .unwrap()
            .expect("a local recipient");
        self.core
            .accept_mail(raw.as_bytes(), "sender@example.org", &[recipient])
            .await
            .unwrap();
    }

    /// The most mails the test chain was processing at once so far.
    pub fn most_processed_at_once(&self) -> usize {
        self.processing.most.load(Ordering::SeqCst)
    }

    /// Waits until no delivery is pending; fails on quarantine.
    pub async fn settle(&self) {
        for _ in 0..600 {
            if self.core.pending_deliveries().await.unwrap().is_empty() {
                let q = self.core.quarantined().await.unwrap();
                assert!(q.is_empty(), "quarantined: {q:?}");
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("deliveries did not settle");
    }

    /// The local identity id of a user.
    pub async fn identity_id(&self, user: &User) -> Uuid {
        self.core
            .identities(user.id, caliopen_core::model::IdentityKind::Local)
            .await
            .unwrap()[0]
            .id
    }

    /// The user's counters: (messages, unread).
    pub async fn counters(&self, user: Uuid) -> (i64, i64) {
        use caliopen_core::tables::{COUNTERS, counter};
        use caliopen_storage_traits::Scope;
        let r = &self.stores.records;
        (
            r.counter(COUNTERS, Scope::User(user), counter::MESSAGES)
                .await
                .unwrap(),
            r.counter(COUNTERS, Scope::User(user), counter::UNREAD)
                .await
                .unwrap(),
        )
    }
}

/// The embedded store in a new temporary directory.
fn open_storage() -> Arc<(EmbeddedStorage, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let storage =
        EmbeddedStorage::open(dir.path(), EmbeddedOptions::default()).expect("embedded storage");
    Arc::new((storage, dir))
}

/// A patch body from JSON.
pub fn patch(body: serde_json::Value) -> MergePatch {
    MergePatch::from_json(body).expect("a patch body")
}

/// Asserts an `Invalid` error naming `field`.
#[track_caller]
pub fn assert_invalid<T: std::fmt::Debug>(result: Result<T, CoreError>, field: &str) {
    match result {
        Err(CoreError::Invalid { field: f, .. }) if f == field => {}
        other => panic!("expected Invalid({field}), got {other:?}"),
    }
}

/// Asserts a `NotFound` error.
#[track_caller]
pub fn assert_not_found<T: std::fmt::Debug>(result: Result<T, CoreError>) {
    match result {
        Err(CoreError::NotFound { .. }) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

fn header(headers: &str, name: &str) -> Option<String> {
    headers.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_owned())
    })
}

/// How many mails the test chain is processing now, and the most at once.
#[derive(Debug, Default)]
struct Concurrency {
    now: AtomicUsize,
    most: AtomicUsize,
    total: AtomicUsize,
}

/// A test double of the component chain: reads a few header lines. `X-Attach:
/// name; type` adds an attachment (part index = its position + 1); `X-Spam: yes`
/// makes the verdict spam; `X-Importance: n` sets the importance level;
/// `X-Processing-Ms: n` makes processing take that long; `X-Panic: why` makes it
/// panic, as a bug in the chain would.
#[derive(Debug)]
struct HeaderProcessor {
    processing: Arc<Concurrency>,
}

#[async_trait]
impl MailProcessor for HeaderProcessor {
    async fn process_inbound(
        &self,
        _user: UserContext,
        raw: Arc<Vec<u8>>,
        _received_at: DateTime<Utc>,
    ) -> Result<ProcessedMail, ProcessingError> {
        self.processing.total.fetch_add(1, Ordering::SeqCst);
        let text = String::from_utf8_lossy(&raw).replace("\r\n", "\n");
        let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        if let Some(ms) = header(head, "X-Processing-Ms").and_then(|v| v.parse().ok()) {
            let now = self.processing.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.processing.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            self.processing.now.fetch_sub(1, Ordering::SeqCst);
        }
        let mut m = InboundMessage {
            body_plain: Some(body.to_owned()),
            external_references: ExternalReferences::default(),
            ..InboundMessage::default()
        };
        let mut verdict = MergedVerdict::default();
        for line in head.lines() {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            let role = ParticipantRole::parse(name.trim());
            match name.trim().to_ascii_lowercase().as_str() {
                "subject" => m.subject = value.to_owned(),
                "message-id" => {
                    m.external_references.message_id =
                        Some(value.trim_matches(['<', '>']).to_owned());
                }
                "in-reply-to" => {
                    m.external_references.parent_id =
                        Some(value.trim_matches(['<', '>']).to_owned());
                }
                "x-spam" => verdict.is_spam = value == "yes",
                "x-panic" => panic!("the test chain panics: {value}"),
                "x-importance" => verdict.importance_level = value.parse().unwrap_or(0),
                "x-attach" => {
                    let (file_name, content_type) = value
                        .split_once(';')
                        .unwrap_or((value, "application/octet-stream"));
                    let index = m.attachments.len() as u32;
                    m.attachments.push(Attachment {
                        index,
                        file_name: file_name.trim().into(),
                        content_type: content_type.trim().into(),
                        size: 10,
                        is_inline: false,
                        content_id: None,
                        part_index: Some(index + 1),
                        blob: None,
                    });
                }
                "list-id" => m
                    .participants
                    .push(participant(ParticipantRole::ListId, value)),
                _ => {
                    if let Some(role) = role {
                        for one in value.split(',') {
                            m.participants.push(participant(role, one));
                        }
                    }
                }
            }
        }
        Ok(ProcessedMail {
            message: m,
            verdict,
        })
    }
}

/// `Label <address>` or `address`.
fn participant(role: ParticipantRole, text: &str) -> Participant {
    let text = text.trim();
    let (label, address) = match text.split_once('<') {
        Some((label, rest)) => (label.trim().trim_matches('"'), rest.trim_end_matches('>')),
        None => ("", text),
    };
    Participant {
        role,
        protocol: "email".into(),
        address: address.trim().to_lowercase(),
        label: label.to_owned(),
        contact_ids: Vec::new(),
    }
}
