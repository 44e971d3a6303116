//! The shared corpus of real mail (../shared/corpus: rspamd's test mails and the
//! original Caliopen fixtures) through the real pipeline: parser, broker and the four
//! qualifiers as wasm components. Nothing traps, nothing is lost, and what a user
//! would see is sensible.

use crate::common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use common::inproc::InProcess;

/// The corpus's mail files (`common::mailbox::corpus_root`).
fn corpus_files() -> Vec<PathBuf> {
    let root = common::mailbox::corpus_root();
    let mut files = common::mailbox::files_under(&root.join("rspamd"), &|p| {
        p.extension().is_some_and(|e| e == "eml")
    });
    files.extend(common::mailbox::files_under(
        &root.join("caliopen/mbox"),
        &|_| true,
    ));
    files.extend(common::mailbox::files_under(
        &root.join("caliopen/raw_emails"),
        &|_| true,
    ));
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn the_corpus_goes_through_the_whole_chain_without_a_trap_or_a_loss() {
    let files = corpus_files();
    let node = InProcess::with_default_chain().await;
    let alice = node.user("alice").await;

    // What the user should end up with: one message per distinct raw mail that
    // parses (the parser natively, as the components do it); the same bytes twice
    // fold into one, different mail sharing a Message-ID does not.
    let mut raws = BTreeSet::new();
    let mut expected = 0usize;
    let mut gtube = BTreeSet::new();
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        let Ok(parsed) = caliopen_email_parser::parse(&raw) else {
            continue;
        };
        if raws.insert(raw.clone()) {
            expected += 1;
        }
        if String::from_utf8_lossy(&raw)
            .contains("XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X")
        {
            gtube.insert(parsed.subject.unwrap_or_default());
        }
        node.deliver_raw("alice", &raw).await;
    }
    node.settle(Duration::from_secs(900)).await;

    let quarantined = node.core.quarantined().await.unwrap();
    assert!(
        quarantined.is_empty(),
        "{} quarantined, e.g. {:?}",
        quarantined.len(),
        quarantined.first().map(|q| &q.reason)
    );
    let messages = node.messages(alice).await;
    assert_eq!(
        messages.len(),
        expected,
        "every accepted mail became a message (identical mail folded)"
    );
    for m in &messages {
        assert!(
            m.qualification.not_qualified_by.is_empty(),
            "{}: {:?}",
            m.subject,
            m.qualification.not_qualified_by
        );
        assert_eq!(
            m.qualification.qualified_by.len(),
            4,
            "{}: {:?}",
            m.subject,
            m.qualification.qualified_by
        );
    }

    // GTUBE mails are spam, tagged and at the bottom of importance.
    assert!(!gtube.is_empty(), "the corpus has GTUBE samples");
    for m in messages.iter().filter(|m| gtube.contains(&m.subject)) {
        assert!(
            m.qualification.is_spam && m.tags.contains(&"spam".to_owned()),
            "{}: {:?}",
            m.subject,
            m.tags
        );
        assert_eq!(m.importance_level, -10, "{}", m.subject);
    }
    // Encrypted mail has a higher technical privacy index than any plain mail.
    let technic = |encrypted: bool| -> Vec<u8> {
        messages
            .iter()
            .filter(|m| {
                (m.privacy_features
                    .get("message_encrypted")
                    .map(String::as_str)
                    == Some("True"))
                    == encrypted
            })
            .filter_map(|m| m.pi.map(|p| p.technic))
            .collect()
    };
    let (enc, plain) = (technic(true), technic(false));
    assert!(!enc.is_empty(), "the corpus has encrypted samples");
    let max_plain = plain.iter().copied().max().unwrap_or(0);
    assert!(
        enc.iter().all(|t| *t > max_plain),
        "encrypted technic {enc:?} vs plain max {max_plain}"
    );
    // Mailing-list mail is grouped by List-ID: one discussion per list.
    let mut lists = std::collections::BTreeMap::<String, BTreeSet<String>>::new();
    for m in &messages {
        if let Some(list) = m
            .participants
            .iter()
            .find(|p| p.role == caliopen_core::model::ParticipantRole::ListId)
        {
            lists
                .entry(list.address.clone())
                .or_default()
                .insert(m.discussion_id.clone());
        }
    }
    assert!(!lists.is_empty());
    for (list, discussions) in &lists {
        assert_eq!(
            discussions.len(),
            1,
            "list {list} spread over {} discussions",
            discussions.len()
        );
    }
    let spam = messages.iter().filter(|m| m.qualification.is_spam).count();
    eprintln!(
        "corpus: {} files, {} messages, {} spam, {} lists, {} encrypted (technic {:?}), plain technic max {}",
        files.len(),
        messages.len(),
        spam,
        lists.len(),
        enc.len(),
        enc,
        max_plain
    );
}
