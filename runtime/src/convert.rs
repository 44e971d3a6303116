//! Between WIT types (the guest ABI) and core's types. The generated types stop
//! here: nothing above the runtime sees them.

use std::collections::BTreeMap;

use caliopen_core::delivery::InboundMessage;
use caliopen_core::model::message::{Attachment, ExternalReferences, HtmlSafety};
use caliopen_core::model::{Participant, ParticipantRole, Pi};
use chrono::{DateTime, Utc};

use crate::wasm::bindings::types as wit;

pub fn role(r: wit::ParticipantRole) -> ParticipantRole {
    match r {
        wit::ParticipantRole::From => ParticipantRole::From,
        wit::ParticipantRole::To => ParticipantRole::To,
        wit::ParticipantRole::Cc => ParticipantRole::Cc,
        wit::ParticipantRole::Bcc => ParticipantRole::Bcc,
        wit::ParticipantRole::ReplyTo => ParticipantRole::ReplyTo,
        wit::ParticipantRole::Sender => ParticipantRole::Sender,
        wit::ParticipantRole::ListId => ParticipantRole::ListId,
    }
}

pub fn wit_role(r: ParticipantRole) -> wit::ParticipantRole {
    match r {
        ParticipantRole::From => wit::ParticipantRole::From,
        ParticipantRole::To => wit::ParticipantRole::To,
        ParticipantRole::Cc => wit::ParticipantRole::Cc,
        ParticipantRole::Bcc => wit::ParticipantRole::Bcc,
        ParticipantRole::ReplyTo => wit::ParticipantRole::ReplyTo,
        ParticipantRole::Sender => wit::ParticipantRole::Sender,
        ParticipantRole::ListId => wit::ParticipantRole::ListId,
    }
}

pub fn pi(p: wit::Pi) -> Pi {
    Pi {
        technic: p.technic.min(100),
        comportment: p.comportment.min(100),
        context: p.context.min(100),
        version: 1,
    }
}

pub fn wit_pi(p: Pi) -> wit::Pi {
    wit::Pi {
        technic: p.technic,
        comportment: p.comportment,
        context: p.context,
    }
}

fn scheme(s: wit::CryptoScheme) -> &'static str {
    match s {
        wit::CryptoScheme::PgpMime => "pgp/mime",
        wit::CryptoScheme::PgpInline => "pgp/inline",
        wit::CryptoScheme::Smime => "s/mime",
    }
}

/// Privacy features under the names the original Caliopen gave them, so that
/// clients that read `privacy_features` find what they expect.
pub fn privacy_features(f: &wit::PrivacyFeatures) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        out.insert(k.to_owned(), v);
    };
    if let Some(v) = &f.transport_tls_version {
        put("ingress_socket_version", v.clone());
    }
    if let Some(v) = &f.transport_cipher {
        put("ingress_cipher", v.clone());
    }
    put("nb_external_hops", f.external_hops.to_string());
    put("transport_signed", f.dkim_signed.to_string());
    if let Some(v) = f.upstream_spam {
        put("is_spam", v.to_string());
    }
    if let Some(v) = f.upstream_spam_score {
        put("spam_score", v.to_string());
    }
    put("message_encrypted", f.encryption.is_some().to_string());
    if let Some(s) = f.encryption {
        put("message_encryption_method", scheme(s).to_owned());
    }
    put("message_signed", f.signature.is_some().to_string());
    if let Some(s) = f.signature {
        put("message_signature_type", scheme(s).to_owned());
    }
    if let Some(v) = &f.mail_agent {
        put("mail_agent", v.clone());
    }
    put("is_internal", f.is_internal.to_string());
    for (k, v) in &f.extra {
        out.entry(k.clone()).or_insert_with(|| v.clone());
    }
    out
}

fn time(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// A broker's message as core's inbound message.
pub fn inbound_message(m: wit::Message) -> InboundMessage {
    InboundMessage {
        subject: m.subject,
        date: time(m.date),
        participants: m
            .participants
            .into_iter()
            .map(|p| Participant {
                role: role(p.role),
                protocol: if p.protocol.is_empty() {
                    "email".into()
                } else {
                    p.protocol
                },
                address: p.address.trim().to_lowercase(),
                label: p.label,
                contact_ids: Vec::new(),
            })
            .collect(),
        body_plain: m.body_plain,
        body_html: m.body_html,
        html_safety: HtmlSafety {
            has_scripts: m.html_safety.has_scripts,
            has_remote_content: m.html_safety.has_remote_content,
            has_forms: m.html_safety.has_forms,
        },
        attachments: m
            .attachments
            .into_iter()
            .enumerate()
            .map(|(i, a)| Attachment {
                index: i as u32,
                file_name: a
                    .file_name
                    .unwrap_or_else(|| format!("attachment-{}", i + 1)),
                content_type: a.content_type,
                size: a.size,
                is_inline: a.is_inline,
                content_id: a.content_id,
                part_index: Some(a.part_index),
                blob: None,
            })
            .collect(),
        external_references: ExternalReferences {
            message_id: m.external_references.message_id,
            parent_id: m.external_references.parent_id,
            ancestors_ids: m.external_references.ancestors_ids,
        },
        discussion_key: m.discussion_key,
        privacy_features: privacy_features(&m.privacy_features),
        problems: m.problems,
    }
}
