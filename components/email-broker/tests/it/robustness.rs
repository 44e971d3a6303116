//! Property tests on untrusted input: `inbound` never panics whatever the headers,
//! addresses and HTML; `outbound` either refuses a draft with `invalid-draft` or
//! writes bytes the parser reads back without losing the subject or a recipient.

use caliopen_email_broker::inbound::inbound;
use caliopen_email_broker::outbound::outbound;
use caliopen_email_broker::{
    Draft, Header, Mailbox, MimePart, ParsedMail, Participant, ParticipantRole,
};
use proptest::prelude::*;

/// Header names the broker reads, and a few it does not.
const NAMES: &[&str] = &[
    "Received",
    "X-Spam-Status",
    "X-Spam-Flag",
    "X-Spam-Score",
    "X-Spam",
    "X-Spamd-Result",
    "X-Rspamd-Score",
    "DKIM-Signature",
    "List-Id",
    "User-Agent",
    "X-Mailer",
    "Subject",
];

/// Text with the characters that matter to the broker's little parsers.
fn tricky() -> impl Strategy<Value = String> {
    prop::string::string_regex("[a-zA-Z0-9 .:;,=()\\[\\]<>\"'/@_\\-&#\\\\é\t]{0,120}")
        .expect("valid regex")
}

fn mailbox() -> impl Strategy<Value = Mailbox> {
    (tricky(), tricky()).prop_map(|(name, address)| Mailbox { name, address })
}

fn mail() -> impl Strategy<Value = ParsedMail> {
    let headers = prop::collection::vec((prop::sample::select(NAMES), tricky()), 0..12);
    let html = prop::option::of(prop::string::string_regex(
        "(<[a-zA-Z]{1,6}( [a-z]{1,8}(=(\"[^\"]{0,30}\"|[^ >]{0,20}))?){0,3}>|[a-z :/.()&#;]{0,20}|<!--|-->|</[a-z]{1,6}>){0,30}",
    ).expect("valid regex"));
    let parts = prop::collection::vec((tricky(), tricky(), tricky()), 0..4);
    (
        headers,
        prop::collection::vec(mailbox(), 0..4),
        html,
        parts,
        prop::option::of(tricky()),
        prop::option::of(any::<i64>()),
    )
        .prop_map(|(headers, boxes, html, parts, list_id, date)| ParsedMail {
            headers: headers
                .into_iter()
                .map(|(n, v)| Header {
                    name: n.to_string(),
                    value: v,
                })
                .collect(),
            subject: None,
            date,
            from: boxes.clone(),
            sender: boxes.first().cloned(),
            reply_to: boxes.clone(),
            to: boxes.clone(),
            cc: boxes,
            bcc: Vec::new(),
            message_id: None,
            in_reply_to: Vec::new(),
            references: Vec::new(),
            list_id,
            body_plain: html.clone(),
            body_html: html,
            attachments: Vec::new(),
            parts: parts
                .into_iter()
                .map(|(ct, k, v)| MimePart {
                    depth: 0,
                    content_type: ct,
                    params: vec![(k, v)],
                    size: 0,
                })
                .collect(),
            size: 0,
            problems: Vec::new(),
        })
}

fn participant(role: ParticipantRole) -> impl Strategy<Value = Participant> {
    let address = prop_oneof![
        prop::string::string_regex("[a-z]{1,8}@[a-z]{1,8}\\.example").expect("valid regex"),
        tricky(),
    ];
    (address, tricky()).prop_map(move |(address, label)| Participant {
        role,
        protocol: "email".into(),
        address,
        label,
    })
}

fn draft() -> impl Strategy<Value = Draft> {
    let roles = prop::sample::select(vec![
        ParticipantRole::To,
        ParticipantRole::Cc,
        ParticipantRole::Bcc,
        ParticipantRole::ReplyTo,
        ParticipantRole::ListId,
    ]);
    let participants = prop::collection::vec(roles.prop_flat_map(participant), 0..5);
    (
        participant(ParticipantRole::From),
        participants,
        tricky(),
        tricky(),
        prop::option::of(tricky()),
    )
        .prop_map(|(from, participants, subject, body, html)| Draft {
            from,
            participants,
            subject,
            body_plain: body,
            body_html: html,
            message_id: "prop@caliopen.local".into(),
            parent: None,
            date: 1_737_460_800_000,
            attachments: Vec::new(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn inbound_never_panics(mail in mail(), received_at in any::<i64>()) {
        let message = inbound(&mail, received_at, "caliopen.local");
        prop_assert!(message.problems.len() >= mail.problems.len());
        if mail.list_id.as_deref().is_some_and(|l| !l.trim().is_empty()) {
            prop_assert!(message.discussion_key.starts_with("list:"));
        }
    }

    #[test]
    fn outbound_refuses_or_round_trips(draft in draft()) {
        match outbound(&draft) {
            Err(error) => prop_assert_eq!(error.kind, "invalid-draft"),
            Ok(bytes) => {
                let parsed = caliopen_email_parser::parse(&bytes).expect("the parser reads it");
                // Tabs are sent as spaces (see `render`).
                prop_assert_eq!(parsed.subject.unwrap_or_default(), draft.subject.trim().replace('\t', " "));
                let to: Vec<String> = parsed.to.iter().chain(&parsed.cc).map(|m| m.address.to_lowercase()).collect();
                for p in draft.participants.iter().filter(|p| matches!(p.role, ParticipantRole::To | ParticipantRole::Cc)) {
                    prop_assert!(to.contains(&p.address.trim().to_lowercase()), "{} lost in {:?}", p.address, to);
                }
            }
        }
    }
}
