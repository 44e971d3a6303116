//! The largest mail the LMTP server accepts goes through the default chain: no
//! component runs out of memory on a mail the server acknowledged, whether its size
//! is in an attachment or in its HTML body (which the parser also turns into text).

use crate::common;

use std::time::Duration;

use caliopen_core::model::Message;
use caliopen_runtime::pipeline::QUALIFIER_BODY_BYTES;
use common::inproc::InProcess;

const HEAD: &str = "From: Someone <someone@example.org>\r\nTo: alice@caliopen.local\r\n\
    Subject: the biggest\r\nMessage-ID: <biggest@example.org>\r\nMIME-Version: 1.0\r\n\
    Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n\
    --XX\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--XX\r\n";

/// A mail of `HEAD`, then `part_head`, then `line` repeated up to the size limit.
fn mail_at_limit(part_head: &str, line: &str) -> Vec<u8> {
    let limit = caliopen_smtp::InboundSettings::default().max_message_size;
    let end = "\r\n--XX--\r\n";
    let mut mail = format!("{HEAD}{part_head}");
    while mail.len() + line.len() + end.len() <= limit {
        mail.push_str(line);
    }
    mail.push_str(end);
    assert!(mail.len() > limit - line.len() - end.len() && mail.len() <= limit);
    mail.into_bytes()
}

/// Delivers `raw` to a new user through the default chain; the stored message.
async fn delivered(raw: &[u8]) -> Message {
    let node = InProcess::with_default_chain().await;
    let alice = node.user("alice").await;
    node.deliver_raw("alice", raw).await;
    node.settle(Duration::from_secs(300)).await;
    let quarantined = node.core.quarantined().await.unwrap();
    assert!(quarantined.is_empty(), "{quarantined:?}");
    let mut messages = node.messages(alice).await;
    assert_eq!(messages.len(), 1);
    messages.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_at_the_size_limit_with_a_big_attachment_is_stored() {
    let raw = mail_at_limit(
        "Content-Type: application/octet-stream; name=\"big.bin\"\r\n\
         Content-Disposition: attachment; filename=\"big.bin\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n",
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n",
    );
    let m = delivered(&raw).await;
    assert_eq!(m.subject, "the biggest");
    assert_eq!(m.attachments.len(), 1, "{:?}", m.attachments);
    // 54 bytes per 74-byte base64 line.
    let decoded = m.attachments[0].size as usize;
    assert!(
        decoded > raw.len() / 74 * 54 - 1000,
        "attachment of {decoded} bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_at_the_size_limit_with_a_big_html_body_is_stored_whole() {
    let line = "<p>Lorem <b>ipsum</b> <a href=\"https://x.example/\">dolor</a> viagra</p>\r\n";
    let raw = mail_at_limit("Content-Type: text/html; charset=utf-8\r\n\r\n", line);
    let m = delivered(&raw).await;
    let html = m.body_html.as_deref().unwrap_or_default();
    // Stored whole, although the qualifiers saw only its start.
    assert!(
        html.len() > raw.len() - 1000,
        "HTML body of {} bytes",
        html.len()
    );
    assert!(html.len() > QUALIFIER_BODY_BYTES);
    assert!(
        m.problems
            .iter()
            .any(|p| p.contains(&format!("qualifiers saw its first {QUALIFIER_BODY_BYTES}"))),
        "{:?}",
        m.problems
    );
}
