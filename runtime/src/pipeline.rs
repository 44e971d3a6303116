//! Core's `MailProcessor` port, implemented by running components: the parser,
//! then the broker, then the qualifier chain in order, each verdict merged into
//! what the next qualifier sees. A failing component is handled by its slot's
//! policy; nothing here drops a message.

use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use caliopen_core::context::UserContext;
use caliopen_core::delivery::{
    Arrival, MailProcessor, MergedVerdict, ProcessedMail, ProcessingError,
};
use caliopen_core::model::message::RuleHit;
use caliopen_mail_auth::Verifier;
use caliopen_storage_traits::blocking::{blocking_allowed, may_block};
use chrono::{DateTime, Utc};
use tokio::runtime::RuntimeFlavor;

use crate::wasm::bindings::types as wit;
use crate::wasm::manifest::{OnFailure, World};
use crate::wasm::{InvokeError, LoadedComponent, WasmEngine};
use crate::{authenticate, convert};

/// A qualifier slot: its active version and, in shadow mode, a candidate that runs
/// beside it on the same messages without affecting them.
#[derive(Debug, Clone)]
pub struct QualifierSlot {
    pub active: Arc<LoadedComponent>,
    pub shadow: Option<(Arc<LoadedComponent>, Arc<ShadowStats>)>,
}

/// The active version of every slot, swapped as a whole.
#[derive(Debug, Default, Clone)]
pub struct Chain {
    pub parser: Option<Arc<LoadedComponent>>,
    pub broker: Option<Arc<LoadedComponent>>,
    /// In ascending `order`, then by slot name.
    pub qualifiers: Vec<QualifierSlot>,
}

impl Chain {
    /// This chain with `component` active in its slot (replacing what was there).
    pub fn with(&self, component: Arc<LoadedComponent>) -> Self {
        let mut next = self.clone();
        match component.manifest.world {
            World::Parser => next.parser = Some(component),
            World::Broker => next.broker = Some(component),
            World::Qualifier => {
                let slot = component.manifest.slot.clone();
                match next
                    .qualifiers
                    .iter_mut()
                    .find(|q| q.active.manifest.slot == slot)
                {
                    Some(q) => q.active = component,
                    None => next.qualifiers.push(QualifierSlot {
                        active: component,
                        shadow: None,
                    }),
                }
                next.qualifiers.sort_by(|a, b| {
                    (a.active.manifest.order, &a.active.manifest.slot)
                        .cmp(&(b.active.manifest.order, &b.active.manifest.slot))
                });
            }
        }
        next
    }
}

/// What shadow mode saw for one slot.
#[derive(Debug, Default)]
pub struct ShadowStats {
    inner: Mutex<ShadowReport>,
}

/// The report an operator reads before promoting a candidate.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ShadowReport {
    pub candidate: String,
    pub active: String,
    /// Messages both versions qualified.
    pub compared: u64,
    /// ... on which their verdicts differed.
    pub different: u64,
    /// Calls where the candidate failed (the active verdict was kept).
    pub candidate_failures: u64,
    /// The latest differences, newest last.
    pub recent: Vec<String>,
}

const RECENT_DIFFERENCES: usize = 20;

impl ShadowStats {
    fn record(&self, active: &str, candidate: &str, outcome: Result<Option<String>, String>) {
        let mut r = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        r.active = active.to_owned();
        r.candidate = candidate.to_owned();
        match outcome {
            Ok(None) => r.compared += 1,
            Ok(Some(diff)) => {
                r.compared += 1;
                r.different += 1;
                r.recent.push(diff);
            }
            Err(e) => {
                r.candidate_failures += 1;
                r.recent.push(format!("candidate failed: {e}"));
            }
        }
        let excess = r.recent.len().saturating_sub(RECENT_DIFFERENCES);
        r.recent.drain(..excess);
    }

