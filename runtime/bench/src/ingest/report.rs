//! The `ingest` section: one column per server, the ratio, the product target, and for
//! Caliopen the figures that say where its time goes.

use std::fmt::Write as _;

use super::{IngestArgs, Outcome, Target};
use crate::stats::{ms, rate};

/// The product target this scenario reports against (never asserted).
const TARGET_RATE: f64 = 3000.0;

pub fn settings(args: &IngestArgs, outcomes: &[Outcome]) -> Vec<(String, String)> {
    let mut s = vec![(
        "load".to_owned(),
        format!(
            "{} LMTP connections (one run each), {} transactions per run, {} recipient(s) each among {} mailboxes, MAIL/RCPT/DATA pipelined",
            args.connections
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" and "),
            args.messages,
            args.recipients,
            args.mailboxes
        ),
    )];
    if let Some(fs) = crate::report::output(
        "df",
        &[
            "--output=fstype,source",
            &std::env::temp_dir().to_string_lossy(),
        ],
    ) {
        let place = args.work_dir.as_ref().map_or_else(
            || std::env::temp_dir().display().to_string(),
            |d| d.display().to_string(),
        );
        let fs = fs
            .lines()
            .last()
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" on ");
        s.push(("data directories".to_owned(), format!("{place} ({fs})")));
    }
    if outcomes.iter().any(|o| o.target == Some(Target::Caliopen)) {
        s.push((
            "caliopen settings".to_owned(),
            "`configs/caliopen.toml` as committed; data dir, listeners and default domain overridden".to_owned(),
        ));
    }
    if let Some(o) = outcomes.iter().find(|o| !o.settings.is_empty()) {
        let list: Vec<String> = o
            .settings
            .iter()
            .map(|(k, v)| format!("`{k} = {v}`"))
            .collect();
        s.push((
            "dovecot settings (doveconf)".to_owned(),
            format!(
                "{} (Dovecot's defaults but for the listener, paths and users)",
                list.join(", ")
            ),
        ));
    }
    s
}

