//! `caliopen-bench api`: one user with many messages (100k by default) in the
//! embedded store, then the REST API under `wrk`.
//!
//! Insertion goes through core, not LMTP: `Core::accept_mail` (the raw blob and a
//! pending delivery, durable) and core's delivery workers (`store_delivery`: message,
//! discussion, counters, index outbox, in one batch), with the background indexer
//! running as in `caliopen serve`. The workers' `MailProcessor` hands out messages the
//! real Wasm chain made of the corpus beforehand (one per corpus file, cycled, each
//! with its own Message-ID), so the store holds real messages while the insert rate
//! measures the store rather than the components (the `chain` and `ingest` scenarios
//! measure those). The raw blobs are stubs of a few dozen bytes.
//!
//! The REST router of `caliopen-rest` is then served from this process on a loopback
//! port, and `wrk` (Debian's package) measures the message list and search. Last,
//! core's `list_messages` and `search` are timed in process, one call at a time: the
//! storage figures, without HTTP or JSON.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use async_trait::async_trait;
use caliopen_core::context::UserContext;
use caliopen_core::delivery::{MailProcessor, ProcessedMail, ProcessingError};
use caliopen_core::service::messages::MessageFilter;
use caliopen_runtime::wasm::EngineSettings;
use chrono::{DateTime, Utc};
use clap::{Args, FromArgMatches};

use crate::corpus::Corpus;
use crate::node::{self, Node};
use crate::scenario::{Context, Scenario, Section};
use crate::stats::{Latencies, ms};
use crate::wrk;

/// The `api` scenario.
#[derive(Debug)]
pub struct Api;

/// Options of `caliopen-bench api`.
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// Messages of the user.
    #[arg(long, default_value_t = 100_000)]
    pub messages: u64,
    /// Concurrent `accept_mail` callers while inserting.
    #[arg(long, default_value_t = 16)]
    pub insert_concurrency: usize,
    /// Seconds of each `wrk` run.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// `wrk` connections.
    #[arg(long, default_value_t = 16)]
    pub wrk_connections: usize,
    /// Search terms, tried in turn (core search when the router has no search route).
    #[arg(long, value_delimiter = ',', default_values = ["invoice", "meeting", "linux"])]
    pub terms: Vec<String>,
}

const TARGET_LIST_RPS: f64 = 5000.0;
const TARGET_LIST_P99: Duration = Duration::from_millis(10);
const TARGET_SEARCH_P99: Duration = Duration::from_millis(20);
const TARGET_CORE_LIST_P99: Duration = Duration::from_millis(2);

impl Scenario for Api {
    fn name(&self) -> &'static str {
        "api"
    }

    fn about(&self) -> &'static str {
        "Storage and REST API: insert rate into the embedded store, then list and search latency under wrk on one user with 100k messages"
    }

    fn args(&self, command: clap::Command) -> clap::Command {
        ApiArgs::augment_args(command)
    }

    fn run(&self, matches: &clap::ArgMatches, ctx: &Context) -> anyhow::Result<Section> {
        let args = ApiArgs::from_arg_matches(matches)?;
        wrk::ensure_installed()?;
        let corpus = Corpus::load(&ctx.corpus_dir())?;
        let rt = node::runtime()?;
        let dir = tempfile::Builder::new()
            .prefix("caliopen-bench-")
            .tempdir()?;
        eprintln!("caliopen-bench: api in {}", dir.path().display());
        let node = rt.block_on(Node::new(
            &ctx.root,
            dir.path(),
            &EngineSettings::default(),
            node::DEFAULT_CHAIN,
        ))?;
        let (user_id, user) = rt.block_on(node.user("bench"))?;
        let templates = rt.block_on(templates(&node, &user, &corpus))?;
        let inserted = rt.block_on(insert(&node, templates, &args))?;
        let figures = rt.block_on(serve_and_measure(&node, user_id, &args))?;
        Ok(Section {
            title: format!(
                "Storage and REST API: one user with {} messages",
                args.messages
            ),
            corpus: Some(format!(
                "messages made by the Wasm chain from {} ({} files), cycled",
                corpus.sources.join(" + "),
                corpus.raw.len()
            )),
            versions: vec![("wrk".into(), wrk::version())],
            settings: vec![
                (
                    "store".into(),
                    "embedded (fjall records and blobs, tantivy search), `EmbeddedOptions::default()`, in the \
                     system's temp dir"
                        .into(),
                ),
                (
                    "insert".into(),
                    format!(
                        "`Core::accept_mail` from {} tasks + core's delivery workers and indexer",
                        args.insert_concurrency
                    ),
                ),
                (
                    "wrk".into(),
                    format!(
                        "`wrk -t2 -c{} -d{}s --latency`, loopback, REST router served in the bench process",
                        args.wrk_connections, args.duration
                    ),
                ),
            ],
            body: body(&args, &inserted, &figures),
        })
    }
}

