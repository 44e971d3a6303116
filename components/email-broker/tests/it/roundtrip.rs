//! Round trip: drafts rendered by `outbound` and read back by the parser crate and
//! `inbound` give the same participants (minus Bcc), subject, bodies, references and
//! attachments; the bytes are well-formed for SMTP (CRLF lines of at most 998
//! bytes, no Bcc anywhere).

use crate::common;

use caliopen_email_broker::outbound::outbound;
use caliopen_email_broker::{
    Draft, ExternalReferences, Message, OutboundAttachment, Participant, ParticipantRole as R,
};

fn p(role: R, address: &str, label: &str) -> Participant {
    Participant {
        role,
        protocol: "email".into(),
        address: address.into(),
        label: label.into(),
    }
}

fn base() -> Draft {
    Draft {
        from: p(R::From, "alice@caliopen.local", "Alice Liddell"),
        participants: vec![
            p(R::From, "alice@caliopen.local", "Alice Liddell"),
            p(R::To, "bob@example.org", "Bob"),
        ],
        subject: "Hello".into(),
        body_plain: "Hello Bob,\n\nHow are you?\n\nAlice\n".into(),
        body_html: None,
        message_id: "draft-1@caliopen.local".into(),
        parent: None,
        date: 1_737_460_800_000,
        attachments: Vec::new(),
    }
}

/// The drafts of the round trip, by name.
fn drafts() -> Vec<(&'static str, Draft)> {
    let mut html = base();
    html.message_id = "draft-html@caliopen.local".into();
    html.body_html = Some("<p>Hello <b>Bob</b>,</p>\n<p>How are you?</p>\n".into());

    let mut unicode = base();
    unicode.message_id = "draft-unicode@caliopen.local".into();
    unicode.subject = "Réunion : « café » à 10 h — 会議".into();
    unicode.from.label = "Zoé Müller, PhD".into();
    unicode.participants = vec![
        p(R::To, "bob@example.org", "Bob \"the builder\" O'Neil"),
        p(R::Cc, "carol@example.net", "Carol (work)"),
        p(R::Cc, "dave@example.com", ""),
        p(R::ReplyTo, "zoe.home@example.net", "Zoé à la maison"),
    ];
    unicode.body_plain = format!("Ligne accentuée: éàü\n{}\nfin\n", "x".repeat(1200));

    let mut attachments = base();
    attachments.message_id = "draft-att@caliopen.local".into();
    attachments.body_html = Some("<p>See attached.</p>".into());
    attachments.attachments = vec![
        OutboundAttachment {
            file_name: "report 2025.pdf".into(),
            content_type: "application/pdf".into(),
            content: (0..=255u8).cycle().take(700).collect(),
        },
        OutboundAttachment {
            file_name: "notes.txt".into(),
            content_type: "text/plain".into(),
            content: b"plain notes\r\nsecond line\r\n".to_vec(),
        },
        OutboundAttachment {
            file_name: "Jahresabschluß, Übersicht.csv".into(),
            content_type: "text/csv".into(),
            content: "a;b\n1;2\n".as_bytes().to_vec(),
        },
    ];

    let mut reply = base();
    reply.message_id = "draft-reply@caliopen.local".into();
    reply.subject = "Re: Lunch on Friday?".into();
    reply
        .participants
        .push(p(R::Bcc, "secret@example.com", "Secret"));
    reply
        .participants
        .push(p(R::ListId, "dev.lists.example.org", "Dev list"));
    reply.parent = Some(ExternalReferences {
        message_id: Some("lunch-1@example.org".into()),
        parent_id: Some("start-0@example.org".into()),
        ancestors_ids: vec!["start-0@example.org".into()],
    });

    let mut bcc_only = base();
    bcc_only.message_id = "draft-bcc@caliopen.local".into();
    bcc_only.participants = vec![
        p(R::Bcc, "hidden@example.com", ""),
        p(R::Sender, "secretary@caliopen.local", "Secretary"),
    ];

    vec![
        ("plain", base()),
        ("html", html),
        ("unicode", unicode),
        ("attachments", attachments),
        ("reply", reply),
        ("bcc-only", bcc_only),
    ]
}

/// `(role, address, label)` of the participants a reader should see: the draft's
/// author and its participants, less Bcc and List-ID, in the broker's role order.
fn expected_participants(draft: &Draft) -> Vec<(R, String, String)> {
    let order = [R::From, R::To, R::Cc, R::ReplyTo, R::Sender];
    let mut all = vec![draft.from.clone()];
    all.extend(draft.participants.iter().cloned());
    let mut out: Vec<(R, String, String)> = Vec::new();
    for role in order {
        for q in all.iter().filter(|q| q.role == role) {
            let item = (role, q.address.to_lowercase(), q.label.clone());
            if !out.iter().any(|o| o.0 == item.0 && o.1 == item.1) {
                out.push(item);
            }
        }
    }
    out
}

