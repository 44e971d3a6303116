//! Qualifiers written in Python (componentize-py) and JavaScript (componentize-js),
//! deployed with their real manifests after the parser and the broker on an
//! in-process node: their verdicts land in the stored message, what they print
//! reaches the log under their name, and WASI gives them nothing of the machine.
//!
//! The components come from `cargo xtask components`. They are 10-20 MB and take
//! seconds to compile, so each is compiled once per test binary ([`artefacts`]) and
//! every node starts with the precompiled artefact in its cache: deploying is then
//! a load, which each test checks.

use crate::common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use caliopen_core::model::Message;
use caliopen_runtime::wasm::{
    CompileSource, EngineSettings, LoadedComponent, Manifest, WasmEngine,
};
use common::inproc::InProcess;
use common::{component, root, shared_cache};

const SETTLE: Duration = Duration::from_secs(120);

/// (component folder, artefact).
const PYTHON: (&str, &str) = ("qualifier-python", "caliopen_qualifier_python");
const JS: (&str, &str) = ("qualifier-js", "caliopen_qualifier_js");
const PROBE: (&str, &str) = ("test-wasi-probe", "caliopen_test_wasi_probe");

fn manifest_text(folder: &str) -> String {
    std::fs::read_to_string(
        root()
            .join("components")
            .join(folder)
            .join("component.toml"),
    )
    .unwrap()
}

/// Puts the precompiled artefact of every interpreted guest in the tests' shared cache
/// (compiled by an engine with the nodes' settings, by the first test that needs it).
/// Each guest has a lock of its own: the tests that start together compile the three
/// side by side, each taking a guest no other holds, then wait for the rest.
fn artefacts() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let engine = WasmEngine::new(&EngineSettings::default()).unwrap();
        let mut held_elsewhere = Vec::new();
        for guest in [PYTHON, JS, PROBE] {
            match common::lock_cache_entry(guest.1, false) {
                Ok(_locked) => cache(&engine, guest),
                Err(lock) => held_elsewhere.push((guest, lock)),
            }
        }
        for (guest, lock) in held_elsewhere {
            lock.lock().unwrap();
            cache(&engine, guest);
        }
    });
}

/// Loads `guest` through the shared cache (compiling it when absent), then checks
/// that the next load of the same bytes is the artefact: compiled at most once.
fn cache(engine: &WasmEngine, (folder, artefact): (&str, &str)) {
    for expect_cached in [false, true] {
        let manifest = Manifest::parse(&manifest_text(folder)).unwrap();
        let (_, how) = LoadedComponent::load(
            engine,
            manifest,
            &component(artefact),
            Some(&shared_cache()),
        )
        .unwrap_or_else(|e| panic!("{artefact}: {e}"));
        if expect_cached {
            assert_eq!(how, CompileSource::Cache, "{artefact}");
        }
    }
}

/// A node with the parser and the broker, and the guests' artefacts in its cache.
async fn node() -> InProcess {
    tokio::task::spawn_blocking(artefacts).await.unwrap();
    InProcess::new().await
}

/// Deploys `manifest` with the guest's component; it must load from the cache.
async fn deploy(node: &InProcess, manifest: &str, artefact: &str) {
    let report = node
        .registry
        .deploy(manifest, component(artefact), false)
        .await
        .unwrap_or_else(|e| panic!("deploying {artefact}: {e}"));
    assert_eq!(report.compiled_from, "cache", "{report:?}");
}

/// Everything the runtime logs in this test binary, as text.
fn log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(buffer.clone());
        tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        buffer
    })
}

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The logged lines that contain every one of `needles`.
fn logged(needles: &[&str]) -> Vec<String> {
    let text = String::from_utf8_lossy(&log().lock().unwrap()).into_owned();
    text.lines()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .map(str::to_owned)
        .collect()
}

fn by_subject<'m>(messages: &'m [Message], subject: &str) -> &'m Message {
    messages
        .iter()
        .find(|m| m.subject == subject)
        .unwrap_or_else(|| {
            panic!(
                "no message `{subject}` in {:?}",
                messages.iter().map(|m| &m.subject).collect::<Vec<_>>()
            )
        })
}

fn rules_of<'m>(m: &'m Message, qualifier: &str) -> Vec<&'m str> {
    m.qualification
        .rules
        .iter()
        .filter(|r| r.qualifier == qualifier)
        .map(|r| r.rule.as_str())
        .collect()
}

