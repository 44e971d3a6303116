//! Offline verification: the DNS answers a test needs are fixed in the
//! verifier's cache; any other question goes to a local name server that
//! answers NXDOMAIN to everything (a domain without such a record), or, for the
//! failure test, to one that never answers (a bound UDP socket nobody reads), so
//! that a DNS failure shows as a `temperror`, never as a hang or a crash. Keys
//! are made at run time.

use std::net::{IpAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use caliopen_mail_auth::verify::MAX_SIGNATURES;
use caliopen_mail_auth::{Envelope, Settings, Verifier};
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;

const MAIL: &str = "From: Alice <alice@example.org>\r\nTo: bob@caliopen.local\r\n\
    Subject: signed\r\nMessage-ID: <s1@example.org>\r\n\r\nHello Bob.\r\n";
const CLIENT: &str = "203.0.113.5";

/// A name server that never answers, and settings that use it.
fn silent_dns(timeout_ms: u64) -> (UdpSocket, Settings) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let settings = Settings {
        enabled: true,
        nameservers: vec![socket.local_addr().unwrap().to_string()],
        timeout_ms,
        ..Settings::default()
    };
    (socket, settings)
}

/// A name server that answers NXDOMAIN to every question, while it lives.
struct NxDomain {
    stop: Arc<AtomicBool>,
    settings: Settings,
}

impl NxDomain {
    fn start() -> Self {
        use mail_auth::hickory_resolver::proto::op::{Message, ResponseCode};
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let settings = Settings {
            enabled: true,
            nameservers: vec![socket.local_addr().unwrap().to_string()],
            timeout_ms: 10_000,
            ..Settings::default()
        };
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
        Self { stop, settings }
    }
}

impl Drop for NxDomain {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `MAIL` signed for example.org with a new key, and the key's DNS record.
fn signed_mail() -> (String, String) {
    let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
    let key = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap();
    let record = format!(
        "v=DKIM1; k=ed25519; p={}",
        base64::engine::general_purpose::STANDARD.encode(key.public_key())
    );
    let signature = DkimSigner::from_key(key)
        .domain("example.org")
        .selector("s1")
        .headers(["From", "To", "Subject", "Message-ID"])
        .sign(MAIL.as_bytes())
        .unwrap();
    (format!("{}{MAIL}", signature.to_header()), record)
}

fn envelope() -> Envelope<'static> {
    Envelope {
        client_ip: Some(CLIENT.parse::<IpAddr>().unwrap()),
        helo: "mail.example.org",
        mail_from: "alice@example.org",
    }
}

fn records(dkim: &str) -> Vec<(&'static str, String)> {
    vec![
        ("s1._domainkey.example.org", dkim.to_owned()),
        ("example.org", format!("v=spf1 ip4:{CLIENT} -all")),
        ("_dmarc.example.org", "v=DMARC1; p=reject".to_owned()),
    ]
}

fn verifier(settings: &Settings, records: &[(&str, String)]) -> Verifier {
    let records: Vec<(&str, &str)> = records.iter().map(|(n, t)| (*n, t.as_str())).collect();
    Verifier::with_records("mx.caliopen.local", settings, &records).unwrap()
}

#[tokio::test]
async fn a_signed_mail_from_an_allowed_client_passes_dkim_spf_and_dmarc() {
    let dns = NxDomain::start();
    let settings = &dns.settings;
    let (mail, key) = signed_mail();
    let v = verifier(settings, &records(&key));
    let r = v.verify(mail.as_bytes(), &envelope()).await;
    assert_eq!((r.dkim, r.spf, r.dmarc), ("pass", "pass", "pass"), "{r:?}");
    assert_eq!(r.dkim_domains, vec!["example.org".to_owned()]);
    assert!(r.header_value.starts_with("mx.caliopen.local;"), "{r:?}");
    assert!(r.header_value.contains("dkim=pass"), "{r:?}");
    assert!(!r.header_value.contains('\n'), "unfolded: {r:?}");
}

#[tokio::test]
async fn a_changed_body_fails_dkim_and_a_foreign_client_fails_spf() {
    let dns = NxDomain::start();
    let settings = &dns.settings;
    let (mail, key) = signed_mail();
    let v = verifier(settings, &records(&key));
    let tampered = mail.replace("Hello Bob.", "Send money.");
    let mut env = envelope();
    env.client_ip = Some("198.51.100.9".parse().unwrap());
    let r = v.verify(tampered.as_bytes(), &env).await;
    // A body that no longer matches its hash is `neutral` in mail-auth's words.
    assert_ne!(r.dkim, "pass", "{r:?}");
    assert_eq!((r.spf, r.dmarc), ("fail", "fail"), "{r:?}");
    assert!(r.dkim_domains.is_empty());
}

#[tokio::test]
async fn a_signature_header_alone_is_not_a_verified_signature() {
    // A DKIM-Signature whose key is not published: present, not verified.
    let dns = NxDomain::start();
    let settings = &dns.settings;
    let (mail, _key) = signed_mail();
    let (_, other_key) = signed_mail();
    let v = verifier(settings, &records(&other_key));
    let r = v.verify(mail.as_bytes(), &envelope()).await;
    assert_ne!(r.dkim, "pass", "{r:?}");
    assert!(r.dkim_domains.is_empty(), "{r:?}");
}

#[tokio::test]
async fn a_dns_failure_is_a_temporary_unknown_within_the_timeout() {
    // No record is fixed: every question goes to the silent name server.
    let (_dns, settings) = silent_dns(1500);
    let (mail, _) = signed_mail();
    let v = verifier(&settings, &[]);
    let started = Instant::now();
    let r = v.verify(mail.as_bytes(), &envelope()).await;
    assert_eq!(
        (r.dkim, r.spf, r.dmarc),
        ("temperror", "temperror", "temperror"),
        "{r:?}"
    );
    // Bounded by the configured time (generously: the machine may be loaded).
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn thousands_of_signatures_are_not_verified_one_by_one() {
    let dns = NxDomain::start();
    let settings = &dns.settings;
    let (mail, key) = signed_mail();
    let v = verifier(settings, &records(&key));
    let (signature, rest) = mail.split_once("From:").unwrap();
    let mut flood = String::new();
    for l in 0..5000 {
        // Each with its own body length, as many body hashes as signatures.
        flood.push_str(&signature.replacen("; d=", &format!("; l={l}; d="), 1));
    }
    let flooded = format!("{flood}From:{rest}");
    let r = v.verify(flooded.as_bytes(), &envelope()).await;
    assert_eq!(r.dkim, "permerror", "{r:?}");
    assert!(
        r.header_value
            .contains(&format!("more than {MAX_SIGNATURES} signatures")),
        "{r:?}"
    );
    // SPF and DMARC are still checked (DMARC by the aligned SPF pass).
    assert_eq!((r.spf, r.dmarc), ("pass", "pass"), "{r:?}");
}

#[tokio::test]
async fn a_disabled_verifier_answers_none() {
    let settings = Settings {
        enabled: false,
        ..Settings::default()
    };
    let (mail, _) = signed_mail();
    let v = Verifier::new("mx.caliopen.local", &settings).unwrap();
    let r = v.verify(mail.as_bytes(), &envelope()).await;
    assert_eq!((r.dkim, r.spf, r.dmarc), ("none", "none", "none"));
    assert!(
        r.header_value.starts_with("mx.caliopen.local; none"),
        "{r:?}"
    );
}
