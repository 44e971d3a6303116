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

/// `message_encryption_method` as the original spelt it
/// (`caliopen_pi/features/mail.py`): `pgp` for any OpenPGP mail, which is what
/// the web client tests before decrypting (`web/services/encryption`).
fn encryption_method(s: wit::CryptoScheme) -> &'static str {
    match s {
        wit::CryptoScheme::PgpMime | wit::CryptoScheme::PgpInline => "pgp",
        wit::CryptoScheme::Smime => "s/mime",
    }
}

/// `message_signature_type` as the original spelt it (`PGP`).
fn signature_type(s: wit::CryptoScheme) -> &'static str {
    match s {
        wit::CryptoScheme::PgpMime | wit::CryptoScheme::PgpInline => "PGP",
        wit::CryptoScheme::Smime => "s/mime",
    }
}

/// A boolean feature as the original stored it: Python's `str()` of a bool.
fn py_bool(b: bool) -> String {
    if b { "True" } else { "False" }.to_owned()
}

/// Privacy features under the names and spellings the original Caliopen gave
/// them (`caliopen_pi/features/types.py`: values stored as `str(value)`), so
/// that clients that read `privacy_features` find what they expect: the web
/// client decrypts only when `message_encrypted == "True"` and the method is
/// `pgp`.
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
    put("transport_signed", py_bool(f.dkim_signed));
    if let Some(v) = f.upstream_spam {
        put("is_spam", py_bool(v));
    }
    if let Some(v) = f.upstream_spam_score {
        put("spam_score", v.to_string());
    }
    put("message_encrypted", py_bool(f.encryption.is_some()));
    put(
        "message_encryption_method",
        f.encryption.map_or("", encryption_method).to_owned(),
    );
    put("message_signed", py_bool(f.signature.is_some()));
    if let Some(s) = f.signature {
        put("message_signature_type", signature_type(s).to_owned());
    }
    if let Some(v) = &f.mail_agent {
        put("mail_agent", v.clone());
    }
    put("is_internal", py_bool(f.is_internal));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn features(encryption: Option<wit::CryptoScheme>) -> wit::PrivacyFeatures {
        wit::PrivacyFeatures {
            transport_tls_version: None,
            transport_cipher: None,
            external_hops: 1,
            dkim_signed: true,
            upstream_spam: Some(false),
            upstream_spam_score: None,
            encryption,
            signature: None,
            mail_agent: None,
            is_internal: false,
            extra: Vec::new(),
        }
    }

    /// D15: the spellings of the original's `caliopen_pi/features/mail.py`
    /// (`str()` of Python booleans, method `pgp`), which the web client tests
    /// (`web/services/encryption/index.js`).
    #[test]
    fn privacy_features_are_spelt_as_the_original() {
        for scheme in [wit::CryptoScheme::PgpMime, wit::CryptoScheme::PgpInline] {
            let f = privacy_features(&features(Some(scheme)));
            assert_eq!(f["message_encrypted"], "True");
            assert_eq!(f["message_encryption_method"], "pgp");
        }
        let plain = privacy_features(&features(None));
        assert_eq!(plain["message_encrypted"], "False");
        assert_eq!(plain["message_encryption_method"], "");
        assert_eq!(plain["message_signed"], "False");
        assert_eq!(plain["transport_signed"], "True");
        assert_eq!(plain["is_spam"], "False");
        assert_eq!(plain["is_internal"], "False");
        assert_eq!(plain["nb_external_hops"], "1");
    }
}
