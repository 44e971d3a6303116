//! Deleting mail deletes its bytes: raw mails and attachments go with the last
//! record that counts them, on the embedded store, through core. A mail shared by
//! two users stays while one still has it, and a mail arriving again while its
//! blob is being released is never lost.

use caliopen_core::model::User;
use caliopen_core::service::attachments::NewAttachment;
use caliopen_core::service::drafts::{DraftParticipant, NewDraft};
use caliopen_core::tables::BLOB_REFS;
use caliopen_storage_traits::{Batch, BlobId, Scope};
use uuid::Uuid;

use crate::harness::Node;

/// A node whose blob references are counted (as `caliopen serve` does at start).
async fn node() -> Node {
    let node = Node::new().await;
    node.core.prepare_blob_references().await.unwrap();
    node
}

/// Accepts one raw mail for every user of `to` in one delivery, and waits.
async fn deliver_to(node: &Node, to: &[&User], subject: &str) -> BlobId {
    let raw = format!("Subject: {subject}\r\nFrom: bob@example.org\r\n\r\nbody of {subject}\r\n");
    let mut recipients = Vec::new();
    for user in to {
        let r = node
            .core
            .resolve_recipient(&user.local_identity)
            .await
            .unwrap();
        recipients.push(r.expect("a local recipient"));
    }
    node.core
        .accept_mail(raw.as_bytes(), "bob@example.org", &recipients)
        .await
        .unwrap();
    node.settle().await;
    BlobId::of(raw.as_bytes())
}

async fn message_with(node: &Node, user: &User, subject: &str) -> Uuid {
    node.messages(user.id)
        .await
        .into_iter()
        .find(|m| m.subject == subject)
        .expect("the message")
        .id
}

async fn exists(node: &Node, id: &BlobId) -> bool {
    node.stores.blobs.exists(id).await.unwrap()
}

