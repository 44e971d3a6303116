//! Views built by hand for the unit and golden tests.

use crate::{
    ExternalReferences, HtmlSafety, Message, MessageView, Participant, ParticipantRole,
    PrivacyFeatures, Tag, Verdict,
};

/// A plain, unremarkable message from `alice@example.org` to `bob@caliopen.local`,
/// with a Message-ID and nothing suspicious.
pub fn view() -> MessageView {
    MessageView {
        message: Message {
            subject: "Lunch on Friday".into(),
            date: 1_737_460_800_000,
            participants: vec![
                participant(ParticipantRole::From, "alice@example.org", "Alice"),
                participant(ParticipantRole::To, "bob@caliopen.local", "Bob"),
            ],
            body_plain: Some("Shall we meet at noon?\n".into()),
            body_html: None,
            html_safety: HtmlSafety {
                has_scripts: false,
                has_remote_content: false,
                has_forms: false,
            },
            attachments: Vec::new(),
            external_references: ExternalReferences {
                message_id: Some("m1@example.org".into()),
                parent_id: None,
                ancestors_ids: Vec::new(),
            },
            discussion_key: "email:alice@example.org email:bob@caliopen.local".into(),
            privacy_features: PrivacyFeatures {
                transport_tls_version: None,
                transport_cipher: None,
                external_hops: 1,
                dkim_signed: false,
                upstream_spam: None,
                upstream_spam_score: None,
                encryption: None,
                signature: None,
                mail_agent: None,
                is_internal: false,
                extra: Vec::new(),
            },
            problems: Vec::new(),
        },
        tags: Vec::new(),
        pi: None,
        importance_level: 0,
        is_spam: false,
        spam_score: None,
    }
}

pub fn participant(role: ParticipantRole, address: &str, label: &str) -> Participant {
    Participant {
        role,
        protocol: "email".into(),
        address: address.into(),
        label: label.into(),
    }
}

/// A tag of the user's.
pub fn tag(name: &str, kind: &str, importance_level: i8) -> Tag {
    Tag {
        name: name.into(),
        kind: kind.into(),
        importance_level,
    }
}

/// The default tags of every user.
pub fn system_tags() -> Vec<Tag> {
    ["inbox", "spam", "important", "internal"]
        .iter()
        .map(|n| {
            tag(
                n,
                "system",
                match *n {
                    "important" => 5,
                    "spam" => -10,
                    _ => 0,
                },
            )
        })
        .collect()
}

/// The names of the rules a verdict reports, in order.
pub fn rule_names(verdict: &Verdict) -> Vec<&str> {
    verdict.rules.iter().map(|r| r.rule.as_str()).collect()
}

/// A verdict as text, one line per field and per rule, for golden files.
pub fn render(verdict: &Verdict) -> String {
    let mut out = String::new();
    out.push_str(&format!("is-spam: {:?}\n", verdict.is_spam));
    out.push_str(&format!(
        "spam-score: {}\n",
        verdict
            .spam_score
            .map_or("none".into(), |s| format!("{s:.2}"))
    ));
    out.push_str(&format!("add-tags: {:?}\n", verdict.add_tags));
    out.push_str(&format!(
        "pi: {:?} importance: {:?}\n",
        verdict.pi.map(|p| (p.technic, p.comportment, p.context)),
        verdict.importance_level
    ));
    for rule in &verdict.rules {
        out.push_str(&format!(
            "rule {} {:+.2}: {}\n",
            rule.rule, rule.contribution, rule.detail
        ));
    }
    out
}
