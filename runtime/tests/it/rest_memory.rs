//! `GET /api/v2/messages?limit=50` on large mail, four at once, against the
//! server binary: each answer stays near its byte budget while every body comes
//! whole (the original web client reads bodies from the list and pages on with
//! `offset` = the messages it has), and the server's peak memory stays bounded
//! (read from /proc).

use crate::common::drills;

use std::time::Duration;

use caliopen_rest::routes::messages::LIST_ANSWER_BYTES;
use drills::{PASSWORD, USER, node_with_user, server_pid, wait_settled};

const MAILS: usize = 12;
const BODY_BYTES: usize = 6 << 20;
const MIB: u64 = 1 << 20;

/// A plain-text mail whose body is `BODY_BYTES` of lines.
fn big_mail(i: usize) -> String {
    let mut mail = format!(
        "From: Someone <someone@example.org>\r\nTo: {USER}@caliopen.local\r\n\
         Subject: big {i}\r\nMessage-ID: <big-{i}@example.org>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n"
    );
    let line = format!("mail {i:02} lorem ipsum dolor sit amet consectetur adipiscing elit\r\n");
    let start = mail.len();
    while mail.len() - start + line.len() <= BODY_BYTES {
        mail.push_str(&line);
    }
    mail
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} of {pid}"))
}

#[test]
fn lists_of_large_mail_are_paged_by_size_with_bodies_whole_and_memory_bounded() {
    let node = node_with_user();
    let server = node.serve();
    for i in 0..MAILS {
        let to = format!("{USER}@caliopen.local");
        let codes = server.lmtp_send("someone@example.org", &[&to], &big_mail(i));
        assert_eq!(codes.get(&to), Some(&250), "{codes:?}");
    }
    wait_settled(&server, Duration::from_secs(900));
    let session = server.login(USER, PASSWORD);
    let pid = server_pid(&node);

    // Reset the server's peak resident set (VmHWM) to its current one.
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
    let before = status_kib(pid, "VmRSS:");
    let answers: Vec<(u16, serde_json::Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| server.get(&session, "/api/v2/messages?limit=50")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let peak_growth = status_kib(pid, "VmHWM:").saturating_sub(before) * 1024;
    eprintln!(
        "four lists: the server's peak grew by {} MiB; answers of {:?} bytes",
        peak_growth / MIB,
        answers
            .iter()
            .map(|(_, a)| a.to_string().len())
            .collect::<Vec<_>>()
    );

    for (code, answer) in &answers {
        assert_eq!(*code, 200, "{answer}");
        assert_eq!(answer["total"], MAILS as u64);
        let size = answer.to_string().len();
        let count = answer["messages"].as_array().unwrap().len();
        assert!(
            (1..MAILS).contains(&count),
            "{count} messages in one answer"
        );
        assert!(
            size <= LIST_ANSWER_BYTES + BODY_BYTES + (1 << 20),
            "an answer of {size} bytes"
        );
    }
    // Four answers of all twelve bodies would be about 300 MiB of JSON, and as
    // much again of decoded messages.
    assert!(
        peak_growth < 160 * MIB,
        "the server's peak memory grew by {} MiB for four lists",
        peak_growth / MIB
    );

    // Paging on as the web client does reaches every message, each body whole.
    let mut seen = Vec::new();
    while seen.len() < MAILS {
        let (code, page) = server.get(
            &session,
            &format!("/api/v2/messages?limit=50&offset={}", seen.len()),
        );
        assert_eq!(code, 200, "{page}");
        let messages = page["messages"].as_array().unwrap().clone();
        assert!(
            !messages.is_empty(),
            "a page without messages at {}",
            seen.len()
        );
        for m in messages {
            let body = m["body"].as_str().unwrap();
            assert!(
                body.len() > BODY_BYTES - 1024,
                "a body of {} bytes",
                body.len()
            );
            seen.push(m["subject"].as_str().unwrap().to_owned());
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), MAILS, "{seen:?}");
}
