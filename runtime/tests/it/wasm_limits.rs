//! Hostile parsers written by hand (WebAssembly text, given the parser world's
//! types by `wit-component`), each trying to make the host spend memory that its
//! manifest does not grant: several memories in one instance, a log line of its
//! whole memory, a result that names one string hundreds of times. The host's
//! memory is read from /proc (peak resident set, reset before each attack).

use crate::common;

use std::sync::Arc;

use caliopen_runtime::wasm::{EngineSettings, InvokeError, LoadedComponent, Manifest, WasmEngine};

const MIB: usize = 1 << 20;
/// Where the parsers below answer from: a zeroed, 8-aligned area, which reads as
/// `ok(parsed-mail)` with every list empty and every option none.
const RET: usize = 1024;

/// Attacks that measure the process's peak memory run one at a time.
static MEASURE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A parser component from the body of a core module that exports `parse` (its
/// canonical ABI: `(raw_ptr, raw_len) -> result area`), `memory` and `cabi_realloc`.
fn parser_component(module_body: &str) -> Vec<u8> {
    let wat = format!(
        r#"(module
  (import "caliopen:platform/log@0.1.0" "log" (func $log (param i32 i32 i32)))
  (global $heap (mut i32) (i32.const 65536))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and
      (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
      (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size $mem) (i32.const 65536)))
      (then (drop (memory.grow $mem (i32.add (i32.const 1)
        (i32.shr_u (i32.sub (global.get $heap) (i32.mul (memory.size $mem) (i32.const 65536)))
          (i32.const 16)))))))
    (local.get $p))
  {module_body}
)"#
    );
    let mut module = wat::parse_str(&wat).expect("the hostile module is valid WebAssembly text");
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve.push_dir(common::root().join("wit/0.1.0")).unwrap();
    let world = resolve.select_world(&[package], Some("parser")).unwrap();
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .unwrap();
    wit_component::ComponentEncoder::default()
        .module(&module)
        .unwrap()
        .validate(true)
        .encode()
        .unwrap()
}

fn manifest(memory_mib: u32, max_output_kib: u32) -> Manifest {
    Manifest::parse(&format!(
        "name = \"hostile-parser\"\nversion = \"1.0.0\"\nworld = \"parser\"\nslot = \"parser:email\"\n\
         grants = [\"log\"]\n[limits]\ndeadline_ms = 30000\nmemory_mib = {memory_mib}\n\
         max_output_kib = {max_output_kib}\nmax_log_lines = 100\n[policy]\non_failure = \"quarantine\"\n"
    ))
    .unwrap()
}

/// Loads `wasm` and calls its `parse` once on a blocking thread.
async fn parse_once(
    engine: Arc<WasmEngine>,
    manifest: Manifest,
    wasm: Vec<u8>,
) -> Result<(), InvokeError> {
    tokio::task::spawn_blocking(move || {
        let (parser, _) = LoadedComponent::load(&engine, manifest, &wasm, None).unwrap();
        parser
            .parse(&engine, b"From: a@example.org\r\n\r\nhi\r\n")
            .0
            .map(drop)
    })
    .await
    .unwrap()
}