/// What the Wasm chain makes of every corpus file, for this user.
async fn templates(
    node: &Node,
    user: &UserContext,
    corpus: &Corpus,
) -> anyhow::Result<Vec<ProcessedMail>> {
    let pipeline = node.pipeline();
    let mut out = Vec::new();
    for raw in &corpus.raw {
        if let Ok(p) = pipeline
            .process_inbound(user.clone(), Arc::new(raw.clone()), Utc::now())
            .await
        {
            out.push(p);
        }
    }
    if out.is_empty() {
        bail!("the chain processed no corpus message");
    }
    Ok(out)
}

/// Hands out the prepared messages: the stub raw mail names the template and the
/// sequence number, which becomes the Message-ID.
#[derive(Debug)]
struct Templates(Vec<ProcessedMail>);

#[async_trait]
impl MailProcessor for Templates {
    async fn process_inbound(
        &self,
        _user: UserContext,
        raw: Arc<Vec<u8>>,
        _received_at: DateTime<Utc>,
    ) -> Result<ProcessedMail, ProcessingError> {
        let n: u64 = std::str::from_utf8(&raw)
            .ok()
            .and_then(|s| s.strip_prefix("X-Bench: "))
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ProcessingError::Permanent {
                stage: "bench".into(),
                reason: "not a bench stub".into(),
            })?;
        let mut mail = self.0[(n % self.0.len() as u64) as usize].clone();
        mail.message.external_references.message_id =
            Some(format!("bench-{n}@caliopen-bench.invalid"));
        Ok(mail)
    }
}

struct Inserted {
    accepted_after: Duration,
    stored_after: Duration,
    indexed_after: Duration,
    quarantined: u64,
}

