//! DKIM, SPF and DMARC at delivery, through the real chain (parser, broker, the
//! PI qualifier): `dkim_signed` (`transport_signed` in the stored features) and
//! the privacy index mean a signature the host verified, never the presence of a
//! header, nor an `Authentication-Results` field the sender wrote. Offline: the
//! DNS records are fixed in the verifier's cache, and any other question gets
//! NXDOMAIN from a local name server.

use crate::common;

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine as _;
use caliopen_core::context::UserContext;
use caliopen_core::delivery::{Arrival, MailProcessor, ProcessedMail};
use caliopen_mail_auth::{Settings, Verifier};
use caliopen_runtime::pipeline::ComponentPipeline;
use common::inproc::InProcess;
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;

const MAIL: &str = "From: Alice <alice@example.org>\r\nTo: bob@caliopen.local\r\n\
    Subject: signed\r\nMessage-ID: <auth@example.org>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\n\
    \r\nHello Bob.\r\n";
const CLIENT: &str = "203.0.113.5";

/// A name server answering NXDOMAIN to everything while it lives.
struct NxDomain {
    stop: Arc<AtomicBool>,
    address: String,
}

impl NxDomain {
    fn start() -> Self {
        use mail_auth::hickory_resolver::proto::op::{Message, ResponseCode};
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let address = socket.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !stopped.load(Ordering::Relaxed) {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(query) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let mut answer = Message::error_msg(
                    query.metadata.id,
                    query.metadata.op_code,
                    ResponseCode::NXDomain,
                );
                answer.add_queries(query.queries.clone());
                if let Ok(bytes) = answer.to_vec() {
                    let _ = socket.send_to(&bytes, from);
                }
            }
        });
        Self { stop, address }
    }
}

impl Drop for NxDomain {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `MAIL` signed for example.org with a new key (with `extra` headers on top),
/// and a verifier that knows the key and example.org's SPF and DMARC records.
fn signed(dns: &NxDomain, extra: &str) -> (Vec<u8>, Verifier) {
    let key = Ed25519Key::from_pkcs8_der(&Ed25519Key::generate_pkcs8().unwrap()).unwrap();
    let record = format!(
        "v=DKIM1; k=ed25519; p={}",
        base64::engine::general_purpose::STANDARD.encode(key.public_key())
    );
    let signature = DkimSigner::from_key(key)
        .domain("example.org")
        .selector("s1")
        .headers(["From", "To", "Subject", "Message-ID", "Date"])
        .sign(MAIL.as_bytes())
        .unwrap();
    let settings = Settings {
        enabled: true,
        nameservers: vec![dns.address.clone()],
        timeout_ms: 10_000,
        ..Settings::default()
    };
    let spf = format!("v=spf1 ip4:{CLIENT} -all");
    let verifier = Verifier::with_records(
        "mx.caliopen.local",
        &settings,
        &[
            ("s1._domainkey.example.org", record.as_str()),
            ("example.org", spf.as_str()),
            ("_dmarc.example.org", "v=DMARC1; p=reject"),
        ],
    )
    .unwrap();
    let raw = format!("{extra}{}{MAIL}", signature.to_header());
    (raw.into_bytes(), verifier)
}

/// Runs the chain (parser, broker, PI qualifier) on `raw` as delivery does.
async fn deliver(
    node: &InProcess,
    verifier: Verifier,
    raw: Vec<u8>,
    client: &str,
) -> ProcessedMail {
    let user = node.user("bob").await;
    let context = UserContext::for_user(&node.core, user).await.unwrap();
    let pipeline = ComponentPipeline::new(node.engine.clone(), node.slots.clone())
        .with_verifier(Arc::new(verifier));
    let arrival = Arrival {
        received_at: chrono::Utc::now(),
        mail_from: "alice@example.org".into(),
        client: Some((client.parse().unwrap(), "mail.example.org".into())),
        imported: false,
    };
    pipeline
        .process_arrival(context, Arc::new(raw), &arrival)
        .await
        .unwrap()
}

async fn node_with_pi() -> InProcess {
    let node = InProcess::new().await;
    let manifest =
        std::fs::read_to_string(common::root().join("components/qualifier-pi/component.toml"))
            .unwrap();
    node.registry
        .deploy(&manifest, common::component("caliopen_qualifier_pi"), false)
        .await
        .unwrap();
    node
}

fn feature<'a>(m: &'a ProcessedMail, name: &str) -> Option<&'a str> {
    m.message.privacy_features.get(name).map(String::as_str)
}

fn dkim_rule(m: &ProcessedMail) -> bool {
    m.verdict.rules.iter().any(|r| r.rule == "technic:dkim")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_verified_signature_is_a_signed_message_and_counts_in_the_privacy_index() {
    let dns = NxDomain::start();
    let node = node_with_pi().await;
    let (raw, verifier) = signed(&dns, "");
    let m = deliver(&node, verifier, raw, CLIENT).await;
    assert_eq!(feature(&m, "transport_signed"), Some("True"), "{m:?}");
    assert_eq!(feature(&m, "auth_dkim"), Some("pass"));
    assert_eq!(feature(&m, "auth_spf"), Some("pass"));
    assert_eq!(feature(&m, "auth_dmarc"), Some("pass"));
    assert_eq!(feature(&m, "dkim_domains"), Some("example.org"));
    assert!(dkim_rule(&m), "{:?}", m.verdict.rules);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_signature_and_a_forged_authentication_results_field_count_for_nothing() {
    let dns = NxDomain::start();
    let node = node_with_pi().await;
    // Signed, then changed; and the sender claims our own verdict in a field of its own.
    let (raw, verifier) = signed(
        &dns,
        "Authentication-Results: mx.caliopen.local; dkim=pass header.d=example.org; \
         spf=pass smtp.mailfrom=alice@example.org; dmarc=pass header.from=example.org\r\n",
    );
    let tampered = String::from_utf8(raw)
        .unwrap()
        .replace("Hello Bob.", "Send money.")
        .into_bytes();
    let m = deliver(&node, verifier, tampered, "198.51.100.9").await;
    assert_eq!(feature(&m, "transport_signed"), Some("False"), "{m:?}");
    assert_ne!(feature(&m, "auth_dkim"), Some("pass"));
    assert_eq!(feature(&m, "auth_spf"), Some("fail"));
    assert_eq!(feature(&m, "dkim_domains"), None);
    assert!(!dkim_rule(&m), "{:?}", m.verdict.rules);
}
