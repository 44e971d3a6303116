//! Loads the email parser component built by `cargo xtask components` and calls it.

use crate::common;

use std::sync::Arc;

use caliopen_runtime::wasm::{CompileSource, EngineSettings, LoadedComponent, WasmEngine};

const MAIL: &[u8] = b"From: Alice Martin <alice@example.org>\r\n\
To: Bob <bob@caliopen.local>\r\n\
Subject: =?utf-8?q?Caf=C3=A9_tomorrow?=\r\n\
Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n\
Message-ID: <m1@example.org>\r\n\
\r\n\
See you at noon.\r\n";

#[tokio::test(flavor = "multi_thread")]
async fn parser_component_parses_a_mail() {
    let engine = Arc::new(WasmEngine::new(&EngineSettings::default()).unwrap());
    let wasm = common::component("caliopen_email_parser");
    let cache = tempfile::tempdir().unwrap();
    let (parser, how) = LoadedComponent::load(
        &engine,
        common::manifest("email-parser"),
        &wasm,
        Some(cache.path()),
    )
    .unwrap();
    assert_eq!(how, CompileSource::Compiled);

    let e = engine.clone();
    let parsed = tokio::task::spawn_blocking(move || parser.parse(&e, MAIL).0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(parsed.subject.as_deref(), Some("Café tomorrow"));
    assert_eq!(parsed.from.len(), 1);
    assert_eq!(parsed.from[0].address, "alice@example.org");
    assert_eq!(parsed.from[0].name, "Alice Martin");
    assert_eq!(parsed.to[0].address, "bob@caliopen.local");
    assert_eq!(parsed.message_id.as_deref(), Some("m1@example.org"));
    assert_eq!(parsed.date, Some(1_795_510_800_000));
    assert_eq!(
        parsed.body_plain.as_deref().map(str::trim_end),
        Some("See you at noon.")
    );
    assert!(parsed.body_html.is_none());

    // A second load of the same bytes comes from the precompiled artefact.
    let (_, how) = LoadedComponent::load(
        &engine,
        common::manifest("email-parser"),
        &wasm,
        Some(cache.path()),
    )
    .unwrap();
    assert_eq!(how, CompileSource::Cache);
}