async fn insert(
    node: &Node,
    templates: Vec<ProcessedMail>,
    args: &ApiArgs,
) -> anyhow::Result<Inserted> {
    let core = node.core.clone();
    let recipient = core
        .resolve_recipient(&format!("bench@{}", core.config().default_domain))
        .await?
        .context("the bench user does not resolve")?;
    let processor: Arc<dyn MailProcessor> = Arc::new(Templates(templates));
    let _workers = core.spawn_delivery_workers(&processor);
    let indexer = core.spawn_indexer();
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.insert_concurrency.max(1) {
        let (core, next, recipient, total) =
            (core.clone(), next.clone(), recipient.clone(), args.messages);
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return anyhow::Ok(());
                }
                let stub = format!("X-Bench: {n}\r\n\r\nbench stub\r\n");
                core.accept_mail(
                    stub.as_bytes(),
                    "load@caliopen-bench.invalid",
                    std::slice::from_ref(&recipient),
                )
                .await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let accepted_after = start.elapsed();
    eprintln!(
        "caliopen-bench: api: {} accepted in {:.1} s",
        args.messages,
        accepted_after.as_secs_f64()
    );
    let mut stored_after = None;
    let quarantined = loop {
        let stats = core.pipeline_stats().await?;
        if stats.pending == 0 && stored_after.is_none() {
            stored_after = Some(start.elapsed());
        }
        if stats.pending == 0 && stats.index_backlog == 0 {
            break stats.quarantined;
        }
        eprintln!(
            "caliopen-bench: api: {} pending, {} to index",
            stats.pending, stats.index_backlog
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let indexed_after = start.elapsed();
    indexer.abort();
    Ok(Inserted {
        accepted_after,
        stored_after: stored_after.unwrap_or(indexed_after),
        indexed_after,
        quarantined,
    })
}

struct Figures {
    total_listed: u64,
    list: wrk::Outcome,
    search: wrk::Outcome,
    /// `Core::list_messages` (20 newest), in process, one call at a time.
    core_list: Latencies,
    /// `Core::search` over the terms in turn, in process, one call at a time.
    core_search: Latencies,
    core_hits: u64,
}

async fn serve_and_measure(
    node: &Node,
    user_id: uuid::Uuid,
    args: &ApiArgs,
) -> anyhow::Result<Figures> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = caliopen_rest::router(caliopen_rest::AppState::new(node.core.clone()));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let base = format!("http://{addr}/api");
    let headers = tokio::task::spawn_blocking({
        let base = base.clone();
        move || login(&base)
    })
    .await??;
    let (total_listed, _) = node
        .core
        .list_messages(
            user_id,
            &MessageFilter {
                limit: 20,
                ..MessageFilter::default()
            },
        )
        .await?;
    let run = |url: String| {
        let headers = headers.clone();
        let (c, d) = (args.wrk_connections, args.duration);
        tokio::task::spawn_blocking(move || wrk::run(&url, &headers, c, d))
    };
    let list = run(format!("{base}/v2/messages?limit=20&offset=0")).await??;
    let term = &args.terms[0];
    let search_url = format!("{base}/v2/search?term={term}&doctype=message&limit=20");
    let probe = tokio::task::spawn_blocking({
        let (url, headers) = (search_url.clone(), headers.clone());
        move || wrk::status(&url, &headers)
    })
    .await??;
    anyhow::ensure!(probe == 200, "GET {search_url} answers {probe}");
    let search = run(search_url).await??;
    server.abort();

    // The storage figures: core alone, one caller, no HTTP.
    let first_page = MessageFilter {
        limit: 20,
        ..MessageFilter::default()
    };
    let mut list_samples = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    while Instant::now() < deadline {
        let t = Instant::now();
        let (_, page) = node.core.list_messages(user_id, &first_page).await?;
        list_samples.push(t.elapsed());
        anyhow::ensure!(page.len() == 20, "a list page of {} messages", page.len());
    }
    let mut search_samples = Vec::new();
    let mut hits = 0;
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let mut i = 0;
    while Instant::now() < deadline {
        let term = &args.terms[i % args.terms.len()];
        let t = Instant::now();
        let outcome = node
            .core
            .search(user_id, term, Some("message"), 20, 0)
            .await?;
        search_samples.push(t.elapsed());
        hits = hits.max(outcome.total);
        i += 1;
    }
    Ok(Figures {
        total_listed,
        list,
        search,
        core_list: Latencies::new(list_samples),
        core_search: Latencies::new(search_samples),
        core_hits: hits,
    })
}

/// Logs the bench user in through the API; returns the headers of an authenticated
/// request.
fn login(base: &str) -> anyhow::Result<Vec<(String, String)>> {
    use base64::Engine as _;
    let device = uuid::Uuid::new_v4().to_string();
    let body = serde_json::json!({
        "username": "bench",
        "password": node::PASSWORD,
        "device": { "device_id": device },
    });
    let answer: serde_json::Value = ureq::post(&format!("{base}/v1/authentications"))
        .send_json(&body)
        .context("POST /api/v1/authentications")?
        .body_mut()
        .read_json()?;
    let user_id = answer["user_id"].as_str().context("no user_id")?;
    let token = answer["tokens"]["access_token"]
        .as_str()
        .context("no access_token")?;
    let device = answer["device"]["device_id"].as_str().unwrap_or(&device);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user_id}:{token}"));
    Ok(vec![
        ("Authorization".into(), format!("Bearer {basic}")),
        ("X-Caliopen-Device-ID".into(), device.to_owned()),
    ])
}

