//! Sending drafts: the broker component renders them, core queues them durably, and
//! the SMTP client hands them to a real SMTP server (aiosmtpd, started here) with
//! STARTTLS and AUTH. Permanent refusals bounce with a notification; without a
//! relay the queue holds the mail and says why.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use caliopen_core::model::identity::IdentityKind;
use caliopen_core::model::message::SendState;
use caliopen_core::service::attachments::NewAttachment;
use caliopen_core::service::drafts::{DraftParticipant, NewDraft};
use caliopen_runtime::outbound::BrokerRenderer;
use caliopen_smtp::outbound::{OutboundSettings, RelayTls};
use common::inproc::InProcess;
use common::relay::Relay;
use mail_parser::MimeHeaders as _;
use uuid::Uuid;

/// A node that renders with the broker component and sends through `settings`.
async fn node(settings: OutboundSettings) -> (InProcess, tokio::sync::oneshot::Sender<()>) {
    let node = InProcess::new().await;
    node.core
        .set_outbound_renderer(Arc::new(BrokerRenderer::new(
            node.engine.clone(),
            node.slots.clone(),
        )));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    caliopen_smtp::outbound::spawn(node.core.clone(), &settings, async move {
        let _ = stopped.await;
    })
    .unwrap();
    (node, stop)
}

fn plain_relay(port: u16) -> OutboundSettings {
    OutboundSettings {
        relay: format!("127.0.0.1:{port}"),
        tls: RelayTls::None,
        ..OutboundSettings::default()
    }
}

async fn draft(node: &InProcess, user: Uuid, to: &[(&str, &str)], parent: Option<Uuid>) -> Uuid {
    let identity = node
        .core
        .identities(user, IdentityKind::Local)
        .await
        .unwrap()[0]
        .id;
    node.core
        .create_draft(
            user,
            NewDraft {
                user_identities: vec![identity.to_string()],
                participants: to
                    .iter()
                    .map(|(role, address)| DraftParticipant {
                        role: (*role).into(),
                        address: (*address).into(),
                        ..DraftParticipant::default()
                    })
                    .collect(),
                subject: "Minutes of Tuesday".into(),
                body: "Here are the minutes, café included.".into(),
                parent_id: parent.map(|p| p.to_string()),
                ..NewDraft::default()
            },
        )
        .await
        .unwrap()
        .id
}

