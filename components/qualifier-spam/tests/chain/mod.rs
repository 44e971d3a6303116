//! Raw mail through the real parser and broker crates, then the four qualifiers'
//! pure functions in chain order (tags 10, spam 20, pi 30, importance 40), each
//! seeing the view merged so far, as `runtime/src/pipeline.rs` merges verdicts.
//!
//! Each crate generates its own copy of the WIT types, so values cross from one to
//! the next field by field; the macros below write those copies once for every
//! crate (the types have the same fields everywhere).

use caliopen_email_broker as broker;
use caliopen_email_parser as parser;
use caliopen_qualifier_importance as importance;
use caliopen_qualifier_pi as pi;
use caliopen_qualifier_spam as spam;
use caliopen_qualifier_tags as tags;

/// The local domain of the simulated installation.
pub const LOCAL_DOMAIN: &str = "caliopen.local";
/// The reception time: 2025-01-21T12:00:00Z.
pub const RECEIVED_AT: i64 = 1_737_460_800_000;

/// The simulated user: their addresses; their tags are the system tags; their
/// address book is empty.
#[derive(Debug, Clone)]
pub struct User {
    pub identities: Vec<String>,
}

/// What the chain concluded on one message.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub tags: Vec<String>,
    pub pi: Option<(u8, u8, u8)>,
    pub importance: i8,
    pub is_spam: bool,
    pub spam_score: Option<f32>,
    /// `qualifier/RULE` of every rule that fired.
    pub rules: Vec<String>,
    pub encrypted: bool,
    /// Verdicts the host would refuse as invalid output.
    pub invalid: Vec<String>,
}

/// Parses and brokers `raw`; none when the parser answers `component-error`.
pub fn broker(raw: &[u8]) -> Option<broker::Message> {
    let mail = parser::parse(raw).ok()?;
    Some(broker::inbound::inbound(
        &parsed(&mail),
        RECEIVED_AT,
        LOCAL_DOMAIN,
    ))
}

/// The user the message is for: the mailbox folder's name when it is an address
/// (`mbox/dev@caliopen.local/…`), else the first To address.
pub fn user_for(path: &std::path::Path, message: &broker::Message) -> User {
    let folder = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .filter(|n| n.contains('@'));
    let first_to = message
        .participants
        .iter()
        .find(|p| p.role == broker::ParticipantRole::To)
        .map(|p| p.address.clone());
    User {
        identities: folder.map(str::to_owned).or(first_to).into_iter().collect(),
    }
}

macro_rules! system_tags {
    ($krate:ident) => {
        [
            ("inbox", 0),
            ("spam", -10),
            ("important", 5),
            ("internal", 0),
        ]
        .into_iter()
        .map(|(name, level)| $krate::Tag {
            name: name.into(),
            kind: "system".into(),
            importance_level: level,
        })
        .collect::<Vec<_>>()
    };
}

/// The view a qualifier crate sees: the message in its types, and the merged state.
macro_rules! view {
    ($krate:ident, $message:expr, $out:expr) => {
        $krate::MessageView {
            message: message!($krate, $message),
            tags: $out.tags.clone(),
            pi: $out.pi.map(|(technic, comportment, context)| $krate::Pi {
                technic,
                comportment,
                context,
            }),
            importance_level: $out.importance,
            is_spam: $out.is_spam,
            spam_score: $out.spam_score,
        }
    };
}

/// Merges a verdict as the host does, after checking it as the host does.
macro_rules! merge {
    ($name:expr, $verdict:expr, $out:expr) => {{
        let v = $verdict;
        if let Some(level) = v.importance_level {
            if !(-10..=10).contains(&level) {
                $out.invalid.push(format!("{}: importance {level}", $name));
            }
            $out.importance = level;
        }
        if let Some(p) = v.pi {
            if p.technic > 100 || p.comportment > 100 || p.context > 100 {
                $out.invalid.push(format!("{}: pi over 100", $name));
            }
            $out.pi = Some((p.technic, p.comportment, p.context));
        }
        if v.add_tags.len() > 64 || v.rules.len() > 256 {
            $out.invalid
                .push(format!("{}: too many tags or rules", $name));
        }
        if let Some(s) = v.is_spam {
            $out.is_spam = s;
        }
        if v.spam_score.is_some() {
            $out.spam_score = v.spam_score;
        }
        for tag in v.add_tags {
            let tag = tag.trim().to_lowercase();
            if !tag.is_empty() && !$out.tags.contains(&tag) {
                $out.tags.push(tag);
            }
        }
        $out.rules
            .extend(v.rules.into_iter().map(|r| format!("{}/{}", $name, r.rule)));
    }};
}

