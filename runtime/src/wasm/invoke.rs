//! One call into a component: a fresh store from the version's `InstancePre`, the
//! manifest's limits (memory, epoch deadline, fuel, log lines), the call, the
//! output cap, and a typed error when anything goes wrong.

use std::time::Duration;

use caliopen_core::context::UserContext;
use wasmtime::{Store, Trap, WasmBacktrace};

use super::InvokeError;
use super::bindings::types::{ComponentError, Draft, Message, MessageView, ParsedMail, Verdict};
use super::component::{LoadedComponent, WorldPre};
use super::engine::WasmEngine;
use crate::host::HostState;

/// Per-call measurements, for metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallStats {
    pub memory_peak: usize,
    pub fuel_used: u64,
    pub logs_dropped: u32,
}

impl LoadedComponent {
    fn store(&self, engine: &WasmEngine, user: Option<UserContext>) -> Store<HostState> {
        let limits = &self.manifest.limits;
        let state = HostState::new(
            self.label.clone(),
            user,
            self.config.clone(),
            limits.memory_mib as usize * 1024 * 1024,
            limits.max_log_lines,
            tokio::runtime::Handle::current(),
        );
        let mut store = Store::new(engine.engine(), state);
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(engine.ticks_for(Duration::from_millis(limits.deadline_ms)));
        store.epoch_deadline_trap();
        // Every transfer from the guest to the host (the arguments of one host call,
        // the call's result) is counted by Wasmtime in bytes before it is copied:
        // a result that names the same string a million times stops at this budget
        // rather than at the host's memory.
        store.set_hostcall_fuel(lift_budget(limits.max_output_kib));
        if limits.fuel > 0 {
            // Fails only when the engine does not count fuel; then the budget is moot.
            let _ = store.set_fuel(limits.fuel);
        }
        store
    }

    /// Runs `f` on a fresh instance and turns every failure into an [`InvokeError`].
    fn call<R>(
        &self,
        engine: &WasmEngine,
        user: Option<UserContext>,
        f: impl FnOnce(&WorldPre, &mut Store<HostState>) -> wasmtime::Result<Result<R, ComponentError>>,
        size: impl FnOnce(&R) -> usize,
    ) -> (Result<R, InvokeError>, CallStats) {
        let _span = tracing::debug_span!(
            "component.call",
            component = &*self.label.name,
            version = &*self.label.version
        )
        .entered();
        let started = std::time::Instant::now();
        let mut store = self.store(engine, user);
        let result = f(&self.pre, &mut store);
        store.data_mut().flush_wasi_output();
        let limits = &self.manifest.limits;
        let stats = CallStats {
            memory_peak: store.data().limiter.peak,
            fuel_used: if limits.fuel > 0 {
                limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0))
            } else {
                0
            },
            logs_dropped: store.data().log_lines_dropped,
        };
        if stats.logs_dropped > 0 {
            tracing::warn!(
                component = &*self.label.name,
                dropped = stats.logs_dropped,
                "log lines over the cap were dropped"
            );
        }
        let outcome = match result {
            Ok(Ok(value)) => {
                let bytes = size(&value);
                let cap = limits.max_output_kib as usize * 1024;
                if bytes > cap {
                    Err(InvokeError::InvalidOutput(format!(
                        "output of {bytes} bytes exceeds the cap of {cap} bytes"
                    )))
                } else {
                    Ok(value)
                }
            }
            Ok(Err(e)) => Err(InvokeError::Component {
                kind: e.kind,
                message: e.message,
            }),
            Err(e) => Err(classify(
                &e,
                &store,
                limits.deadline_ms,
                limits.fuel,
                limits.memory_mib,
            )),
        };
        // Ending the instance (the pooled memory's reset) is part of the call's cost.
        drop(store);
        self.metrics
            .record(started.elapsed(), &stats, outcome.as_ref().err());
        (outcome, stats)
    }

    /// `parser.parse`.
    pub fn parse(
        &self,
        engine: &WasmEngine,
        raw: &[u8],
    ) -> (Result<ParsedMail, InvokeError>, CallStats) {
        self.call(
            engine,
            None,
            |pre, store| {
                let WorldPre::Parser(pre) = pre else {
                    return Err(wrong_world("parser"));
                };
                pre.instantiate_checked(&mut *store)?
                    .call_parse(&mut *store, raw)
            },
            size::parsed,
        )
    }

    /// `read-part` of a parser of world `caliopen:parts/parser@0.1.0` (see
    /// `wit/parts-0.1.0`): leaf part `part_index` of `raw`, decoded. A parser of
    /// the platform's world alone answers the component error `unsupported`.
    pub fn read_part(
        &self,
        engine: &WasmEngine,
        raw: &[u8],
        part_index: u32,
    ) -> (Result<Option<Vec<u8>>, InvokeError>, CallStats) {
        self.call(
            engine,
            None,
            |pre, store| {
                let WorldPre::Parser(pre) = pre else {
                    return Err(wrong_world("parser"));
                };
                let instance = pre.instance_pre().instantiate(&mut *store)?;
                let Ok(read) = instance
                    .get_typed_func::<(&[u8], u32), (Option<Vec<u8>>,)>(&mut *store, "read-part")
                else {
                    return Ok(Err(ComponentError {
                        kind: "unsupported".into(),
                        message: "this parser has no `read-part` export \
                                  (world caliopen:parts/parser@0.1.0)"
                            .into(),
                    }));
                };
                let (part,) = read.call(&mut *store, (raw, part_index))?;
                Ok(Ok(part))
            },
            |part| part.as_ref().map_or(0, Vec::len),
        )
    }

    /// `broker.inbound`.
    pub fn inbound(
        &self,
        engine: &WasmEngine,
        user: UserContext,
        mail: &ParsedMail,
        received_at: i64,
    ) -> (Result<Message, InvokeError>, CallStats) {
        self.call(
            engine,
            Some(user),
            |pre, store| {
                let WorldPre::Broker(pre) = pre else {
                    return Err(wrong_world("broker"));
                };
                pre.instantiate_checked(&mut *store)?
                    .call_inbound(&mut *store, mail, received_at)
            },
            size::message,
        )
    }

    /// `broker.outbound`.
    pub fn outbound(
        &self,
        engine: &WasmEngine,
        user: Option<UserContext>,
        draft: &Draft,
    ) -> (Result<Vec<u8>, InvokeError>, CallStats) {
        self.call(
            engine,
            user,
            |pre, store| {
                let WorldPre::Broker(pre) = pre else {
                    return Err(wrong_world("broker"));
                };
                pre.instantiate_checked(&mut *store)?
                    .call_outbound(&mut *store, draft)
            },
            Vec::len,
        )
    }

    /// `qualifier.qualify`.
    pub fn qualify(
        &self,
        engine: &WasmEngine,
        user: UserContext,
        view: &MessageView,
    ) -> (Result<Verdict, InvokeError>, CallStats) {
        self.call(
            engine,
            Some(user),
            |pre, store| {
                let WorldPre::Qualifier(pre) = pre else {
                    return Err(wrong_world("qualifier"));
                };
                pre.instantiate_checked(&mut *store)?
                    .call_qualify(&mut *store, view)
            },
            size::verdict,
        )
    }
}