async fn refs(node: &Node, id: &BlobId) -> i64 {
    node.stores
        .records
        .counter(BLOB_REFS, Scope::Global, id.as_bytes())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_mail_goes_with_the_last_message_that_holds_it() {
    let node = node().await;
    let (alice, bob) = (node.user("alice").await, node.user("bob").await);
    let shared = deliver_to(&node, &[&alice, &bob], "shared").await;
    // The same bytes again for alice: folded into her message, counted once.
    deliver_to(&node, &[&alice], "shared").await;
    assert_eq!(refs(&node, &shared).await, 2, "one reference per message");

    let hers = message_with(&node, &alice, "shared").await;
    node.core.delete_message(alice.id, hers).await.unwrap();
    assert!(exists(&node, &shared).await, "bob still has the mail");
    assert!(
        !node
            .core
            .raw_message(bob.id, &shared.to_string())
            .await
            .unwrap()
            .is_empty()
    );

    let his = message_with(&node, &bob, "shared").await;
    node.core.delete_message(bob.id, his).await.unwrap();
    assert!(
        !exists(&node, &shared).await,
        "nobody has it: the bytes are gone"
    );
    assert_eq!(refs(&node, &shared).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_account_deletes_the_blobs_only_it_held() {
    let node = node().await;
    let (alice, bob) = (node.user("alice").await, node.user("bob").await);
    let own = deliver_to(&node, &[&alice], "alice only").await;
    let shared = deliver_to(&node, &[&alice, &bob], "for both").await;
    let identity = node.identity_id(&alice).await.to_string();
    let draft = node
        .core
        .create_draft(
            alice.id,
            NewDraft {
                user_identities: vec![identity],
                participants: vec![DraftParticipant {
                    role: "To".into(),
                    address: "carol@example.org".into(),
                    ..DraftParticipant::default()
                }],
                subject: "with a file".into(),
                body: "see attached".into(),
                ..NewDraft::default()
            },
        )
        .await
        .unwrap();
    let attachment = node
        .core
        .add_draft_attachment(
            alice.id,
            draft.id,
            NewAttachment {
                file_name: "report.pdf".into(),
                content_type: "application/pdf".into(),
                is_inline: false,
                content: format!("%PDF {}", Uuid::new_v4()).into_bytes(),
            },
        )
        .await
        .unwrap();
    let file: BlobId = attachment.blob.unwrap().parse().unwrap();
    assert!(exists(&node, &file).await);

    node.core.delete_account(alice.id).await.unwrap();
    assert!(!exists(&node, &own).await, "alice's own mail is gone");
    assert!(
        !exists(&node, &file).await,
        "her draft's attachment is gone"
    );
    assert!(exists(&node, &shared).await, "the mail bob also has stays");
    let his = message_with(&node, &bob, "for both").await;
    node.core.delete_message(bob.id, his).await.unwrap();
    assert!(!exists(&node, &shared).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_removed_from_a_draft_goes_unless_another_draft_has_it() {
    let node = node().await;
    let alice = node.user("alice").await;
    let identity = node.identity_id(&alice).await.to_string();
    let content = format!("notes {}", Uuid::new_v4()).into_bytes();
    let mut blobs = Vec::new();
    let mut drafts = Vec::new();
    for subject in ["first", "second"] {
        let draft = node
            .core
            .create_draft(
                alice.id,
                NewDraft {
                    user_identities: vec![identity.clone()],
                    participants: vec![DraftParticipant {
                        role: "To".into(),
                        address: "carol@example.org".into(),
                        ..DraftParticipant::default()
                    }],
                    subject: subject.into(),
                    body: "x".into(),
                    ..NewDraft::default()
                },
            )
            .await
            .unwrap();
        let a = node
            .core
            .add_draft_attachment(
                alice.id,
                draft.id,
                NewAttachment {
                    file_name: "notes.txt".into(),
                    content_type: "text/plain".into(),
                    is_inline: false,
                    content: content.clone(),
                },
            )
            .await
            .unwrap();
        blobs.push(a.blob.unwrap().parse::<BlobId>().unwrap());
        drafts.push((draft.id, a.index));
    }
    assert_eq!(blobs[0], blobs[1], "the same bytes are one blob");
    node.core
        .delete_draft_attachment(alice.id, drafts[0].0, drafts[0].1)
        .await
        .unwrap();
    assert!(
        exists(&node, &blobs[0]).await,
        "the second draft still has it"
    );
    node.core
        .delete_message(alice.id, drafts[1].0)
        .await
        .unwrap();
    assert!(!exists(&node, &blobs[0]).await);
}

/// The same mail delivered again while its last message is being deleted: the
/// release and the new reference never interleave, so the new message keeps
/// its bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_arriving_again_while_its_bytes_are_released_is_kept() {
    let node = node().await;
    let alice = node.user("alice").await;
    for round in 0..20 {
        let subject = format!("again {round}");
        let raw = deliver_to(&node, &[&alice], &subject).await;
        let first = message_with(&node, &alice, &subject).await;
        let recipient = node
            .core
            .resolve_recipient(&alice.local_identity)
            .await
            .unwrap()
            .unwrap();
        let bytes =
            format!("Subject: {subject}\r\nFrom: bob@example.org\r\n\r\nbody of {subject}\r\n");
        let recipients = [recipient];
        let (deleted, accepted) = tokio::join!(
            node.core.delete_message(alice.id, first),
            node.core
                .accept_mail(bytes.as_bytes(), "bob@example.org", &recipients)
        );
        deleted.unwrap();
        accepted.unwrap();
        node.settle().await;
        let messages = node.messages(alice.id).await;
        if messages.iter().any(|m| m.subject == subject) {
            let bytes = node.core.raw_message(alice.id, &raw.to_string()).await;
            assert!(
                bytes.is_ok_and(|b| !b.is_empty()),
                "round {round}: the message stored again lost its raw mail"
            );
        }
    }
}

/// A store written before blobs were counted: the counts are made at start, so
/// a shared mail is not deleted with the first copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_of_a_store_written_before_counting_are_counted_at_start() {
    let node = Node::new().await;
    let (alice, bob) = (node.user("alice").await, node.user("bob").await);
    let shared = deliver_to(&node, &[&alice, &bob], "from before").await;
    // As an earlier version left it: no count at all.
    let mut batch = Batch::new();
    batch.delete(BLOB_REFS, Scope::Global, shared.as_bytes().to_vec());
    node.stores.records.write(batch).await.unwrap();

    node.core.prepare_blob_references().await.unwrap();
    assert_eq!(refs(&node, &shared).await, 2);
    let hers = message_with(&node, &alice, "from before").await;
    node.core.delete_message(alice.id, hers).await.unwrap();
    assert!(exists(&node, &shared).await, "bob's copy keeps it");
}
