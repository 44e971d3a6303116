//! Received attachments are read out of their raw mail by the parser component
//! (in its sandbox), a few at a time, never parsed natively in the request
//! handler: sixteen downloads at once of a large attachment, against the server
//! binary, each whole, with the server's peak memory read from /proc.

use crate::common;
use crate::common::drills;

use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use drills::{PASSWORD, USER, node_with_user, server_pid, wait_settled};

const ATTACHMENT_BYTES: usize = 16 << 20;
const MIB: u64 = 1 << 20;

/// The attachment: bytes that differ along the file, so a wrong slice shows.
fn attachment() -> Vec<u8> {
    (0..ATTACHMENT_BYTES)
        .map(|i| (i % 251) as u8 ^ (i >> 16) as u8)
        .collect()
}

fn mail(content: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(content);
    let mut body = String::with_capacity(encoded.len() * 78 / 76 + 1024);
    for line in encoded.as_bytes().chunks(76) {
        body.push_str(std::str::from_utf8(line).unwrap());
        body.push_str("\r\n");
    }
    format!(
        "From: Someone <someone@example.org>\r\nTo: {USER}@caliopen.local\r\n\
         Subject: the file\r\nMessage-ID: <file@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n\
         --XX\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
         --XX\r\nContent-Type: application/octet-stream; name=\"big.bin\"\r\n\
         Content-Disposition: attachment; filename=\"big.bin\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{body}--XX--\r\n"
    )
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
fn sixteen_downloads_of_a_large_attachment_are_read_by_the_parser_a_few_at_a_time() {
    let content = attachment();
    let node = node_with_user();
    let server = node.serve();
    let to = format!("{USER}@caliopen.local");
    let codes = server.lmtp_send("someone@example.org", &[&to], &mail(&content));
    assert_eq!(codes.get(&to), Some(&250), "{codes:?}");
    wait_settled(&server, Duration::from_secs(600));
    let session = server.login(USER, PASSWORD);
    let (code, list) = server.get(&session, "/api/v2/messages");
    assert_eq!(code, 200, "{list}");
    let url = list["messages"][0]["attachments"][0]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("no attachment url in {list}"))
        .to_owned();
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", session.user_id, session.token));
    let target = format!("http://127.0.0.1:{}{url}", node.http);
    let dir = tempfile::tempdir().unwrap();

    let pid = server_pid(&node);
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
    let before = status_kib(pid, "VmRSS:");
    let statuses: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let (auth, target, device) = (&auth, &target, &session.device);
                let out = dir.path().join(format!("{i}.bin"));
                s.spawn(move || {
                    let done = Command::new("curl")
                        .args(["-sS", "--max-time", "600", "-o"])
                        .arg(&out)
                        .args(["-w", "%{http_code}", "-H"])
                        .arg(format!("Authorization: Bearer {auth}"))
                        .arg("-H")
                        .arg(format!("X-Caliopen-Device-ID: {device}"))
                        .arg(target)
                        .output()
                        .expect("curl");
                    String::from_utf8_lossy(&done.stdout).into_owned()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let peak_growth = status_kib(pid, "VmHWM:").saturating_sub(before) * 1024;
    eprintln!(
        "sixteen downloads of a {} MiB attachment: the server's peak grew by {} MiB",
        ATTACHMENT_BYTES as u64 / MIB,
        peak_growth / MIB
    );
    for (i, status) in statuses.iter().enumerate() {
        assert_eq!(status, "200", "download {i}: {}", server.log());
        let got = std::fs::read(dir.path().join(format!("{i}.bin"))).unwrap();
        assert!(
            got == content,
            "download {i}: {} bytes, not the attachment",
            got.len()
        );
    }
    assert!(
        peak_growth < 256 * MIB,
        "the server's peak memory grew by {} MiB",
        peak_growth / MIB
    );
}

#[test]
fn the_rest_api_links_no_mail_parser() {
    // Attachments are read by the parser component: the REST crate has no MIME
    // parser of its own to parse mail with (its tests may).
    let manifest =
        std::fs::read_to_string(common::root().join("protocols/rest/Cargo.toml")).unwrap();
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .unwrap();
    assert!(!dependencies.contains("mail-parser"), "{dependencies}");
}