pub fn body(args: &IngestArgs, outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let names: Vec<String> = outcomes
        .iter()
        .map(|o| format!("{} ×{}", name(o), o.connections))
        .collect();
    let _ = writeln!(out, "| | {} |", names.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(outcomes.len()));
    let row = |out: &mut String, label: &str, f: &dyn Fn(&Outcome) -> String| {
        let cells: Vec<String> = outcomes.iter().map(f).collect();
        let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
    };
    row(
        &mut out,
        "messages acknowledged (every recipient 250)",
        &|o| format!("{} / {}", o.load.messages_accepted, args.messages),
    );
    row(
        &mut out,
        "**stored-and-indexed rate** (msg/s, headline)",
        &|o| {
            if o.accept_only {
                "not measured (`--accept-only`)".into()
            } else {
                format!("**{:.0}**", final_rate(o))
            }
        },
    );
    row(
        &mut out,
        "stored rate (msg/s, until no delivery is pending)",
        &|o| format!("{:.0}", stored_rate(o)),
    );
    row(
        &mut out,
        "acknowledged rate (msg/s, until the last 250)",
        &|o| format!("{:.0}", rate(o.load.messages_accepted, o.load.elapsed)),
    );
    row(&mut out, "time to last 250 / stored / indexed", &|o| {
        format!(
            "{:.1} s / {:.1} s / {}",
            o.load.elapsed.as_secs_f64(),
            o.stored_after.as_secs_f64(),
            o.indexed_after
                .map_or("—".into(), |d| format!("{:.1} s", d.as_secs_f64()))
        )
    });
    row(
        &mut out,
        "250 latency after the final dot: p50 / p99 / max",
        &|o| {
            let l = &o.load.latencies;
            format!(
                "{} / {} / {}",
                ms(l.percentile(50.0)),
                ms(l.percentile(99.0)),
                ms(l.max())
            )
        },
    );
    row(
        &mut out,
        "throughput in (MB/s of message data, until the last 250)",
        &|o| format!("{:.1}", rate(o.load.bytes, o.load.elapsed) / 1e6),
    );
    row(&mut out, "server CPU time per message (user+sys)", &|o| {
        format!(
            "{:.2} ms",
            1000.0 * o.server_cpu.as_secs_f64() / o.load.messages_accepted.max(1) as f64
        )
    });
    row(
        &mut out,
        "machine CPU busy / iowait over the run (% of all CPUs)",
        &|o| format!("{:.0} % / {:.0} %", o.machine_cpu.0, o.machine_cpu.1),
    );
    row(
        &mut out,
        "backlog pending at the last 250 (peak)",
        &|o| match (o.backlog_at_end, o.peak_backlog) {
            (Some(end), Some(peak)) => format!("{end} ({peak})"),
            _ => "none: 250 = stored".into(),
        },
    );
    row(&mut out, "quarantined", &|o| {
        o.quarantined.map_or("—".into(), |q| q.to_string())
    });
    row(
        &mut out,
        "peak RSS (Dovecot: sum over its processes)",
        &|o| o.peak_rss_mib.map_or("—".into(), |m| format!("{m:.0} MiB")),
    );
    row(&mut out, "unexpected replies", &|o| failures(o));
    row(&mut out, "stored check", &|o| o.stored_check.clone());

    out.push('\n');
    let mut concurrencies: Vec<usize> = outcomes.iter().map(|o| o.connections).collect();
    concurrencies.dedup();
    for n in concurrencies {
        let find = |t| {
            outcomes
                .iter()
                .find(|o| o.target == Some(t) && o.connections == n)
        };
        let (caliopen, dovecot) = (find(Target::Caliopen), find(Target::Dovecot));
        if let (Some(c), Some(d)) = (caliopen, dovecot)
            && !c.accept_only
        {
            let _ = writeln!(
                out,
                "- {n} connections: **Caliopen / Dovecot = {:.2}×** (stored and indexed against Dovecot's 250s), \
                 {:.2}× acknowledged rate.",
                final_rate(c) / final_rate(d).max(f64::MIN_POSITIVE),
                rate(c.load.messages_accepted, c.load.elapsed)
                    / rate(d.load.messages_accepted, d.load.elapsed).max(f64::MIN_POSITIVE)
            );
        }
        if let Some(c) = caliopen
            && !c.accept_only
        {
            let mut misses = Vec::new();
            if let Some(d) = dovecot
                && final_rate(c) < final_rate(d)
            {
                misses.push("below Dovecot's rate");
            }
            if final_rate(c) < TARGET_RATE {
                misses.push("below 3,000 msg/s");
            }
            let verdict = if misses.is_empty() {
                "met".to_owned()
            } else {
                format!("not met ({})", misses.join(", "))
            };
            let _ = writeln!(
                out,
                "- {n} connections: product target (≥ Dovecot and ≥ 3,000 msg/s, reported, not asserted): **{verdict}**."
            );
            if final_rate(c) < TARGET_RATE {
                let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
                let _ = writeln!(
                    out,
                    "- {n} connections: 3,000 msg/s on this machine's {cpus} CPUs leaves at most {:.2} ms of CPU per \
                     message for all the server does (LMTP, the durable accept, the component chain, storing, \
                     indexing); it used {:.2} ms.",
                    1000.0 * cpus as f64 / TARGET_RATE,
                    1000.0 * c.server_cpu.as_secs_f64() / c.load.messages_accepted.max(1) as f64
                );
            }
        }
    }
    out.push('\n');
    for c in outcomes
        .iter()
        .filter(|o| o.target == Some(Target::Caliopen))
    {
        let _ = writeln!(out, "{}", components(c));
    }
    let _ = writeln!(
        out,
        "Caliopen answers 250 once the raw mail and a pending delivery are durable; its \"stored\" clock stops when \
         `/metrics` reports `caliopen_deliveries_pending 0` (parsed, brokered, qualified by the Wasm chain, stored with \
         its discussion and index-outbox entry) and its \"indexed\" clock when `caliopen_index_backlog` is 0 too \
         (applied to the full-text index). Dovecot's clock stops at its last 250, which it sends once the mail is \
         written to the maildir, so the ratio compares Caliopen stored-and-indexed with Dovecot delivered."
    );
    out
}

fn name(o: &Outcome) -> &'static str {
    match o.target {
        Some(Target::Caliopen) => "Caliopen",
        Some(Target::Dovecot) => "Dovecot",
        None => "?",
    }
}

fn stored_rate(o: &Outcome) -> f64 {
    rate(o.load.messages_accepted, o.stored_after)
}

/// Until stored and indexed for Caliopen, until the last 250 for Dovecot.
fn final_rate(o: &Outcome) -> f64 {
    rate(
        o.load.messages_accepted,
        o.indexed_after.unwrap_or(o.stored_after),
    )
}

fn failures(o: &Outcome) -> String {
    if o.load.failures.is_empty() {
        return "none".into();
    }
    o.load
        .failures
        .values()
        .map(|(n, sample)| format!("{n}× `{}`", sample.replace('`', "'")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Where Caliopen's processing time went, from its component call histograms.
fn components(c: &Outcome) -> String {
    if c.components.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "Caliopen ×{}: component calls (from `caliopen_component_call_seconds`, wall time, instantiation included):\n\n",
        c.connections
    );
    let mut total = 0.0;
    for (name, calls, seconds) in &c.components {
        total += seconds;
        let mean = if *calls > 0 {
            seconds / *calls as f64
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "- `{name}`: {calls} calls, {seconds:.1} s in all, mean {:.2} ms",
            mean * 1000.0
        );
    }
    let _ = writeln!(
        out,
        "- all components: {total:.1} s of wall time over a {:.1} s run ({:.2} component-seconds per second).",
        c.stored_after.as_secs_f64(),
        total / c.stored_after.as_secs_f64().max(f64::MIN_POSITIVE)
    );
    out
}