async fn wait_state(
    node: &InProcess,
    user: Uuid,
    id: Uuid,
    done: impl Fn(&SendState) -> bool,
) -> SendState {
    let start = Instant::now();
    loop {
        let m = node.core.message(user, id).await.unwrap();
        if let Some(state) = m.send_state.filter(|s| done(s)) {
            return state;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "send state stuck at {:?}",
            node.core.message(user, id).await.unwrap().send_state
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_is_rendered_queued_and_relayed_with_its_references() {
    let relay = Relay::start(None);
    let (node, _stop) = node(plain_relay(relay.port)).await;
    let alice = node.user("alice").await;
    node.deliver("alice", "Tuesday").await;
    node.settle(Duration::from_secs(60)).await;
    let parent = node.messages(alice).await.remove(0);
    let received = parent.id;
    let parent_ref = parent.external_references.message_id.clone().unwrap();

    let id = draft(
        &node,
        alice,
        // A reply keeps its parent's participants, whatever the client sends.
        &[("To", "ignored@example.com")],
        Some(received),
    )
    .await;
    node.core
        .add_draft_attachment(
            alice,
            id,
            NewAttachment {
                file_name: "minutes.txt".into(),
                content_type: "text/plain".into(),
                is_inline: false,
                content: b"1. coffee\n2. budget\n".to_vec(),
            },
        )
        .await
        .unwrap();
    let sent = node.core.send_draft(alice, id).await.unwrap();
    assert!(!sent.is_draft);
    assert!(matches!(sent.send_state, Some(SendState::Queued { .. })));
    wait_state(&node, alice, id, |s| matches!(s, SendState::Sent { .. })).await;

    let got = relay.received();
    assert_eq!(got.len(), 1, "exactly one message reached the relay");
    let (envelope, raw) = &got[0];
    assert_eq!(envelope["mail_from"], "alice@caliopen.local");
    assert_eq!(
        envelope["rcpt_tos"],
        serde_json::json!(["someone@example.org"])
    );
    // What the relay got is byte for byte what core stored as the sent copy's raw.
    let stored = node.core.message(alice, id).await.unwrap();
    let raw_id = stored.raw_msg_id.clone().unwrap();
    assert_eq!(&node.core.raw_message(alice, &raw_id).await.unwrap(), raw);
    let parsed = mail_parser::MessageParser::default().parse(raw).unwrap();
    assert_eq!(parsed.subject(), Some("Minutes of Tuesday"));
    assert_eq!(parsed.in_reply_to().as_text(), Some(parent_ref.as_str()));
    assert!(
        parsed
            .references()
            .as_text_list()
            .unwrap_or_default()
            .iter()
            .any(|r| r == parent_ref.as_str())
    );
    assert_eq!(
        parsed.body_text(0).as_deref().map(str::trim),
        Some("Here are the minutes, café included.")
    );
    assert_eq!(
        parsed.attachment(0).and_then(|a| a.attachment_name()),
        Some("minutes.txt")
    );
    assert_eq!(
        parsed.message_id(),
        stored.external_references.message_id.as_deref(),
        "the sent copy keeps the Message-ID it went out with"
    );
    // The sent copy stays in the discussion; the parent is answered.
    assert_eq!(stored.discussion_id, parent.discussion_id);
    assert!(
        node.core
            .message(alice, received)
            .await
            .unwrap()
            .is_answered
    );
    // A second send of the same message is refused.
    assert!(node.core.send_draft(alice, id).await.is_err());
}

/// An armored OpenPGP message GnuPG makes (symmetric, so no key is needed).
fn gpg_encrypted(text: &str) -> String {
    use std::io::Write as _;
    let home = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new("gpg")
        .args(["--batch", "--homedir", home.path().to_str().unwrap()])
        .args(["--pinentry-mode", "loopback", "--passphrase", "x"])
        .args(["--symmetric", "--armor"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gpg runs (install gnupg)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let _ = std::process::Command::new("gpgconf")
        .args([
            "--homedir",
            home.path().to_str().unwrap(),
            "--kill",
            "gpg-agent",
        ])
        .status();
    String::from_utf8(out.stdout).unwrap()
}

/// D15: a draft the client encrypted (privacy features `message_encryption_method:
/// "pgp"`, `message_encrypted: "True"`, as `web/store/middlewares/encryption-middleware.js`
/// sets them) goes out as PGP/MIME (RFC 3156), as the original broker sent it
/// (`src/backend/brokers/go.emails/email.go`, `encrypt.go`); one whose body is not
/// an armored message is refused rather than sent in the clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_draft_goes_out_as_pgp_mime() {
    let relay = Relay::start(None);
    let (node, _stop) = node(plain_relay(relay.port)).await;
    let alice = node.user("alice").await;
    let identity = node
        .core
        .identities(alice, IdentityKind::Local)
        .await
        .unwrap()[0]
        .id;
    let armored = gpg_encrypted("the minutes, encrypted");
    let encrypted = |body: &str| NewDraft {
        user_identities: vec![identity.to_string()],
        participants: vec![DraftParticipant {
            role: "To".into(),
            address: "bob@example.org".into(),
            ..DraftParticipant::default()
        }],
        subject: "Minutes".into(),
        body: body.into(),
        privacy_features: serde_json::json!({
            "message_encrypted": "True",
            "message_encryption_method": "pgp",
        })
        .as_object()
        .unwrap()
        .clone(),
        ..NewDraft::default()
    };
    let clear = node
        .core
        .create_draft(alice, encrypted("not encrypted at all"))
        .await
        .unwrap();
    assert!(node.core.send_draft(alice, clear.id).await.is_err());

    let id = node
        .core
        .create_draft(alice, encrypted(&armored))
        .await
        .unwrap()
        .id;
    node.core.send_draft(alice, id).await.unwrap();
    wait_state(&node, alice, id, |s| matches!(s, SendState::Sent { .. })).await;
    let got = relay.received();
    assert_eq!(got.len(), 1, "only the encrypted draft reached the relay");
    let raw = &got[0].1;
    let parsed = mail_parser::MessageParser::default().parse(raw).unwrap();
    let ct = parsed.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("multipart", Some("encrypted")));
    assert_eq!(ct.attribute("protocol"), Some("application/pgp-encrypted"));
    let parts: Vec<_> = parsed.parts.iter().skip(1).collect();
    assert_eq!(parts.len(), 2, "a version part and the encrypted part");
    let version = parts[0].content_type().unwrap();
    assert_eq!(
        (version.ctype(), version.subtype()),
        ("application", Some("pgp-encrypted"))
    );
    assert_eq!(
        String::from_utf8_lossy(parts[0].contents()).trim(),
        "Version: 1"
    );
    let data = parts[1].content_type().unwrap();
    assert_eq!(
        (data.ctype(), data.subtype()),
        ("application", Some("octet-stream"))
    );
    assert_eq!(
        String::from_utf8_lossy(parts[1].contents())
            .replace("\r\n", "\n")
            .trim(),
        armored.trim()
    );
    assert!(!String::from_utf8_lossy(raw).contains("the minutes, encrypted"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_and_auth_are_used_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let relay = Relay::start(Some((&cert, &key)));
    let settings = OutboundSettings {
        relay: format!("127.0.0.1:{}", relay.port),
        tls: RelayTls::Starttls,
        username: "relay-user".into(),
        password: "relay-secret".into(),
        ca_file: Some(cert.clone()),
        ..OutboundSettings::default()
    };
    let (node, _stop) = node(settings).await;
    let alice = node.user("alice").await;
    let id = draft(
        &node,
        alice,
        &[
            ("To", "bob@example.org"),
            ("Cc", "carol@example.net"),
            ("Bcc", "hidden@example.com"),
        ],
        None,
    )
    .await;
    node.core.send_draft(alice, id).await.unwrap();
    wait_state(&node, alice, id, |s| matches!(s, SendState::Sent { .. })).await;
    let got = relay.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0["tls"], true);
    assert_eq!(got[0].0["auth"], true);
    let mut rcpts: Vec<&str> = got[0].0["rcpt_tos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    rcpts.sort_unstable();
    assert_eq!(
        rcpts,
        ["bob@example.org", "carol@example.net", "hidden@example.com"]
    );
    let parsed = mail_parser::MessageParser::default()
        .parse(&got[0].1)
        .unwrap();
    assert!(
        parsed.header("Bcc").is_none(),
        "Bcc must not travel in the headers"
    );
    assert_eq!(
        parsed
            .cc()
            .and_then(|a| a.first())
            .and_then(|a| a.address()),
        Some("carol@example.net")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_refusal_bounces_with_a_notification() {
    let relay = Relay::start(None);
    let (node, _stop) = node(plain_relay(relay.port)).await;
    let alice = node.user("alice").await;
    let id = draft(&node, alice, &[("To", "reject-me@example.org")], None).await;
    node.core.send_draft(alice, id).await.unwrap();
    let state = wait_state(&node, alice, id, |s| matches!(s, SendState::Bounced { .. })).await;
    let SendState::Bounced { reason } = state else {
        unreachable!()
    };
    assert!(
        reason.contains("550"),
        "the bounce says what the relay said: {reason}"
    );
    let (_, notes) = node.core.list_notifications(alice, 10, 0).await.unwrap();
    assert!(
        notes.iter().any(|n| n.emitter == "outbound"
            && n.reference == id.to_string()
            && n.body.contains("could not be delivered")),
        "{notes:?}"
    );
    assert!(
        node.core.outbound_queue().await.unwrap().is_empty(),
        "a bounced job leaves the queue"
    );
    assert!(relay.received().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporary_refusal_stays_queued_for_a_retry() {
    let relay = Relay::start(None);
    let (node, _stop) = node(plain_relay(relay.port)).await;
    let alice = node.user("alice").await;
    let id = draft(&node, alice, &[("To", "later@example.org")], None).await;
    node.core.send_draft(alice, id).await.unwrap();
    let state = wait_state(&node, alice, id, |s| {
        matches!(s, SendState::Queued { reason: Some(_) })
    })
    .await;
    let SendState::Queued {
        reason: Some(reason),
    } = state
    else {
        unreachable!()
    };
    assert!(reason.contains("451"), "{reason}");
    let queue = node.core.outbound_queue().await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].attempts, 1);
    assert!(
        queue[0].next_attempt_at > chrono::Utc::now(),
        "the retry waits (backoff)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_relay_the_queue_holds_the_mail_and_says_why() {
    let (node, _stop) = node(OutboundSettings::default()).await;
    let alice = node.user("alice").await;
    let id = draft(&node, alice, &[("To", "bob@example.org")], None).await;
    node.core.send_draft(alice, id).await.unwrap();
    let state = wait_state(&node, alice, id, |s| {
        matches!(s, SendState::Queued { reason: Some(_) })
    })
    .await;
    assert!(
        format!("{state:?}").contains("no relay is configured"),
        "{state:?}"
    );
    let queue = node.core.outbound_queue().await.unwrap();
    assert_eq!(queue.len(), 1, "the mail is kept");
    assert_eq!(
        queue[0].attempts, 0,
        "waiting for a relay is not a failed attempt"
    );
}

fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let (c, k) = (dir.join("relay.pem"), dir.join("relay.key"));
    std::fs::write(&c, cert.cert.pem()).unwrap();
    std::fs::write(&k, cert.signing_key.serialize_pem()).unwrap();
    (c, k)
}
