//! The `chain` section: the figures of a run and what they imply for the target.

use std::time::Duration;

use super::{CALLS, TARGET_RATIO};

/// What one run of the scenario measured.
pub(super) struct Figures {
    pub(super) messages: usize,
    pub(super) native: Duration,
    pub(super) wasm: Duration,
    /// A pass of [`CALLS`] idle calls per message, over `floor_messages` messages.
    pub(super) floor: Duration,
    pub(super) floor_messages: usize,
    pub(super) passes: usize,
    pub(super) native_stages: [Duration; 2],
    pub(super) per_component: Vec<(String, u64, f64)>,
    pub(super) native_failed: usize,
    pub(super) wasm_failed: usize,
}

impl Figures {
    pub(super) fn body(&self) -> String {
        use std::fmt::Write as _;
        let n = self.messages as f64;
        let per = |d: Duration| d.as_secs_f64() * 1e6 / n;
        let ratio = self.native.as_secs_f64() / self.wasm.as_secs_f64().max(f64::MIN_POSITIVE);
        let mut out = String::new();
        let _ = writeln!(out, "| | native | Wasm (as served) |\n|---|---|---|");
        let _ = writeln!(
            out,
            "| median pass over {} messages | {:.0} ms | {:.0} ms |",
            self.messages,
            self.native.as_secs_f64() * 1e3,
            self.wasm.as_secs_f64() * 1e3
        );
        let _ = writeln!(
            out,
            "| per message | {:.0} µs | {:.0} µs |",
            per(self.native),
            per(self.wasm)
        );
        let _ = writeln!(
            out,
            "| messages/s on one thread | {:.0} | {:.0} |",
            n / self.native.as_secs_f64().max(f64::MIN_POSITIVE),
            n / self.wasm.as_secs_f64().max(f64::MIN_POSITIVE)
        );
        let _ = writeln!(
            out,
            "| messages the parser refused | {} | {} |",
            self.native_failed, self.wasm_failed
        );
        let verdict = if ratio >= TARGET_RATIO {
            "met"
        } else {
            "not met"
        };
        let _ = writeln!(
            out,
            "\n**Wasm / native throughput: {ratio:.2}** (target ≥ {TARGET_RATIO}: **{verdict}**).\n"
        );
        let passes = self.passes as f64;
        let stages = self.native_stages;
        let _ = writeln!(
            out,
            "Where the time goes, mean per message over the measured passes:\n\n\
             - native: parse + broker {:.0} µs, four qualifiers {:.0} µs;",
            per(stages[0]) / passes,
            per(stages[1]) / passes
        );
        for (name, calls, secs) in &self.per_component {
            let _ = writeln!(
                out,
                "- Wasm `{name}`: {:.0} µs per call ({calls} calls; instantiation, limits, host calls and the instance's teardown included);",
                secs * 1e6 / (*calls).max(1) as f64
            );
        }
        let in_calls: f64 = self
            .per_component
            .iter()
            .map(|(_, calls, secs)| secs * 1e6 / (*calls).max(1) as f64)
            .sum();
        let whole = per(self.wasm);
        let _ = writeln!(
            out,
            "\nThe six calls take {in_calls:.0} µs of the {whole:.0} µs per message; the other {:.0} µs go to \
             taking the slots' and user's snapshots, merging the verdicts, and the conversion to core's types.",
            (whole - in_calls).max(0.0)
        );
        let fixed = self.floor.as_secs_f64() * 1e6 / self.floor_messages.max(1) as f64;
        let native = per(self.native);
        let (ceiling, allowed) = bound(native, fixed);
        let _ = writeln!(
            out,
            "\n**The fixed cost of a call**: the test qualifier, which does no work of its own (it reads two \
             settings, logs one line and returns one tag), called {CALLS} times per message with each message's view as the broker \
             made it: {:.1} µs per call (median pass, alternated with the passes above: instantiation, lowering \
             the view, three host calls, lifting the verdict, the instance's reset). {CALLS} such calls make {fixed:.0} µs \
             per message, so even if the guests' own code ran in Wasm as fast as natively, the chain would take \
             {:.0} µs per message or more: **a ratio of at most {:.2}**. A ratio of {TARGET_RATIO} would leave {:.1} µs \
             per call for all of that.",
            fixed / CALLS as f64,
            native + fixed,
            ceiling,
            allowed
        );
        let _ = writeln!(
            out,
            "\nThe Wasm side is `ComponentPipeline::process_inbound`, the path of every delivery, called as a delivery \
             worker calls it (from a blocking thread, where the chain runs without another hand-off; the worker's \
             own hand-off, once per delivery with the storing, belongs to ingest): it adds to the \
             guests' work a fresh instance per call, the epoch deadline, host calls into core (the user's addresses \
             and tags, one contact lookup per participant, in the embedded store) and the conversion of the result \
             to core's types. The native side runs the same guest crates with those host answers given up front."
        );
        out
    }
}

/// Given the native chain's time per message and the fixed cost of its calls per
/// message (both in µs): the best ratio the Wasm chain could reach if the guests' own
/// code ran as fast as native code, and the fixed cost per call that [`TARGET_RATIO`]
/// would allow.
fn bound(native: f64, fixed: f64) -> (f64, f64) {
    let ceiling = native / (native + fixed).max(f64::MIN_POSITIVE);
    let allowed = native * (1.0 / TARGET_RATIO - 1.0) / CALLS as f64;
    (ceiling, allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(native_us: u64, wasm_us: u64, idle_call_us: u64) -> Figures {
        let messages = 100;
        Figures {
            messages,
            native: Duration::from_micros(native_us * messages as u64),
            wasm: Duration::from_micros(wasm_us * messages as u64),
            floor: Duration::from_micros(idle_call_us * CALLS as u64 * messages as u64),
            floor_messages: messages,
            passes: 1,
            native_stages: [Duration::ZERO; 2],
            per_component: Vec::new(),
            native_failed: 0,
            wasm_failed: 0,
        }
    }

    #[test]
    fn six_idle_calls_bound_the_ratio() {
        // 225 µs natively and six calls of 30 µs: at most 225 / 405.
        let (ceiling, allowed) = bound(225.0, 180.0);
        assert!((ceiling - 0.5556).abs() < 1e-3, "{ceiling}");
        // 0.8 allows 225 * 0.25 = 56.25 µs for the six calls.
        assert!((allowed - 9.375).abs() < 1e-9, "{allowed}");
    }

    #[test]
    fn the_section_states_the_ratio_and_its_bound() {
        let body = figures(225, 870, 30).body();
        for expected in [
            "**Wasm / native throughput: 0.26** (target ≥ 0.8: **not met**)",
            "30.0 µs per call",
            "6 such calls make 180 µs",
            "the chain would take 405 µs per message or more: **a ratio of at most 0.56**",
            "A ratio of 0.8 would leave 9.4 µs per call",
        ] {
            assert!(body.contains(expected), "`{expected}` not in:\n{body}");
        }
        let met = figures(225, 250, 1).body();
        assert!(
            met.contains("**Wasm / native throughput: 0.90** (target ≥ 0.8: **met**)"),
            "{met}"
        );
    }
}
