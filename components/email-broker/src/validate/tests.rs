use super::*;
use crate::{ExternalReferences, OutboundAttachment};

fn p(role: ParticipantRole, address: &str) -> Participant {
    Participant {
        role,
        protocol: "email".into(),
        address: address.into(),
        label: String::new(),
    }
}

fn draft() -> Draft {
    Draft {
        from: p(ParticipantRole::From, "alice@caliopen.local"),
        participants: vec![
            p(ParticipantRole::From, "Alice@caliopen.local"),
            p(ParticipantRole::To, "bob@example.org"),
        ],
        subject: "Hi".into(),
        body_plain: "Hello".into(),
        body_html: None,
        message_id: "m1@caliopen.local".into(),
        parent: None,
        date: 1_737_453_600_000,
        attachments: Vec::new(),
    }
}

fn error(d: &Draft) -> String {
    let e = check(d).expect_err("the draft should be refused");
    assert_eq!(e.kind, INVALID_DRAFT);
    e.message
}

#[test]
fn a_simple_draft_passes() {
    let d = draft();
    let checked = check(&d).expect("valid");
    assert_eq!(checked.to.len(), 1);
    assert!(checked.references.is_empty());
}

#[test]
fn refusals() {
    let mut d = draft();
    d.participants.retain(|p| p.role != ParticipantRole::To);
    assert!(error(&d).contains("no recipient"));

    let mut d = draft();
    d.participants
        .push(p(ParticipantRole::Cc, "bob at example.org"));
    assert!(error(&d).contains("Cc address"));

    let mut d = draft();
    d.from.address = "alice@".into();
    assert!(error(&d).contains("domain is empty"));

    let mut d = draft();
    d.subject = "Hi\r\nBcc: eve@evil.example".into();
    assert!(error(&d).contains("Subject"));

    let mut d = draft();
    d.participants[1].label = "Bob\nX-Evil: 1".into();
    assert!(error(&d).contains("display name"));

    let mut d = draft();
    d.message_id = "no-at-sign".into();
    assert!(error(&d).contains("Message-ID"));

    let mut d = draft();
    d.participants
        .push(p(ParticipantRole::From, "mallory@example.org"));
    assert!(error(&d).contains("other than the draft's author"));

    let mut d = draft();
    d.participants[1].protocol = "twitter".into();
    assert!(error(&d).contains("protocol"));

    let mut d = draft();
    d.attachments.push(OutboundAttachment {
        file_name: "a.pdf".into(),
        content_type: "pdf".into(),
        content: vec![1],
    });
    assert!(error(&d).contains("type/subtype"));

    let mut d = draft();
    d.date = -1;
    assert!(error(&d).contains("1970"));

    let mut d = draft();
    d.parent = Some(ExternalReferences {
        message_id: Some("a b@x".into()),
        parent_id: None,
        ancestors_ids: Vec::new(),
    });
    assert!(error(&d).contains("parent message id"));
}

#[test]
fn addresses() {
    for ok in [
        "a@b",
        "a.b+c@x.example",
        "\"john doe\"@x.example",
        "jörg@bücher.example",
        "a@[192.0.2.1]",
        "a@[IPv6:2001:db8::1]",
    ] {
        assert_eq!(address(ok), Ok(()), "{ok}");
    }
    for bad in [
        "", "a", "@b", "a@", ".a@b", "a..b@c", "a b@c", "a@b c", "a@-b.c", "a@b..c", "<a@b>",
        "a,b@c", "a@b\r\n",
    ] {
        assert!(address(bad).is_err(), "{bad}");
    }
}

#[test]
fn references_follow_rfc_5322() {
    let parent = ExternalReferences {
        message_id: Some("p@x".into()),
        parent_id: Some("g@x".into()),
        ancestors_ids: vec!["r1@x".into(), "g@x".into()],
    };
    assert_eq!(references(&parent, Some("p@x")), ["r1@x", "g@x", "p@x"]);
    let no_refs = ExternalReferences {
        ancestors_ids: Vec::new(),
        ..parent.clone()
    };
    assert_eq!(references(&no_refs, Some("p@x")), ["g@x", "p@x"]);
    let long = ExternalReferences {
        message_id: Some("p@x".into()),
        parent_id: None,
        ancestors_ids: (0..150).map(|n| format!("r{n}@x")).collect(),
    };
    let refs = references(&long, Some("p@x"));
    assert_eq!(refs.len(), MAX_REFERENCES);
    assert_eq!(refs[0], "r0@x");
    assert_eq!(refs[1], "r52@x");
    assert_eq!(refs[MAX_REFERENCES - 1], "p@x");
}