fn newsletter_mail(to: &str) -> String {
    let recipients: Vec<String> = (0..11).map(|i| format!("reader{i}@example.net")).collect();
    format!(
        "From: Shop News <newsletter@shop.example>\r\nTo: {to}@caliopen.local, {}\r\n\
         Subject: Our November deals\r\nList-Id: Shop news <news.shop.example>\r\n\
         X-Mailer: Mailchimp Mailer - **CID5c0ffee**\r\n\
         Message-ID: <{}@shop.example>\r\nDate: Tue, 3 Nov 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <html><body><p>Deals!</p><img src=\"https://t.shop.example/open.gif\">\
         <p><a href=\"https://shop.example/u\">Unsubscribe</a> - View this email in your browser</p>\
         </body></html>\r\n",
        recipients.join(", "),
        uuid::Uuid::new_v4()
    )
}

fn plain_mail(from: &str, to: &str, subject: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}@caliopen.local\r\nSubject: {subject}\r\n\
         Message-ID: <{}@example.org>\r\nDate: Tue, 3 Nov 2026 10:00:00 +0000\r\n\r\nHello.\r\n",
        uuid::Uuid::new_v4()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_newsletter_qualifier_tags_newsletters_with_the_users_tag() {
    log();
    let node = node().await;
    let alice = node.user("alice").await;
    let bob = node.user("bob").await;
    node.core
        .create_tag(
            alice,
            caliopen_core::service::tags::NewTag {
                label: "Newsletter".into(),
                importance_level: Some(-2),
            },
        )
        .await
        .unwrap();
    deploy(&node, &manifest_text(PYTHON.0), PYTHON.1).await;

    node.deliver_raw("alice", newsletter_mail("alice").as_bytes())
        .await;
    node.deliver_raw(
        "alice",
        plain_mail("Bob <bob@example.org>", "alice", "Lunch?").as_bytes(),
    )
    .await;
    // Bob has no `newsletter` tag: scored, explained, not tagged.
    node.deliver_raw("bob", newsletter_mail("bob").as_bytes())
        .await;
    node.settle(SETTLE).await;

    let messages = node.messages(alice).await;
    let news = by_subject(&messages, "Our November deals");
    assert!(
        news.tags.contains(&"newsletter".to_owned()),
        "{:?}",
        news.tags
    );
    assert_eq!(
        rules_of(news, "newsletter"),
        [
            "LIST_ID",
            "MANY_RECIPIENTS",
            "REMOTE_CONTENT",
            "BULK_SENDER",
            "BULK_MAILER",
            "BULK_PHRASES"
        ],
        "{:#?}",
        news.qualification
    );
    assert!(
        news.qualification
            .qualified_by
            .contains(&"newsletter@0.1.0".to_owned())
    );
    assert!(news.qualification.not_qualified_by.is_empty());

    let lunch = by_subject(&messages, "Lunch?");
    assert!(
        !lunch.tags.contains(&"newsletter".to_owned()),
        "{:?}",
        lunch.tags
    );
    assert!(
        rules_of(lunch, "newsletter").is_empty(),
        "{:?}",
        lunch.qualification
    );
    assert!(
        lunch
            .qualification
            .qualified_by
            .contains(&"newsletter@0.1.0".to_owned())
    );

    let for_bob = &node.messages(bob).await[0];
    assert!(
        !for_bob.tags.contains(&"newsletter".to_owned()),
        "{:?}",
        for_bob.tags
    );
    assert_eq!(rules_of(for_bob, "newsletter").last(), Some(&"NO_SUCH_TAG"));

    // What the guest printed is in the log, under its name.
    let lines = logged(&[
        "newsletter: score",
        "component=\"newsletter\"",
        "stream=\"stdout\"",
    ]);
    assert!(lines.len() >= 3, "{lines:#?}");
    assert!(
        lines.iter().any(|l| l.contains("tagged newsletter")),
        "{lines:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_component_imports_exactly_what_its_manifest_grants() {
    let node = node().await;
    let manifest = manifest_text(PYTHON.0).replace(
        "grants = [\"log\", \"config\", \"user\"]",
        "grants = [\"log\", \"config\"]",
    );
    let err = node
        .registry
        .deploy(&manifest, component(PYTHON.1), false)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("caliopen:platform/user"), "{err}");
    let manifest = manifest_text(JS.0).replace(
        "grants = [\"log\", \"config\", \"contacts\"]",
        "grants = [\"log\", \"config\"]",
    );
    let err = node
        .registry
        .deploy(&manifest, component(JS.1), false)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("caliopen:platform/contacts"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_js_urgency_qualifier_raises_importance_for_known_contacts_only() {
    use caliopen_core::model::Contact;
    use caliopen_core::model::contact::ContactEmail;

    log();
    let node = node().await;
    let alice = node.user("alice").await;
    node.core
        .create_contact(
            alice,
            Contact {
                title: "Bob Builder".into(),
                emails: vec![ContactEmail {
                    address: "bob@example.org".into(),
                    ..ContactEmail::default()
                }],
                ..Contact::default()
            },
        )
        .await
        .unwrap();
    deploy(&node, &manifest_text(JS.0), JS.1).await;

    let mails = [
        ("Bob <bob@example.org>", "URGENT: the server is down"),
        (
            "Stranger <stranger@example.net>",
            "Urgent: verify your account ASAP",
        ),
        ("Bob <bob@example.org>", "Lunch tomorrow?"),
    ];
    for (from, subject) in mails {
        node.deliver_raw("alice", plain_mail(from, "alice", subject).as_bytes())
            .await;
    }
    node.settle(SETTLE).await;
    let messages = node.messages(alice).await;

    let urgent = by_subject(&messages, mails[0].1);
    assert_eq!(urgent.importance_level, 1);
    assert_eq!(rules_of(urgent, "urgency"), ["URGENT_SUBJECT"]);
    let rule = &urgent.qualification.rules[0];
    assert_eq!(rule.contribution, 1.0);
    assert!(rule.detail.contains("Bob Builder"), "{}", rule.detail);

    let phishing = by_subject(&messages, mails[1].1);
    assert_eq!(phishing.importance_level, 0);
    assert_eq!(rules_of(phishing, "urgency"), ["URGENT_UNKNOWN_SENDER"]);

    let calm = by_subject(&messages, mails[2].1);
    assert_eq!(calm.importance_level, 0);
    assert!(rules_of(calm, "urgency").is_empty());
    for m in [urgent, phishing, calm] {
        assert_eq!(m.qualification.qualified_by, ["urgency@0.1.0"]);
    }

    let lines = logged(&[
        "urgency: rules URGENT_SUBJECT, importance 1",
        "component=\"urgency\"",
    ]);
    assert_eq!(lines.len(), 1, "{lines:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wasi_guest_obtains_no_file_environment_or_network() {
    log();
    let node = node().await;
    let alice = node.user("alice").await;
    // A real listener the guest is told about: it must never see a connection.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let manifest = format!("{}port = \"{port}\"\n", manifest_text(PROBE.0));
    deploy(&node, &manifest, PROBE.1).await;

    node.deliver_raw(
        "alice",
        plain_mail("Bob <bob@example.org>", "alice", "probe").as_bytes(),
    )
    .await;
    node.settle(SETTLE).await;
    let messages = node.messages(alice).await;
    let probed = by_subject(&messages, "probe");
    assert_eq!(probed.qualification.qualified_by, ["wasi-probe@0.1.0"]);
    let outcome = |probe: &str| {
        probed
            .tags
            .iter()
            .find_map(|t| t.strip_prefix(&format!("{probe}=")))
            .unwrap_or_else(|| panic!("no outcome for {probe} in {:?}", probed.tags))
            .to_owned()
    };
    let details = format!("{:#?}", probed.qualification.rules);
    for probe in [
        "fs-root",
        "fs-cwd",
        "fs-passwd",
        "fs-write",
        "socket",
        "dns",
    ] {
        assert!(
            outcome(probe).starts_with("denied"),
            "{probe} obtained {}: {details}",
            outcome(probe)
        );
    }
    assert_eq!(outcome("env"), "vars:0", "{details}");
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the guest connected to the host's listener"
    );
    // Both streams reach the log under the guest's name.
    assert_eq!(
        logged(&[
            "wasi-probe: fs-root=denied",
            "component=\"wasi-probe\"",
            "stream=\"stdout\""
        ])
        .len(),
        1
    );
    assert_eq!(
        logged(&[
            "stderr works too",
            "component=\"wasi-probe\"",
            "stream=\"stderr\""
        ])
        .len(),
        1
    );

    // What a guest prints shares the call's log budget: with one line allowed, the
    // stdout line is logged, the stderr one dropped and counted.
    let capped = manifest
        .replace("version = \"0.1.0\"", "version = \"0.1.1\"")
        .replace("[limits]\n", "[limits]\nmax_log_lines = 1\n");
    deploy(&node, &capped, PROBE.1).await;
    node.deliver_raw(
        "alice",
        plain_mail("Bob <bob@example.org>", "alice", "probe again").as_bytes(),
    )
    .await;
    node.settle(SETTLE).await;
    let messages = node.messages(alice).await;
    let again = by_subject(&messages, "probe again");
    assert_eq!(again.qualification.qualified_by, ["wasi-probe@0.1.1"]);
    let stdout = logged(&["wasi-probe: fs-root=denied", "version=\"0.1.1\""]);
    assert_eq!(stdout.len(), 1, "{stdout:#?}");
    assert!(logged(&["stderr works too", "version=\"0.1.1\""]).is_empty());
    let dropped = logged(&["log lines over the cap were dropped", "dropped=1"]);
    assert!(!dropped.is_empty(), "{dropped:#?}");
}
