//! A qualifier swapped many times while deliveries run: every delivery completes,
//! each on exactly one version; rollback returns to the previous version; the active
//! version survives a restart of the registry.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::inproc::InProcess;
use common::{component, root};

const GRANTS: &str = "\"log\", \"config\", \"contacts\"";

#[tokio::test(flavor = "multi_thread")]
async fn swapping_a_qualifier_under_load_loses_nothing_and_mixes_no_versions() {
    let node = Arc::new(InProcess::new().await);
    let alice = node.user("alice").await;
    node.deploy_test_qualifier("1.0.0", "retry", GRANTS, "tag = \"v0\"")
        .await
        .unwrap();

    const MAILS: usize = 150;
    const SWAPS: usize = 15;
    let swapper = {
        let node = node.clone();
        tokio::spawn(async move {
            for i in 1..=SWAPS {
                node.deploy_test_qualifier(
                    &format!("1.0.{i}"),
                    "retry",
                    GRANTS,
                    &format!("tag = \"v{i}\""),
                )
                .await
                .unwrap();
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        })
    };
    for i in 0..MAILS {
        node.deliver("alice", &format!("mail {i}")).await;
        if i % 10 == 0 {
            tokio::task::yield_now().await;
        }
    }
    swapper.await.unwrap();
    node.settle(Duration::from_secs(300)).await;

    assert!(
        node.core.quarantined().await.unwrap().is_empty(),
        "nothing failed"
    );
    let messages = node.messages(alice).await;
    assert_eq!(messages.len(), MAILS, "every delivery completed");
    let mut versions_seen = std::collections::BTreeSet::new();
    for m in &messages {
        let tags: Vec<&String> = m.tags.iter().filter(|t| t.starts_with('v')).collect();
        assert_eq!(
            tags.len(),
            1,
            "exactly one version tagged {}: {:?}",
            m.subject,
            m.tags
        );
        let qualified: Vec<&String> = m
            .qualification
            .qualified_by
            .iter()
            .filter(|q| q.starts_with("test-qualifier@"))
            .collect();
        assert_eq!(qualified.len(), 1, "{:?}", m.qualification.qualified_by);
        let version: usize = qualified[0].rsplit('.').next().unwrap().parse().unwrap();
        assert_eq!(
            tags[0],
            &format!("v{version}"),
            "the tag comes from the version that ran"
        );
        versions_seen.insert(version);
    }
    assert!(
        versions_seen.len() > 1,
        "the swaps happened while mail flowed: {versions_seen:?}"
    );

    // Rollback goes back one version; history records it.
    let state = node.registry.rollback("qualifier:test").await.unwrap();
    assert_eq!(
        state.active.as_deref(),
        Some(format!("test-qualifier@1.0.{}", SWAPS - 1).as_str())
    );
    assert_eq!(state.history.last().unwrap().action, "rollback");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployed_version_is_restored_from_the_store() {
    let node = InProcess::new().await;
    node.deploy_test_qualifier("2.0.0", "skip", GRANTS, "tag = \"restored\"")
        .await
        .unwrap();
    // A fresh registry over the same store (what a restart does).
    let slots = Arc::new(caliopen_runtime::pipeline::Slots::default());
    let registry = caliopen_runtime::registry::Registry::new(
        node.core.clone(),
        node.engine.clone(),
        slots.clone(),
        node.cache.clone(),
    );
    let restored = registry.restore().await.unwrap();
    assert!(
        restored.iter().any(|r| r.contains("test-qualifier@2.0.0")),
        "{restored:?}"
    );
    let chain = slots.snapshot();
    assert_eq!(chain.qualifiers[0].active.manifest.version, "2.0.0");
    assert!(chain.parser.is_some() && chain.broker.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parser_too_small_for_the_size_limit_is_refused_at_deploy() {
    let node = InProcess::new().await;
    let registry = caliopen_runtime::registry::Registry::new(
        node.core.clone(),
        node.engine.clone(),
        Arc::new(caliopen_runtime::pipeline::Slots::default()),
        node.cache.clone(),
    )
    .with_max_message_size(50 << 20);
    let shipped =
        std::fs::read_to_string(root().join("components/email-parser/component.toml")).unwrap();
    let small = shipped
        .replace("memory_mib = 128", "memory_mib = 64")
        .replace("version = \"0.1.0\"", "version = \"0.1.1\"");
    assert_ne!(small, shipped, "the shipped manifest sets memory_mib = 128");
    let refused = registry
        .deploy(&small, component("caliopen_email_parser"), false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("memory_mib = 64 is below 100") && refused.contains("quarantined"),
        "{refused}"
    );
    // Nothing was stored or made active.
    let slot = node.core.slot("parser:email").await.unwrap();
    assert_ne!(slot.active.as_deref(), Some("email-parser@0.1.1"));
    // The shipped manifest fits the shipped size limit.
    let report = registry
        .deploy(&shipped, component("caliopen_email_parser"), false)
        .await
        .unwrap();
    assert_eq!(report.component, "email-parser@0.1.0");
}