/// Bytes a guest may hand the host in one transfer: twice the output cap (the
/// host's copy of a list holds a few machine words per element besides its
/// bytes) and a mebibyte for the structure of small outputs.
pub(crate) fn lift_budget(max_output_kib: u32) -> usize {
    (max_output_kib as usize * 1024)
        .saturating_mul(2)
        .saturating_add(1 << 20)
}

/// How Wasmtime says that a transfer from the guest outgrew [`lift_budget`].
const LIFT_BUDGET_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";

fn wrong_world(expected: &str) -> wasmtime::Error {
    wasmtime::format_err!("this component does not implement the {expected} world")
}

fn classify(
    e: &wasmtime::Error,
    store: &Store<HostState>,
    deadline_ms: u64,
    fuel: u64,
    memory_mib: u32,
) -> InvokeError {
    if store.data().limiter.denied {
        return InvokeError::MemoryLimit {
            limit_mib: u64::from(memory_mib),
        };
    }
    if format!("{e:#}").contains(LIFT_BUDGET_EXHAUSTED) {
        return InvokeError::InvalidOutput(
            "the component handed the host more data than its output cap allows".into(),
        );
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => return InvokeError::DeadlineExceeded { deadline_ms },
        Some(Trap::OutOfFuel) => return InvokeError::OutOfFuel { fuel },
        _ => {}
    }
    let backtrace: Vec<String> = e
        .downcast_ref::<WasmBacktrace>()
        .map(|bt| {
            bt.frames()
                .iter()
                .filter_map(|f| f.func_name().map(str::to_owned))
                .take(16)
                .collect()
        })
        .unwrap_or_default();
    let message = match e.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => format!("{:#}", e)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
    };
    InvokeError::Trap { message, backtrace }
}

/// Approximate sizes of outputs, to enforce `max_output_kib`.
mod size {
    use super::super::bindings::types::{Message, ParsedMail, Verdict};

    pub fn parsed(m: &ParsedMail) -> usize {
        m.headers
            .iter()
            .map(|h| h.name.len() + h.value.len())
            .sum::<usize>()
            + m.body_plain.as_ref().map_or(0, String::len)
            + m.body_html.as_ref().map_or(0, String::len)
            + m.subject.as_ref().map_or(0, String::len)
            + (m.from.len() + m.to.len() + m.cc.len() + m.bcc.len() + m.reply_to.len()) * 64
            + (m.references.len() + m.in_reply_to.len()) * 64
            + m.attachments.len() * 128
            + m.parts.len() * 64
            + m.problems.iter().map(String::len).sum::<usize>()
    }

    pub fn message(m: &Message) -> usize {
        m.subject.len()
            + m.body_plain.as_ref().map_or(0, String::len)
            + m.body_html.as_ref().map_or(0, String::len)
            + m.participants
                .iter()
                .map(|p| p.address.len() + p.label.len() + 16)
                .sum::<usize>()
            + m.attachments.len() * 128
            + m.discussion_key.len()
            + m.problems.iter().map(String::len).sum::<usize>()
            + m.privacy_features
                .extra
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }

    pub fn verdict(v: &Verdict) -> usize {
        v.add_tags.iter().map(String::len).sum::<usize>()
            + v.rules
                .iter()
                .map(|r| r.rule.len() + r.detail.len() + 8)
                .sum::<usize>()
    }
}
