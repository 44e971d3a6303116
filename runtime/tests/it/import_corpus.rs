//! `caliopen import` of an mbox and a maildir built from the shared corpus into an
//! empty store, with the server stopped: every mail present once, its date ordering
//! it, its read flag kept, list mail grouped in one discussion; the same import again
//! adds nothing; an import killed with SIGKILL half way and run again ends with every
//! mail once. Needs the corpus (`common::mailbox::corpus_root`).

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::Stdio;

use chrono::{DateTime, Utc};
use common::mailbox::{self, raw_id};
use common::node::Node;

/// What the test expects of each mail: read or not, answered, flagged, its own date.
#[derive(Debug, Clone, Default)]
struct Expected {
    read: bool,
    answered: bool,
    flagged: bool,
    date: Option<DateTime<Utc>>,
}

/// The corpus mail used: the project lists' messages, then rspamd's, each once (the
/// corpus holds a few identical files).
fn corpus_mails(n: usize) -> Vec<Vec<u8>> {
    let root = mailbox::corpus_root();
    let mut files = mailbox::files_under(&root.join("caliopen/mbox"), &|_| true);
    files.extend(mailbox::files_under(&root.join("rspamd"), &|p| {
        p.extension().is_some_and(|e| e == "eml")
    }));
    let mut seen = BTreeSet::new();
    files
        .iter()
        .map(|f| {
            let mut raw = std::fs::read(f).unwrap();
            if !raw.ends_with(b"\n") {
                raw.push(b'\n');
            }
            raw
        })
        .filter(|raw| seen.insert(raw_id(raw)))
        .take(n)
        .collect()
}

/// The Date of a mail as the parser reads it.
fn header_date(raw: &[u8]) -> Option<DateTime<Utc>> {
    let parsed = mail_parser::MessageParser::default().parse(raw)?;
    DateTime::from_timestamp(parsed.date()?.to_timestamp(), 0)
}

/// Writes `mails` as a maildir (a third in `new/`, the rest in `cur/` with flags)
/// and an mbox (with `Status`/`X-Status` on some, and two mails without a `Date`
/// that take their `From ` line's); answers what each mail should become.
fn build(dir: &Path, mails: &[Vec<u8>]) -> BTreeMap<String, Expected> {
    let mut expected = BTreeMap::new();
    let (for_maildir, for_mbox) = mails.split_at(mails.len() / 2);
    let maildir = dir.join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    for (i, raw) in for_maildir.iter().enumerate() {
        let (sub, info, e) = match i % 3 {
            0 => ("new", "", Expected::default()),
            1 => (
                "cur",
                ":2,S",
                Expected {
                    read: true,
                    ..Expected::default()
                },
            ),
            _ => (
                "cur",
                ":2,FRS",
                Expected {
                    read: true,
                    answered: true,
                    flagged: true,
                    date: None,
                },
            ),
        };
        std::fs::write(maildir.join(sub).join(format!("{i}.test{info}")), raw).unwrap();
        expected.entry(raw_id(raw)).or_insert(Expected {
            date: header_date(raw),
            ..e
        });
    }
    let mut entries = Vec::new();
    for (i, raw) in for_mbox.iter().enumerate() {
        let (raw, e) = if i % 2 == 0 {
            let mut with = b"Status: RO\nX-Status: A\n".to_vec();
            with.extend_from_slice(raw);
            (
                with,
                Expected {
                    read: true,
                    answered: true,
                    ..Expected::default()
                },
            )
        } else {
            (raw.clone(), Expected::default())
        };
        expected.entry(raw_id(&raw)).or_insert(Expected {
            date: header_date(&raw),
            ..e
        });
        entries.push((
            "From corpus@example.org Thu Jan  1 00:00:00 2015".to_owned(),
            raw,
        ));
    }
    for (n, from_date, date) in [
        (1, "Mon Mar  3 10:00:00 2003", "2003-03-03T10:00:00Z"),
        (2, "Sat Jul 19 23:59:58 1997", "1997-07-19T23:59:58Z"),
    ] {
        let raw = mailbox::mail(
            n,
            "",
            "no Date field: the From line's date is taken\nFrom the start of a line, quoted in the file",
        );
        expected.insert(
            raw_id(&raw),
            Expected {
                date: Some(date.parse().unwrap()),
                ..Expected::default()
            },
        );
        entries.push((format!("From someone@example.org {from_date}"), raw));
    }
    std::fs::write(dir.join("corpus.mbox"), mailbox::mbox(&entries)).unwrap();
    expected
}