/// The broker's `message` in the types of crate `$krate`.
macro_rules! message {
    ($krate:ident, $m:expr) => {{
        let m: &broker::Message = $m;
        let f = &m.privacy_features;
        let scheme = |s: broker::CryptoScheme| match s {
            broker::CryptoScheme::PgpMime => $krate::CryptoScheme::PgpMime,
            broker::CryptoScheme::PgpInline => $krate::CryptoScheme::PgpInline,
            broker::CryptoScheme::Smime => $krate::CryptoScheme::Smime,
        };
        $krate::Message {
            subject: m.subject.clone(),
            date: m.date,
            participants: m
                .participants
                .iter()
                .map(|p| $krate::Participant {
                    role: match p.role {
                        broker::ParticipantRole::From => $krate::ParticipantRole::From,
                        broker::ParticipantRole::To => $krate::ParticipantRole::To,
                        broker::ParticipantRole::Cc => $krate::ParticipantRole::Cc,
                        broker::ParticipantRole::Bcc => $krate::ParticipantRole::Bcc,
                        broker::ParticipantRole::ReplyTo => $krate::ParticipantRole::ReplyTo,
                        broker::ParticipantRole::Sender => $krate::ParticipantRole::Sender,
                        broker::ParticipantRole::ListId => $krate::ParticipantRole::ListId,
                    },
                    protocol: p.protocol.clone(),
                    address: p.address.clone(),
                    label: p.label.clone(),
                })
                .collect(),
            body_plain: m.body_plain.clone(),
            body_html: m.body_html.clone(),
            html_safety: $krate::HtmlSafety {
                has_scripts: m.html_safety.has_scripts,
                has_remote_content: m.html_safety.has_remote_content,
                has_forms: m.html_safety.has_forms,
            },
            attachments: m
                .attachments
                .iter()
                .map(|a| $krate::Attachment {
                    file_name: a.file_name.clone(),
                    content_type: a.content_type.clone(),
                    size: a.size,
                    is_inline: a.is_inline,
                    content_id: a.content_id.clone(),
                    part_index: a.part_index,
                })
                .collect(),
            external_references: $krate::ExternalReferences {
                message_id: m.external_references.message_id.clone(),
                parent_id: m.external_references.parent_id.clone(),
                ancestors_ids: m.external_references.ancestors_ids.clone(),
            },
            discussion_key: m.discussion_key.clone(),
            privacy_features: $krate::PrivacyFeatures {
                transport_tls_version: f.transport_tls_version.clone(),
                transport_cipher: f.transport_cipher.clone(),
                external_hops: f.external_hops,
                dkim_signed: f.dkim_signed,
                upstream_spam: f.upstream_spam,
                upstream_spam_score: f.upstream_spam_score,
                encryption: f.encryption.map(scheme),
                signature: f.signature.map(scheme),
                mail_agent: f.mail_agent.clone(),
                is_internal: f.is_internal,
                extra: f.extra.clone(),
            },
            problems: m.problems.clone(),
        }
    }};
}

/// Runs the chain on `message` for `user`.
pub fn qualify(message: &broker::Message, user: &User) -> Outcome {
    let mut out = Outcome {
        encrypted: message.privacy_features.encryption.is_some(),
        ..Outcome::default()
    };

    let view = view!(tags, message, out);
    let (plan, not_looked_up) = tags::classify::to_look_up(&view.message, &user.identities, 20);
    let host = tags::HostAnswers {
        local_domain: LOCAL_DOMAIN.into(),
        identities: user.identities.clone(),
        tags: system_tags!(tags),
        contacts: plan
            .into_iter()
            .map(|a| (a, tags::Lookup::Unknown))
            .collect(),
        not_looked_up,
    };
    let verdict = tags::classify::qualify(&view, &host, &tags::Settings::default());
    merge!("tags", verdict, out);

    let view = view!(spam, message, out);
    let verdict = spam::score::score(&view, None, &spam::Settings::default());
    merge!("spam", verdict, out);

    let view = view!(pi, message, out);
    let (plan, left_out) = pi::index::to_look_up(&view.message, &user.identities, 20);
    let host = pi::HostAnswers {
        identities: user.identities.clone(),
        contacts: plan.into_iter().map(|a| (a, None)).collect(),
        complete: left_out == 0,
    };
    let verdict = pi::index::privacy_index(&view, &host, &pi::Settings::default());
    merge!("pi", verdict, out);

    let view = view!(importance, message, out);
    let host = importance::HostAnswers {
        identities: user.identities.clone(),
        tags: system_tags!(importance),
    };
    let verdict = importance::level::importance(&view, &host, &importance::Settings::default());
    merge!("importance", verdict, out);
    out
}

/// The parser's `parsed-mail` as the broker's type.
fn parsed(m: &parser::ParsedMail) -> broker::ParsedMail {
    let mailbox = |b: &parser::Mailbox| broker::Mailbox {
        name: b.name.clone(),
        address: b.address.clone(),
    };
    let mailboxes = |list: &[parser::Mailbox]| list.iter().map(mailbox).collect();
    broker::ParsedMail {
        headers: m
            .headers
            .iter()
            .map(|h| broker::Header {
                name: h.name.clone(),
                value: h.value.clone(),
            })
            .collect(),
        subject: m.subject.clone(),
        date: m.date,
        from: mailboxes(&m.from),
        sender: m.sender.as_ref().map(mailbox),
        reply_to: mailboxes(&m.reply_to),
        to: mailboxes(&m.to),
        cc: mailboxes(&m.cc),
        bcc: mailboxes(&m.bcc),
        message_id: m.message_id.clone(),
        in_reply_to: m.in_reply_to.clone(),
        references: m.references.clone(),
        list_id: m.list_id.clone(),
        body_plain: m.body_plain.clone(),
        body_html: m.body_html.clone(),
        attachments: m
            .attachments
            .iter()
            .map(|a| broker::Attachment {
                file_name: a.file_name.clone(),
                content_type: a.content_type.clone(),
                size: a.size,
                is_inline: a.is_inline,
                content_id: a.content_id.clone(),
                part_index: a.part_index,
            })
            .collect(),
        parts: m
            .parts
            .iter()
            .map(|p| broker::MimePart {
                depth: p.depth,
                content_type: p.content_type.clone(),
                params: p.params.clone(),
                size: p.size,
            })
            .collect(),
        size: m.size,
        problems: m.problems.clone(),
    }
}
