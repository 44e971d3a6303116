//! The shared corpus (`../shared/corpus` from the workspace root): every message goes
//! through the parser and `inbound` without a panic, and what comes out is sensible.
//! Passes, saying so loudly, when the folder is absent. `--nocapture` shows the
//! counts.

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use caliopen_email_broker::{Message, ParsedMail};

/// rspamd's `*.eml` (recursively), and every file of caliopen's `mbox/` and
/// `raw_emails/`.
fn corpus_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    collect(&root.join("rspamd"), &mut files, &|p| {
        p.extension().is_some_and(|e| e == "eml")
    });
    collect(&root.join("caliopen/mbox"), &mut files, &|_| true);
    collect(&root.join("caliopen/raw_emails"), &mut files, &|_| true);
    files.sort();
    files
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>, keep: &dyn Fn(&Path) -> bool) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files, keep);
        } else if keep(&path) {
            files.push(path);
        }
    }
}

#[test]
fn corpus_goes_through_inbound_sensibly() {
    let root = common::corpus_dir();
    let files = corpus_files(&root);
    assert!(
        !files.is_empty(),
        "corpus at {} has no message",
        root.display()
    );

    let mut stats = Stats::default();
    let mut failures = Vec::new();
    for file in &files {
        let raw = fs::read(file).expect("readable corpus file");
        let name = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        let Some(mail) = common::parse(&raw) else {
            stats.parser_errors += 1;
            continue;
        };
        let result = catch_unwind(AssertUnwindSafe(|| {
            caliopen_email_broker::inbound::inbound(
                &mail,
                common::RECEIVED_AT,
                common::LOCAL_DOMAIN,
            )
        }));
        match result {
            Err(_) => failures.push(format!("{name}: PANIC in inbound")),
            Ok(message) => {
                stats.count(&message);
                // What the component exports moves the bodies; it must give the same.
                let owned = caliopen_email_broker::inbound::inbound_owned(
                    mail.clone(),
                    common::RECEIVED_AT,
                    common::LOCAL_DOMAIN,
                );
                if format!("{owned:?}") != format!("{message:?}") {
                    failures.push(format!("{name}: inbound_owned differs from inbound"));
                }
                failures.extend(
                    check(&mail, &message, &raw)
                        .into_iter()
                        .map(|f| format!("{name}: {f}")),
                );
            }
        }
    }
    stats.report(files.len());
    assert!(
        failures.is_empty(),
        "{} corpus failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// What every brokered message of a real mail must satisfy.
fn check(mail: &ParsedMail, m: &Message, raw: &[u8]) -> Vec<String> {
    let mut failures = Vec::new();
    if m.discussion_key != common::core_discussion_key(m) {
        failures.push(format!(
            "discussion key {:?} is not core's",
            m.discussion_key
        ));
    }
    if mail.list_id.is_some() != m.discussion_key.starts_with("list:") {
        failures.push(format!(
            "list-id {:?} but key {:?}",
            mail.list_id, m.discussion_key
        ));
    }
    for (i, p) in m.participants.iter().enumerate() {
        if p.address != p.address.to_lowercase()
            || p.address.trim() != p.address
            || p.address.is_empty()
        {
            failures.push(format!(
                "participant address {:?} not normalised",
                p.address
            ));
        }
        if m.participants[..i]
            .iter()
            .any(|q| q.role == p.role && q.address == p.address)
        {
            failures.push(format!("duplicate participant {:?}", p.address));
        }
    }
    if m.date != mail.date.unwrap_or(common::RECEIVED_AT) {
        failures.push("date is neither the Date header nor the reception time".to_string());
    }
    if !m.problems.starts_with(&mail.problems) {
        failures.push("the parser's problems are not kept first".to_string());
    }
    let text = String::from_utf8_lossy(raw);
    let armoured = text
        .lines()
        .any(|l| l.trim_start().starts_with("-----BEGIN PGP MESSAGE-----"));
    if armoured && m.privacy_features.encryption.is_none() {
        failures.push("PGP armour in the mail but no encryption found".to_string());
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("protocol=\"application/pgp-signature\"")
        && m.privacy_features.signature.is_none()
    {
        failures.push("multipart/signed PGP but no signature found".to_string());
    }
    let has = |name: &str| {
        mail.headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(name) && !h.value.trim().is_empty())
    };
    if (has("X-Spam-Status") || has("X-Spam-Flag")) && m.privacy_features.upstream_spam.is_none() {
        failures.push("X-Spam-Status/X-Spam-Flag present but no upstream verdict".to_string());
    }
    if m.privacy_features
        .upstream_spam_score
        .is_some_and(|s| !s.is_finite())
    {
        failures.push("non-finite spam score".to_string());
    }
    if m.body_plain != mail.body_plain || m.body_html != mail.body_html {
        failures.push("bodies changed".to_string());
    }
    failures
}

/// Counts printed at the end of the corpus test.
#[derive(Default)]
struct Stats {
    parser_errors: usize,
    brokered: usize,
    list: usize,
    encrypted: BTreeMap<String, usize>,
    signed: BTreeMap<String, usize>,
    spam: usize,
    ham: usize,
    with_score: usize,
    spam_methods: BTreeMap<String, usize>,
    dkim: usize,
    tls: BTreeMap<String, usize>,
    ingress_tls_without_version: usize,
    with_ingress: usize,
    ingress_servers: BTreeMap<String, usize>,
    external_hops: BTreeMap<u32, usize>,
    scripts: usize,
    remote: usize,
    forms: usize,
    internal: usize,
    with_agent: usize,
    broker_problems: BTreeMap<String, usize>,
}

impl Stats {
    fn count(&mut self, m: &Message) {
        let f = &m.privacy_features;
        self.brokered += 1;
        self.list += usize::from(m.discussion_key.starts_with("list:"));
        if let Some(s) = f.encryption {
            *self
                .encrypted
                .entry(common::scheme(s).to_string())
                .or_default() += 1;
        }
        if let Some(s) = f.signature {
            *self
                .signed
                .entry(common::scheme(s).to_string())
                .or_default() += 1;
        }
        self.spam += usize::from(f.upstream_spam == Some(true));
        self.ham += usize::from(f.upstream_spam == Some(false));
        self.with_score += usize::from(f.upstream_spam_score.is_some());
        let extra = |key: &str| {
            f.extra
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        if let Some(method) = extra("spam_method") {
            *self.spam_methods.entry(method).or_default() += 1;
        }
        self.dkim += usize::from(f.dkim_signed);
        if let Some(v) = &f.transport_tls_version {
            *self.tls.entry(v.clone()).or_default() += 1;
        } else if extra("ingress_tls").as_deref() == Some("true") {
            self.ingress_tls_without_version += 1;
        }
        if let Some(server) = extra("ingress_server") {
            self.with_ingress += 1;
            *self.ingress_servers.entry(server).or_default() += 1;
        }
        *self
            .external_hops
            .entry(f.external_hops.min(9))
            .or_default() += 1;
        self.scripts += usize::from(m.html_safety.has_scripts);
        self.remote += usize::from(m.html_safety.has_remote_content);
        self.forms += usize::from(m.html_safety.has_forms);
        self.internal += usize::from(f.is_internal);
        self.with_agent += usize::from(f.mail_agent.is_some());
        for problem in m.problems.iter().filter(|p| is_broker_problem(p)) {
            let kind: String = problem
                .split(['"', ':'])
                .next()
                .unwrap_or_default()
                .to_string();
            *self.broker_problems.entry(kind).or_default() += 1;
        }
    }

    fn report(&self, files: usize) {
        eprintln!(
            "corpus: {files} files, {} brokered, {} refused by the parser",
            self.brokered, self.parser_errors
        );
        eprintln!(
            "  list discussions {}, encrypted {:?}, signed {:?}",
            self.list, self.encrypted, self.signed
        );
        eprintln!(
            "  upstream spam {} / ham {}, with score {}, methods {:?}",
            self.spam, self.ham, self.with_score, self.spam_methods
        );
        eprintln!(
            "  dkim-signed {}, ingress found {}, ingress TLS versions {:?}, TLS without version {}",
            self.dkim, self.with_ingress, self.tls, self.ingress_tls_without_version
        );
        let mut servers: Vec<_> = self.ingress_servers.iter().collect();
        servers.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        servers.truncate(6);
        eprintln!("  most frequent ingress servers {servers:?}");
        eprintln!("  external hops (9 = 9+) {:?}", self.external_hops);
        eprintln!(
            "  html scripts {}, remote content {}, forms {}; internal {}; mail agent {}",
            self.scripts, self.remote, self.forms, self.internal, self.with_agent
        );
        eprintln!("  broker problems {:?}", self.broker_problems);
    }
}

/// The problems `inbound` adds (the parser's are counted by its own corpus test).
fn is_broker_problem(problem: &str) -> bool {
    problem.contains("duplicate address")
        || problem.contains("blank address")
        || problem.starts_with("no usable Date")
        || problem.starts_with("no participant")
}