    pub fn report(&self) -> ShadowReport {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The slots. A delivery takes one snapshot when it starts, so it runs on exactly
/// one version of each component even when a swap happens meanwhile.
#[derive(Debug, Default)]
pub struct Slots {
    chain: RwLock<Arc<Chain>>,
}

impl Slots {
    pub fn snapshot(&self) -> Arc<Chain> {
        self.chain.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn update(&self, f: impl FnOnce(&Chain) -> Chain) {
        let mut chain = self.chain.write().unwrap_or_else(|e| e.into_inner());
        *chain = Arc::new(f(&chain));
    }

    /// Puts `component` in its slot atomically.
    pub fn install(&self, component: Arc<LoadedComponent>) {
        self.update(|c| c.with(component));
    }

    /// Runs `candidate` in shadow of its slot's active qualifier.
    pub fn install_shadow(&self, candidate: Arc<LoadedComponent>) {
        self.update(|c| {
            let mut next = c.clone();
            if let Some(q) = next
                .qualifiers
                .iter_mut()
                .find(|q| q.active.manifest.slot == candidate.manifest.slot)
            {
                q.shadow = Some((candidate, Arc::default()));
            }
            next
        });
    }

    /// Stops shadowing a slot.
    pub fn remove_shadow(&self, slot: &str) {
        self.update(|c| {
            let mut next = c.clone();
            for q in next
                .qualifiers
                .iter_mut()
                .filter(|q| q.active.manifest.slot == slot)
            {
                q.shadow = None;
            }
            next
        });
    }

    /// The shadow report of a slot, when it has a candidate.
    pub fn shadow_report(&self, slot: &str) -> Option<ShadowReport> {
        self.snapshot()
            .qualifiers
            .iter()
            .find(|q| q.active.manifest.slot == slot)
            .and_then(|q| q.shadow.as_ref())
            .map(|(_, stats)| stats.report())
    }
}

/// The component pipeline.
#[derive(Debug, Clone)]
pub struct ComponentPipeline {
    engine: Arc<WasmEngine>,
    slots: Arc<Slots>,
    /// Verifies DKIM, SPF and DMARC at delivery; none: nothing is verified.
    verifier: Option<Arc<Verifier>>,
}

impl ComponentPipeline {
    pub fn new(engine: Arc<WasmEngine>, slots: Arc<Slots>) -> Self {
        Self {
            engine,
            slots,
            verifier: None,
        }
    }

    /// Verifies each mail with `verifier` before the chain sees it (see `authenticate`).
    pub fn with_verifier(mut self, verifier: Arc<Verifier>) -> Self {
        self.verifier = Some(verifier);
        self
    }
}

#[async_trait]
impl MailProcessor for ComponentPipeline {
    async fn process_inbound(
        &self,
        user: UserContext,
        raw: Arc<Vec<u8>>,
        received_at: DateTime<Utc>,
    ) -> Result<ProcessedMail, ProcessingError> {
        let auth = authenticate::unchecked(self.verifier.as_deref());
        self.process(user, raw, received_at, auth).await
    }

    async fn process_arrival(
        &self,
        user: UserContext,
        raw: Arc<Vec<u8>>,
        arrival: &Arrival,
    ) -> Result<ProcessedMail, ProcessingError> {
        let auth = authenticate::results(self.verifier.as_deref(), &raw, arrival).await;
        self.process(user, raw, arrival.received_at, auth).await
    }
}

impl ComponentPipeline {
    /// Runs the chain on `raw`, `auth` being our Authentication-Results value.
    async fn process(
        &self,
        user: UserContext,
        raw: Arc<Vec<u8>>,
        received_at: DateTime<Utc>,
        auth: String,
    ) -> Result<ProcessedMail, ProcessingError> {
        let chain = self.slots.snapshot();
        let engine = self.engine.clone();
        // One snapshot of the user's tags, settings and contacts for the whole chain.
        let user = user.memoized();
        let work =
            move || blocking_allowed(|| run(&engine, &chain, &user, &raw, received_at, auth));
        // A delivery worker calls from a thread made for blocking work (inside
        // `blocking_allowed`): the chain runs right there, as a second hand-off to
        // the blocking pool would only add two thread wake-ups to every delivery
        // (`caliopen-bench chain`). `block_in_place` leaves the runtime's context so
        // that host calls may wait for core; only a multi-thread runtime allows it.
        if may_block()
            && tokio::runtime::Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread
        {
            return tokio::task::block_in_place(work);
        }
        // Otherwise components run on a blocking thread and their host calls wait for
        // core there, so the embedded store may read on it rather than hand off again.
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ProcessingError::Transient {
                stage: "runtime".into(),
                reason: format!("processing task failed: {e}"),
            })?
    }
}

/// What the policy of `component` makes of a failure.
fn failure(component: &LoadedComponent, error: &InvokeError) -> ProcessingError {
    let stage = format!("{} ({})", component.manifest.slot, component.manifest);
    let reason = error.to_string();
    tracing::warn!(component = %component.manifest, kind = error.kind(), %reason, "component failed");
    match component.manifest.policy.on_failure {
        OnFailure::Quarantine => ProcessingError::Permanent { stage, reason },
        OnFailure::Retry | OnFailure::Skip => ProcessingError::Transient { stage, reason },
    }
}

fn missing(slot: &str) -> ProcessingError {
    ProcessingError::Transient {
        stage: slot.into(),
        reason: format!("no component is deployed in slot `{slot}`"),
    }
}

fn run(
    engine: &WasmEngine,
    chain: &Chain,
    user: &UserContext,
    raw: &[u8],
    received_at: DateTime<Utc>,
    auth: String,
) -> Result<ProcessedMail, ProcessingError> {
    let parser = chain
        .parser
        .as_ref()
        .ok_or_else(|| missing("parser:email"))?;
    let broker = chain
        .broker
        .as_ref()
        .ok_or_else(|| missing("broker:email"))?;
    let mut parsed = parser
        .parse(engine, raw)
        .0
        .map_err(|e| failure(parser, &e))?;
    authenticate::insert(&mut parsed, auth);
    let message = broker
        .inbound(
            engine,
            user.clone(),
            &parsed,
            received_at.timestamp_millis(),
        )
        .0
        .map_err(|e| failure(broker, &e))?;
    let (message, verdict) = qualify(engine, chain, user, message)?;
    Ok(ProcessedMail {
        message: convert::inbound_message(message),
        verdict,
    })
}

/// Qualifiers see at most this much of each body: the first mebibyte, as spam
/// filters look at the start of large mail only. Every qualifier's copy of a body
/// at the size limit would otherwise outgrow its memory.
pub const QUALIFIER_BODY_BYTES: usize = 1 << 20;

/// Cuts `body` to [`QUALIFIER_BODY_BYTES`] at a character boundary; answers the
/// whole body when it was cut.
fn cut_for_qualifiers(body: &mut Option<String>) -> Option<String> {
    let text = body.as_ref()?;
    if text.len() <= QUALIFIER_BODY_BYTES {
        return None;
    }
    let mut end = QUALIFIER_BODY_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = text[..end].to_owned();
    body.replace(cut)
}

/// Runs the qualifier chain; each qualifier sees the verdicts merged so far.
fn qualify(
    engine: &WasmEngine,
    chain: &Chain,
    user: &UserContext,
    mut message: wit::Message,
) -> Result<(wit::Message, MergedVerdict), ProcessingError> {
    let whole_plain = cut_for_qualifiers(&mut message.body_plain);
    let whole_html = cut_for_qualifiers(&mut message.body_html);
    for (part, whole) in [("plain", &whole_plain), ("HTML", &whole_html)] {
        if let Some(whole) = whole {
            message.problems.push(format!(
                "the {part} body has {} bytes: qualifiers saw its first {QUALIFIER_BODY_BYTES}",
                whole.len()
            ));
        }
    }
    let mut view = wit::MessageView {
        message,
        tags: Vec::new(),
        pi: None,
        importance_level: 0,
        is_spam: false,
        spam_score: None,
    };
    let mut merged = MergedVerdict::default();
    for slot in &chain.qualifiers {
        let q = &slot.active;
        let name = q.manifest.to_string();
        let verdict = q
            .qualify(engine, user.clone(), &view)
            .0
            .and_then(|v| check_verdict(&v).map(|()| v));
        if let Some((candidate, stats)) = &slot.shadow {
            let theirs = candidate
                .qualify(engine, user.clone(), &view)
                .0
                .and_then(|v| check_verdict(&v).map(|()| v));
            let outcome = match (&verdict, theirs) {
                (Ok(ours), Ok(theirs)) => Ok(verdict_difference(ours, &theirs)),
                (Err(_), Ok(_)) => Ok(Some(
                    "the active version failed, the candidate did not".into(),
                )),
                (_, Err(e)) => Err(e.to_string()),
            };
            stats.record(&name, &candidate.manifest.to_string(), outcome);
        }
        let verdict = match verdict {
            Ok(v) => v,
            Err(e) if q.manifest.policy.on_failure == OnFailure::Skip => {
                tracing::warn!(component = %name, kind = e.kind(), error = %e, "qualifier skipped");
                merged.not_qualified_by.push(name);
                continue;
            }
            Err(e) => return Err(failure(q, &e)),
        };
        if let Some(pi) = verdict.pi {
            view.pi = Some(pi);
        }
        if let Some(level) = verdict.importance_level {
            view.importance_level = level;
        }
        if let Some(spam) = verdict.is_spam {
            view.is_spam = spam;
        }
        if verdict.spam_score.is_some() {
            view.spam_score = verdict.spam_score;
        }
        for tag in verdict.add_tags {
            let tag = tag.trim().to_lowercase();
            if !tag.is_empty() && !view.tags.contains(&tag) {
                view.tags.push(tag);
            }
        }
        merged
            .rules
            .extend(verdict.rules.into_iter().map(|r| RuleHit {
                qualifier: q.manifest.name.clone(),
                rule: r.rule,
                contribution: r.contribution,
                detail: r.detail,
            }));
        merged.qualified_by.push(name);
    }
    merged.pi = view.pi.map(convert::pi);
    merged.importance_level = view.importance_level;
    merged.is_spam = view.is_spam;
    merged.spam_score = view.spam_score;
    merged.tags = view.tags;
    let mut message = view.message;
    if whole_plain.is_some() {
        message.body_plain = whole_plain;
    }
    if whole_html.is_some() {
        message.body_html = whole_html;
    }
    Ok((message, merged))
}

/// What differs between two verdicts, in words; none when they agree.
fn verdict_difference(a: &wit::Verdict, b: &wit::Verdict) -> Option<String> {
    let mut diffs = Vec::new();
    if a.pi != b.pi {
        diffs.push(format!(
            "pi {:?} → {:?}",
            a.pi.map(|p| (p.technic, p.comportment, p.context)),
            b.pi.map(|p| (p.technic, p.comportment, p.context))
        ));
    }
    if a.importance_level != b.importance_level {
        diffs.push(format!(
            "importance {:?} → {:?}",
            a.importance_level, b.importance_level
        ));
    }
    if a.is_spam != b.is_spam {
        diffs.push(format!("spam {:?} → {:?}", a.is_spam, b.is_spam));
    }
    let (mut ta, mut tb) = (a.add_tags.clone(), b.add_tags.clone());
    ta.sort();
    tb.sort();
    if ta != tb {
        diffs.push(format!("tags {ta:?} → {tb:?}"));
    }
    let rules = |v: &wit::Verdict| {
        let mut r: Vec<String> = v.rules.iter().map(|r| r.rule.clone()).collect();
        r.sort();
        r
    };
    if rules(a) != rules(b) {
        diffs.push(format!("rules {:?} → {:?}", rules(a), rules(b)));
    }
    (!diffs.is_empty()).then(|| diffs.join("; "))
}

/// A verdict outside the contract is the component's failure, not the message's.
fn check_verdict(v: &wit::Verdict) -> Result<(), InvokeError> {
    if let Some(level) = v.importance_level
        && !(-10..=10).contains(&level)
    {
        return Err(InvokeError::InvalidOutput(format!(
            "importance level {level} is outside -10..10"
        )));
    }
    if let Some(pi) = v.pi
        && (pi.technic > 100 || pi.comportment > 100 || pi.context > 100)
    {
        return Err(InvokeError::InvalidOutput(
            "privacy index scores must be 0..100".into(),
        ));
    }
    if v.add_tags.len() > 64 || v.rules.len() > 256 {
        return Err(InvokeError::InvalidOutput(
            "too many tags or rules in one verdict".into(),
        ));
    }
    Ok(())
}