fn seen_participants(m: &Message) -> Vec<(R, String, String)> {
    m.participants
        .iter()
        .map(|q| (q.role, q.address.clone(), q.label.clone()))
        .collect()
}

/// Line endings as written by the sender: the parser keeps the CRLF of the wire.
fn lf(text: &str) -> String {
    text.replace("\r\n", "\n")
}

#[test]
fn drafts_survive_the_round_trip() {
    let mut failures = Vec::new();
    for (name, draft) in drafts() {
        let bytes = match outbound(&draft) {
            Ok(bytes) => bytes,
            Err(e) => {
                failures.push(format!(
                    "{name}: outbound refused it: {} {}",
                    e.kind, e.message
                ));
                continue;
            }
        };
        failures.extend(
            wire_problems(&bytes)
                .into_iter()
                .map(|f| format!("{name}: {f}")),
        );
        let message = common::broker(&bytes).expect("the parser reads what outbound wrote");
        let mut fail = |what: &str, expected: String, actual: String| {
            if expected != actual {
                failures.push(format!(
                    "{name}: {what}\n  expected: {expected}\n  actual:   {actual}"
                ));
            }
        };
        fail(
            "participants",
            format!("{:?}", expected_participants(&draft)),
            format!("{:?}", seen_participants(&message)),
        );
        fail("subject", draft.subject.clone(), message.subject.clone());
        fail("date", draft.date.to_string(), message.date.to_string());
        fail(
            "body-plain",
            draft.body_plain.clone(),
            lf(message.body_plain.as_deref().unwrap_or("<none>")),
        );
        fail(
            "body-html",
            format!("{:?}", draft.body_html),
            format!("{:?}", message.body_html.as_deref().map(lf)),
        );
        let refs = &message.external_references;
        fail(
            "message-id",
            draft.message_id.clone(),
            refs.message_id.as_deref().unwrap_or("<none>").to_string(),
        );
        let parent = draft.parent.as_ref();
        fail(
            "parent-id",
            format!("{:?}", parent.and_then(|p| p.message_id.clone())),
            format!("{:?}", refs.parent_id),
        );
        let ancestors: Vec<String> = parent
            .map(|p| {
                p.ancestors_ids
                    .iter()
                    .cloned()
                    .chain(p.message_id.clone())
                    .collect()
            })
            .unwrap_or_default();
        fail(
            "ancestors",
            format!("{ancestors:?}"),
            format!("{:?}", refs.ancestors_ids),
        );
        let sent: Vec<_> = draft
            .attachments
            .iter()
            .map(|a| {
                (
                    Some(a.file_name.clone()),
                    a.content_type.clone(),
                    a.content.len() as u64,
                )
            })
            .collect();
        let got: Vec<_> = message
            .attachments
            .iter()
            .map(|a| (a.file_name.clone(), a.content_type.clone(), a.size))
            .collect();
        fail("attachments", format!("{sent:?}"), format!("{got:?}"));
        fail("problems", "[]".into(), format!("{:?}", message.problems));
    }
    assert!(
        failures.is_empty(),
        "round trip failures:\n{}",
        failures.join("\n")
    );
}

/// What an SMTP server or a strict reader would object to in `bytes`.
fn wire_problems(bytes: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    let text = String::from_utf8_lossy(bytes);
    if text.replace("\r\n", "").contains('\n') || text.replace("\r\n", "").contains('\r') {
        problems.push("bare CR or LF".to_string());
    }
    if let Some(line) = text.split("\r\n").find(|l| l.len() > 998) {
        problems.push(format!("line of {} bytes", line.len()));
    }
    let header = text.split("\r\n\r\n").next().unwrap_or_default();
    for name in ["From:", "Date:", "Message-ID:", "MIME-Version: 1.0"] {
        if !header.lines().any(|l| l.starts_with(name)) {
            problems.push(format!("no {name} header"));
        }
    }
    if header
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("bcc:"))
    {
        problems.push("a Bcc header is written".to_string());
    }
    if text.contains("secret@example.com") || text.contains("hidden@example.com") {
        problems.push("a Bcc address appears in the message".to_string());
    }
    problems
}