/// Checks the store holds each expected mail once, with its flags and date, in
/// date order, list mail in one discussion.
async fn check(node: &Node, expected: &BTreeMap<String, Expected>) {
    let stored = mailbox::stored(&node.config, "alice").await;
    let ids: Vec<&str> = stored
        .messages
        .iter()
        .map(|m| m.raw_msg_id.as_deref().unwrap())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a mail stored twice");
    assert_eq!(
        unique,
        expected.keys().map(String::as_str).collect(),
        "every mail present, nothing else"
    );
    let now = Utc::now();
    for m in &stored.messages {
        let e = &expected[m.raw_msg_id.as_deref().unwrap()];
        assert_eq!(m.is_unread, !e.read, "{}: read flag", m.subject);
        assert_eq!(m.is_answered, e.answered, "{}: answered", m.subject);
        assert_eq!(
            m.tags.contains(&"important".to_owned()),
            e.flagged,
            "{}: flagged",
            m.subject
        );
        if let Some(date) = e.date.filter(|d| *d <= now) {
            assert_eq!(m.date, date, "{}: its own date", m.subject);
            assert_eq!(m.date_sort, date, "{}: ordered by its own date", m.subject);
        }
    }
    // Lists give them newest first, by their own dates.
    for pair in stored.messages.windows(2) {
        assert!(
            pair[0].date_sort >= pair[1].date_sort,
            "list order: {} ({}) before {} ({})",
            pair[0].subject,
            pair[0].date_sort,
            pair[1].subject,
            pair[1].date_sort
        );
    }
    // The emacs-devel messages make one discussion, whose last message is the latest.
    let list: Vec<_> = stored
        .messages
        .iter()
        .filter(|m| {
            m.participants
                .iter()
                .any(|p| p.address.contains("emacs-devel.gnu.org"))
        })
        .collect();
    assert!(list.len() > 20, "the corpus's emacs-devel mail is imported");
    let discussions: BTreeSet<&str> = list.iter().map(|m| m.discussion_id.as_str()).collect();
    assert_eq!(discussions.len(), 1, "one list, one discussion");
    let latest = list.iter().map(|m| m.date_sort).max().unwrap();
    let view = stored
        .discussions
        .iter()
        .find(|d| discussions.contains(d.discussion.id.as_str()))
        .unwrap();
    assert_eq!(view.total_count, list.len() as u64);
    assert_eq!(view.discussion.last_message_date, latest);
    let unread = list.iter().filter(|m| m.is_unread).count() as u64;
    assert_eq!(view.unread_count, unread, "unread count of the discussion");
}

fn import(node: &Node, paths: &[&Path]) -> String {
    let mut args = vec!["import", "--user", "alice"];
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    node.cli(&args, None).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_mbox_and_a_maildir_of_the_corpus_are_imported_once_in_date_order() {
    let node = Node::new();
    node.cli(
        &["user", "add", "alice", "--password-stdin"],
        Some("a long enough password"),
    )
    .unwrap();
    let src = tempfile::tempdir().unwrap();
    let expected = build(src.path(), &corpus_mails(300));
    let (maildir, mbox) = (src.path().join("Maildir"), src.path().join("corpus.mbox"));

    let first = import(&node, &[&maildir, &mbox]);
    let read = expected.len();
    assert_eq!(read, 302);
    assert!(
        first.contains(&format!("messages read:    {read}")),
        "{first}"
    );
    assert!(
        first.contains(&format!("imported:         {read}")),
        "{first}"
    );
    assert!(first.contains("already present:  0"), "{first}");
    assert!(!first.contains("quarantined"), "{first}");
    check(&node, &expected).await;

    let again = import(&node, &[&maildir, &mbox]);
    assert!(again.contains("imported:         0"), "{again}");
    assert!(
        again.contains(&format!("already present:  {read}")),
        "{again}"
    );
    check(&node, &expected).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_killed_half_way_and_run_again_stores_every_mail_once() {
    let node = Node::new();
    node.cli(
        &["user", "add", "alice", "--password-stdin"],
        Some("a long enough password"),
    )
    .unwrap();
    let src = tempfile::tempdir().unwrap();
    let expected = build(src.path(), &corpus_mails(400));
    let mbox = src.path().join("corpus.mbox");
    let maildir = src.path().join("Maildir");

    let mut child = node
        .command(&["import", "--user", "alice", "--progress-every", "20"])
        .arg(&mbox)
        .arg(&maildir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    for line in stderr.lines() {
        let line = line.unwrap();
        seen.push(line.clone());
        let read: u64 = line
            .strip_prefix("import: ")
            .and_then(|l| l.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if read >= 100 {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed before its end; stderr: {seen:?}");

    let second = import(&node, &[&mbox, &maildir]);
    assert!(second.contains("messages read:    402"), "{second}");
    check(&node, &expected).await;
}
