//! `caliopen import` of mailboxes built here: every hostile input (a path that does
//! not exist, a binary file, a truncated mbox, an over-size message on one huge line
//! without a newline, an empty maildir, symbolic link loops, a file that is no mail)
//! gets its clear message, in bounded memory, and what can be imported is; the same
//! import through the admin API while the server runs.

use crate::common;

use std::io::Write as _;

use common::mailbox::{self, raw_id};
use common::node::Node;
use flate2::Compression;
use flate2::write::GzEncoder;

/// Mail larger than this is refused (a small limit, to keep the files small).
const LIMIT: usize = 200_000;

fn from_line(n: usize) -> String {
    format!(
        "From sender{n}@example.org Mon Mar  3 10:00:0{} 2003",
        n % 10
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// The peak resident memory of this process's waited-for children, in bytes.
fn children_peak_rss() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    #[allow(unsafe_code)]
    // SAFETY: getrusage writes one rusage through a pointer to a local that lives for the call.
    let usage = unsafe {
        assert_eq!(
            libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()),
            0
        );
        usage.assume_init()
    };
    u64::try_from(usage.ru_maxrss).unwrap() * 1024
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_inputs_are_each_refused_clearly_and_the_rest_is_imported() {
    let node = Node::new();
    node.write_config_with(true, &format!("[lmtp]\nmax_message_size = {LIMIT}\n"));
    node.cli(
        &["user", "add", "alice", "--password-stdin"],
        Some("a long enough password"),
    )
    .unwrap();
    let src = tempfile::tempdir().unwrap();
    let dir = src.path();
    let mut expected = Vec::new();

    // A truncated mbox: its last mail stops in the middle of a line.
    let whole: Vec<_> = (1..=2)
        .map(|n| {
            (
                from_line(n),
                mailbox::mail(n, "Mon, 3 Mar 2003 10:00:00 +0000", "whole"),
            )
        })
        .collect();
    let mut truncated = mailbox::mbox(&whole);
    truncated.extend_from_slice(from_line(3).as_bytes());
    let cut = &mailbox::mail(
        3,
        "Mon, 3 Mar 2003 11:00:00 +0000",
        "cut in the middle of this line",
    )[..170];
    truncated.push(b'\n');
    truncated.extend_from_slice(cut);
    std::fs::write(dir.join("truncated.mbox"), &truncated).unwrap();
    expected.extend(whole.iter().map(|(_, raw)| raw_id(raw)));
    expected.push(raw_id(cut));

    // A gzip-compressed mbox whose second mail is one 300 MB line without a newline.
    let before = mailbox::mail(4, "Tue, 4 Mar 2003 10:00:00 +0000", "before the huge one");
    let after = mailbox::mail(6, "Thu, 6 Mar 2003 10:00:00 +0000", "after the huge one");
    let mut huge = mailbox::mbox(&[(from_line(4), before.clone())]);
    let huge_offset = huge.len();
    let huge_line = 300 * 1024 * 1024;
    let huge_head = format!("{}\nSubject: huge\n\n", from_line(5));
    {
        let file = std::fs::File::create(dir.join("huge.mbox.gz")).unwrap();
        let mut gz = GzEncoder::new(file, Compression::fast());
        gz.write_all(&huge).unwrap();
        gz.write_all(huge_head.as_bytes()).unwrap();
        let chunk = vec![b'x'; 1024 * 1024];
        for _ in 0..huge_line / chunk.len() {
            gz.write_all(&chunk).unwrap();
        }
        gz.write_all(b"\n\n").unwrap();
        huge = mailbox::mbox(&[(from_line(6), after.clone())]);
        gz.write_all(&huge).unwrap();
        gz.finish().unwrap();
    }
    expected.extend([raw_id(&before), raw_id(&after)]);
    let huge_span = huge_head.len() + huge_line + 2;

    // A binary file, a path that does not exist, an empty maildir.
    let binary: Vec<u8> = b"\x7fELF\x02\x01\x01\0"
        .iter()
        .copied()
        .chain((0..=255u8).cycle().take(4096))
        .collect();
    std::fs::write(dir.join("program.bin"), binary).unwrap();
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join("empty-maildir").join(sub)).unwrap();
    }

    // A folder of .eml files with symbolic link loops and a file that is no mail.
    let folder = dir.join("eml-folder");
    std::fs::create_dir(&folder).unwrap();
    let one = mailbox::mail(7, "Fri, 7 Mar 2003 10:00:00 +0000", "one file");
    std::fs::write(folder.join("one.eml"), &one).unwrap();
    expected.push(raw_id(&one));
    std::fs::write(folder.join("notes.txt"), "just some notes, not a mail\n").unwrap();
    std::os::unix::fs::symlink(".", folder.join("self")).unwrap();
    std::os::unix::fs::symlink("b", folder.join("a")).unwrap();
    std::os::unix::fs::symlink("a", folder.join("b")).unwrap();

    let path = |name: &str| dir.join(name).display().to_string();
    let args = [
        "import",
        "--user",
        "alice",
        &path("truncated.mbox"),
        &path("huge.mbox.gz"),
        &path("program.bin"),
        &path("no-such-mailbox"),
        &path("empty-maildir"),
        &path("eml-folder"),
    ];
    let out = node.cli(&args, None).unwrap_err();
    let peak = children_peak_rss();

    for (what, needle) in [
        (
            "missing path",
            format!("{}: no such file or directory", path("no-such-mailbox")),
        ),
        (
            "binary file",
            format!(
                "{}: neither an mbox (no `From ` line at its start)",
                path("program.bin")
            ),
        ),
        (
            "empty maildir",
            format!("{}: no message found", path("empty-maildir")),
        ),
        (
            "truncated mbox",
            format!(
                "{} at byte {}: the file ends inside a message",
                path("truncated.mbox"),
                mailbox::mbox(&whole).len()
            ),
        ),
        (
            "over-size message",
            format!(
                "refused: {} at byte {huge_offset} (uncompressed): {huge_span} bytes, over the size limit of {LIMIT} bytes (kept as ",
                path("huge.mbox.gz")
            ),
        ),
        (
            "symlink loop",
            format!(
                "refused: {}: a loop of symbolic links",
                folder.join("a").display()
            ),
        ),
        (
            "not a mail",
            format!(
                "refused: {}: not a mail",
                folder.join("notes.txt").display()
            ),
        ),
        (
            "what could be imported",
            format!("imported:         {}", expected.len()),
        ),
        ("the end", "2 of the paths could not be read".to_owned()),
    ] {
        assert!(out.contains(&needle), "{what}: `{needle}` not in:\n{out}");
    }
    assert!(!out.contains("panicked"), "{out}");
    // The reader held one 300 MB line in memory bounded by the limit: the whole
    // process (store and components included) stays far below it.
    assert!(peak < 250 * 1024 * 1024, "peak RSS {peak} bytes");

    // The over-size mail was kept whole, as the mbox had it.
    let kept = out
        .split("(kept as ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap();
    let kept_len = std::fs::metadata(node.dir.path().join(kept))
        .or_else(|_| std::fs::metadata(kept))
        .unwrap()
        .len();
    assert_eq!(kept_len, huge_span as u64, "{kept}");

    let stored = mailbox::stored(&node.config, "alice").await;
    let mut ids: Vec<String> = stored
        .messages
        .iter()
        .map(|m| m.raw_msg_id.clone().unwrap())
        .collect();
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected, "every mail that could be imported, once");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_server_running_the_import_goes_through_the_admin_api() {
    let node = Node::new();
    let mails: Vec<_> = (1..=20)
        .map(|n| {
            let date = format!("Mon, {n} Mar 2003 10:00:00 +0000");
            (from_line(n), mailbox::mail(n, &date, "over the admin API"))
        })
        .collect();
    let src = tempfile::tempdir().unwrap();
    let mbox = src.path().join("mail.mbox.gz");
    std::fs::write(&mbox, gzip(&mailbox::mbox(&mails))).unwrap();
    let mbox = mbox.display().to_string();

    let server = node.serve();
    node.cli(
        &["user", "add", "alice", "--password-stdin"],
        Some("a long enough password"),
    )
    .unwrap();
    let first = node
        .cli(&["import", "--user", "alice", &mbox], None)
        .unwrap();
    assert!(
        first.contains("imported:         20 (processed and indexed)"),
        "{first}"
    );
    let again = node
        .cli(&["import", "--user", "alice", &mbox], None)
        .unwrap();
    assert!(again.contains("imported:         0"), "{again}");
    assert!(again.contains("already present:  20"), "{again}");
    let unknown = node
        .cli(&["import", "--user", "nobody", &mbox], None)
        .unwrap_err();
    assert!(
        unknown.contains("the server has no user `nobody`"),
        "{unknown}"
    );

    let session = server.login("alice", "a long enough password");
    let (code, list) = server.get(&session, "/api/v2/messages?limit=50");
    assert_eq!(code, 200, "{list}");
    let subjects: Vec<&str> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    let newest_first: Vec<String> = (1..=20).rev().map(|n| format!("mail {n}")).collect();
    assert_eq!(subjects, newest_first, "ordered by their own dates");
    drop(server);
}