#[test]
fn bcc_only_drafts_name_undisclosed_recipients() {
    let (_, draft) = drafts()
        .into_iter()
        .find(|(n, _)| *n == "bcc-only")
        .expect("bcc-only draft");
    let bytes = String::from_utf8(outbound(&draft).expect("valid")).expect("ASCII");
    assert!(
        bytes.contains("\r\nTo: undisclosed-recipients:;\r\n"),
        "{bytes}"
    );
    assert!(
        bytes.contains("\r\nSender: \"Secretary\" <secretary@caliopen.local>\r\n"),
        "{bytes}"
    );
}

#[test]
fn a_reply_has_in_reply_to_and_references() {
    let (_, draft) = drafts()
        .into_iter()
        .find(|(n, _)| *n == "reply")
        .expect("reply draft");
    let bytes = String::from_utf8(outbound(&draft).expect("valid")).expect("ASCII");
    assert!(
        bytes.contains("\r\nIn-Reply-To: <lunch-1@example.org>\r\n"),
        "{bytes}"
    );
    assert!(
        bytes.contains("\r\nReferences: <start-0@example.org> <lunch-1@example.org>\r\n"),
        "{bytes}"
    );
    assert!(
        bytes.contains("\r\nDate: Tue, 21 Jan 2025 12:00:00 +0000\r\n"),
        "{bytes}"
    );
}

#[test]
fn invalid_drafts_are_refused_not_trapped() {
    let mut draft = base();
    draft.participants.retain(|q| q.role == R::From);
    let error = outbound(&draft).expect_err("no recipient");
    assert_eq!(error.kind, "invalid-draft");
    assert!(error.message.contains("no recipient"), "{}", error.message);
}

/// A draft made of one armored OpenPGP message goes out as PGP/MIME (RFC 3156 §4,
/// as the original broker's `go.emails/encrypt.go` did), and our own inbound path
/// reads it back as PGP/MIME; with anything beside it, it does not.
#[test]
fn an_armored_message_alone_goes_out_as_pgp_mime() {
    let armored = "-----BEGIN PGP MESSAGE-----\n\njA0ECQMC0Vb4W1Kz7rT/0kEBSm9+Q0Zr\n=wXyZ\n-----END PGP MESSAGE-----";
    let mut draft = base();
    draft.body_plain = format!("{armored}\n");
    let bytes = outbound(&draft).expect("valid");
    assert_eq!(wire_problems(&bytes), Vec::<String>::new());
    let text = String::from_utf8(bytes.clone()).expect("ASCII");
    let (header, body) = text.split_once("\r\n\r\n").expect("a header");
    let unfolded = header.replace("\r\n\t", " ").replace("\r\n ", " ");
    let ct = unfolded
        .lines()
        .find(|l| l.starts_with("Content-Type:"))
        .expect("a Content-Type");
    assert!(ct.contains("multipart/encrypted"), "{ct}");
    assert!(
        ct.contains("protocol=\"application/pgp-encrypted\""),
        "{ct}"
    );
    let boundary = ct
        .split("boundary=\"")
        .nth(1)
        .and_then(|b| b.split('"').next())
        .expect("a boundary");
    let parts: Vec<&str> = body.split(&format!("--{boundary}")).collect();
    // preamble, version part, data part, closing `--`.
    assert_eq!(parts.len(), 4, "{body}");
    assert!(
        parts[1].contains("Content-Type: application/pgp-encrypted"),
        "{}",
        parts[1]
    );
    assert!(parts[1].contains("\r\n\r\nVersion: 1\r\n"), "{}", parts[1]);
    assert!(
        parts[2].contains("Content-Type: application/octet-stream"),
        "{}",
        parts[2]
    );
    assert!(
        parts[2].contains(&format!("\r\n\r\n{}\r\n", armored.replace('\n', "\r\n"))),
        "{}",
        parts[2]
    );
    assert!(parts[3].starts_with("--"), "{}", parts[3]);
    let message = common::broker(&bytes).expect("the parser reads it");
    assert_eq!(
        message.privacy_features.encryption.map(common::scheme),
        Some("pgp-mime")
    );

    // An HTML body or an attachment beside it: not an encrypted message.
    let mut html = draft.clone();
    html.body_html = Some("<p>x</p>".into());
    let text = String::from_utf8(outbound(&html).expect("valid")).expect("ASCII");
    assert!(!text.contains("multipart/encrypted"), "{text}");
}

/// Prints the MIME of every round-trip draft:
/// `cargo test -p caliopen-email-broker --test it roundtrip::show -- --ignored --nocapture`.
#[test]
#[ignore = "a tool: shows what outbound writes"]
fn show() {
    for (name, draft) in drafts() {
        let bytes = outbound(&draft).expect("valid");
        eprintln!("===== {name}\n{}", String::from_utf8_lossy(&bytes));
    }
}