fn body(args: &ApiArgs, inserted: &Inserted, f: &Figures) -> String {
    use std::fmt::Write as _;
    let n = args.messages as f64;
    let rate = |d: Duration| n / d.as_secs_f64().max(f64::MIN_POSITIVE);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Insert ({} messages; the list reports {} for the user):\n\n\
         | stage | time | messages/s |\n|---|---|---|\n\
         | accepted (`accept_mail` returned: durable) | {:.1} s | {:.0} |\n\
         | stored (no delivery pending) | {:.1} s | {:.0} |\n\
         | **stored and indexed** (outbox empty) | {:.1} s | **{:.0}** |\n\n\
         Quarantined: {}.\n",
        args.messages,
        f.total_listed,
        inserted.accepted_after.as_secs_f64(),
        rate(inserted.accepted_after),
        inserted.stored_after.as_secs_f64(),
        rate(inserted.stored_after),
        inserted.indexed_after.as_secs_f64(),
        rate(inserted.indexed_after),
        inserted.quarantined,
    );
    let _ = writeln!(
        out,
        "| request | requests/s | p50 | p90 | p99 | non-2xx | bytes per answer |\n|---|---|---|---|---|---|---|"
    );
    let row = |out: &mut String, label: &str, o: &wrk::Outcome| {
        let _ = writeln!(
            out,
            "| {label} | {:.0} | {} | {} | {} | {} | {:.0} |",
            o.requests_per_sec,
            ms(o.p50),
            ms(o.p90),
            ms(o.p99),
            o.non_2xx,
            o.bytes_per_request()
        );
    };
    row(&mut out, "`GET /api/v2/messages?limit=20` (wrk)", &f.list);
    row(&mut out, "`GET /api/v2/search` (wrk)", &f.search);
    let met = |ok: bool| if ok { "met" } else { "not met" };
    let _ = writeln!(
        out,
        "\nREST targets (reported, not asserted): list ≥ {TARGET_LIST_RPS:.0} requests/s and p99 < {} ms: **{}**.",
        TARGET_LIST_P99.as_millis(),
        met(f.list.requests_per_sec >= TARGET_LIST_RPS && f.list.p99 < TARGET_LIST_P99),
    );
    let _ = writeln!(
        out,
        "\nThe store through core, in process, one call at a time for {}s each (no HTTP, no JSON):\n\n\
         | operation | calls | p50 | p90 | p99 |\n|---|---|---|---|---|",
        args.duration
    );
    for (label, l) in [
        (
            "`Core::list_messages`, the 20 newest (list page)",
            &f.core_list,
        ),
        (
            &*format!(
                "`Core::search`, terms {:?} in turn, 20 hits a page (up to {} hits)",
                args.terms, f.core_hits
            ),
            &f.core_search,
        ),
    ] {
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {} |",
            l.len(),
            ms(l.percentile(50.0)),
            ms(l.percentile(90.0)),
            ms(l.percentile(99.0)),
        );
    }
    let _ = writeln!(
        out,
        "\nStorage targets (reported, not asserted): list page p99 < {} ms: **{}**; search p99 < {} ms: **{}**.",
        TARGET_CORE_LIST_P99.as_millis(),
        met(f.core_list.percentile(99.0) < TARGET_CORE_LIST_P99),
        TARGET_SEARCH_P99.as_millis(),
        met(f.core_search.percentile(99.0) < TARGET_SEARCH_P99),
    );
    let _ = writeln!(
        out,
        "\n`wrk` and the server share the machine's two cores, so requests/s is a floor for a dedicated server."
    );
    out
}
