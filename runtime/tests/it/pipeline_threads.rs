//! Where the component chain runs. A delivery worker calls the pipeline from a
//! thread made for blocking work and waits there: the chain runs on that thread,
//! with no second hand-off. Called from an async task, the chain goes to the
//! blocking pool, so that no async worker is held for the length of a chain. Both
//! ways, the components' host calls wait for core (contacts, tags) and succeed.

use crate::common;

use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;

use caliopen_core::context::UserContext;
use caliopen_core::delivery::MailProcessor as _;
use caliopen_runtime::pipeline::ComponentPipeline;
use caliopen_storage_traits::blocking::blocking_allowed;
use common::inproc::InProcess;
use tracing::span::{Attributes, Id};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;

/// The threads on which `component.call` spans were entered, in order.
#[derive(Clone, Default)]
struct CallThreads(Arc<Mutex<Vec<ThreadId>>>);

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for CallThreads {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        if attrs.metadata().name() == "component.call" {
            self.0.lock().unwrap().push(std::thread::current().id());
        }
    }
}

impl CallThreads {
    /// Installed once for the whole test binary: calls run on other threads, where
    /// a thread-local subscriber would not see them.
    fn global() -> &'static CallThreads {
        static THREADS: OnceLock<CallThreads> = OnceLock::new();
        THREADS.get_or_init(|| {
            let threads = CallThreads::default();
            tracing::subscriber::set_global_default(
                tracing_subscriber::registry().with(threads.clone()),
            )
            .expect("no other subscriber in this test binary");
            threads
        })
    }

    fn take(&self) -> Vec<ThreadId> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

const MAIL: &[u8] = b"From: Bob <bob@example.org>\r\nTo: alice@caliopen.local\r\n\
Cc: Carol <carol@example.net>\r\nSubject: where do I run\r\n\
Message-ID: <threads@example.org>\r\n\r\nHello Alice.\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_runs_on_the_delivery_workers_thread_and_off_the_async_workers() {
    let threads = CallThreads::global();
    let node = InProcess::with_default_chain().await;
    let alice = node.user("alice").await;
    let user = UserContext::for_user(&node.core, alice).await.unwrap();
    let pipeline = Arc::new(ComponentPipeline::new(
        node.engine.clone(),
        node.slots.clone(),
    ));
    threads.take();

    // As a delivery worker calls it: from a blocking thread, waiting on the handle.
    let handle = tokio::runtime::Handle::current();
    let (p, u) = (pipeline.clone(), user.clone());
    let (caller, processed) = tokio::task::spawn_blocking(move || {
        blocking_allowed(|| {
            let processed =
                handle.block_on(p.process_inbound(u, Arc::new(MAIL.to_vec()), chrono::Utc::now()));
            (std::thread::current().id(), processed)
        })
    })
    .await
    .unwrap();
    let processed = processed.expect("the chain, host calls included, succeeds in place");
    assert_eq!(processed.message.subject, "where do I run");
    assert_eq!(
        processed.verdict.qualified_by.len(),
        4,
        "{:?}",
        processed.verdict
    );
    let calls = threads.take();
    assert_eq!(calls.len(), 6, "parser, broker and four qualifiers");
    assert!(
        calls.iter().all(|t| *t == caller),
        "every call ran on the delivery worker's own thread"
    );

    // From an async task: the chain goes to the blocking pool.
    let caller = std::thread::current().id();
    let processed = pipeline
        .process_inbound(user, Arc::new(MAIL.to_vec()), chrono::Utc::now())
        .await
        .expect("the chain succeeds on the blocking pool");
    assert_eq!(processed.verdict.qualified_by.len(), 4);
    let calls = threads.take();
    assert_eq!(calls.len(), 6);
    assert!(
        calls.iter().all(|t| *t != caller),
        "no component ran on the async worker"
    );
}