fn status_kib(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// How much the process's peak resident set grew above its resident set while
/// `attack` ran, in MiB.
async fn peak_growth_mib(attack: impl std::future::Future<Output = ()>) -> usize {
    // 5: reset the peak resident set (VmHWM) to the current one.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_kib("VmRSS:");
    attack.await;
    status_kib("VmHWM:").saturating_sub(before) / 1024
}

#[tokio::test(flavor = "multi_thread")]
async fn the_memories_of_one_instance_share_its_memory_limit() {
    // Three memories of 24 MiB each, under a limit of 64 MiB: each alone fits, the
    // three together do not. (One module with several memories needs on-demand
    // allocation: the pool gives a module one memory.)
    let wasm = parser_component(&format!(
        r#"(memory $mem (export "memory") 384)
  (memory $second 384)
  (memory $third 384)
  (func (export "parse") (param i32 i32) (result i32)
    (i32.store8 $second (i32.const 0) (i32.const 1))
    (i32.store8 $third (i32.const 0) (i32.const 1))
    (i32.const {RET}))"#
    ));
    let engine = Arc::new(
        WasmEngine::new(&EngineSettings {
            pooling: false,
            ..EngineSettings::default()
        })
        .unwrap(),
    );
    let outcome = parse_once(engine.clone(), manifest(64, 1024), wasm.clone()).await;
    assert!(
        matches!(outcome, Err(InvokeError::MemoryLimit { limit_mib: 64 })),
        "{outcome:?}"
    );
    // The same component within a limit that holds its three memories runs.
    parse_once(engine, manifest(80, 1024), wasm).await.unwrap();
}

/// A parser that logs `times` lines of `line` zero bytes (valid UTF-8) from a
/// memory of `pages` pages.
fn logging_parser(pages: usize, line: usize, times: u32) -> Vec<u8> {
    parser_component(&format!(
        r#"(memory $mem (export "memory") {pages})
  (func (export "parse") (param i32 i32) (result i32)
    (local $n i32)
    (loop $again
      (call $log (i32.const 2) (i32.const {RET}) (i32.const {line}))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $n) (i32.const {times}))))
    (i32.const {RET}))"#
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_line_of_the_guests_whole_memory_is_refused_before_it_is_copied() {
    let _one_at_a_time = MEASURE.lock().await;
    let engine = Arc::new(WasmEngine::new(&EngineSettings::default()).unwrap());
    // A long line within the transfer budget is cut and logged: the call goes on.
    let fits = logging_parser(64, MIB, 4);
    parse_once(engine.clone(), manifest(128, 1024), fits)
        .await
        .unwrap();
    // 96 MiB of memory handed over whole, eight times: refused before any copy.
    let whole = logging_parser(1536, 96 * MIB - RET, 8);
    let mut outcome = None;
    let growth = peak_growth_mib(async {
        outcome = Some(parse_once(engine, manifest(128, 1024), whole).await);
    })
    .await;
    let outcome = outcome.unwrap();
    assert!(
        matches!(outcome, Err(InvokeError::InvalidOutput(_))),
        "{outcome:?}"
    );
    assert!(
        growth < 48,
        "the host's peak memory grew by {growth} MiB for a 96 MiB log line"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_result_naming_one_string_many_times_stops_at_the_output_cap() {
    let _one_at_a_time = MEASURE.lock().await;
    // `headers` (the first field of parsed-mail, right after the result's 8-byte
    // aligned discriminant) lists 512 headers whose value is the same 1 MiB
    // string: 512 MiB for the host to copy, from 2 MiB of guest memory.
    let (list, count, value, value_len) = (4096, 512, MIB, MIB);
    let wasm = parser_component(&format!(
        r#"(memory $mem (export "memory") 40)
  (func (export "parse") (param i32 i32) (result i32)
    (local $i i32)
    (local $entry i32)
    (loop $fill
      (local.set $entry (i32.add (i32.const {list}) (i32.mul (local.get $i) (i32.const 16))))
      (i32.store offset=8 (local.get $entry) (i32.const {value}))
      (i32.store offset=12 (local.get $entry) (i32.const {value_len}))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const {count}))))
    (i32.store offset=8 (i32.const {RET}) (i32.const {list}))
    (i32.store offset=12 (i32.const {RET}) (i32.const {count}))
    (i32.const {RET}))"#
    ));
    let engine = Arc::new(WasmEngine::new(&EngineSettings::default()).unwrap());
    let mut outcome = None;
    let growth = peak_growth_mib(async {
        outcome = Some(parse_once(engine, manifest(64, 1024), wasm).await);
    })
    .await;
    let outcome = outcome.unwrap();
    assert!(
        matches!(outcome, Err(InvokeError::InvalidOutput(_))),
        "{outcome:?}"
    );
    assert!(
        growth < 48,
        "the host's peak memory grew by {growth} MiB lifting a 1 MiB-capped output"
    );
}
