//! Building a draft from what the client wrote: the identity's `From`, validated
//! recipients (or the parent's, for a reply), subject, body, discussion and
//! external references. Shared by creation and patch (see [`super::drafts`]).

use std::collections::BTreeMap;

use uuid::Uuid;

use super::drafts::DraftParticipant;
use super::validate;
use crate::error::{CoreError, CoreResult};
use crate::model::discussion::{discussion_id, discussion_key};
use crate::model::identity::IdentityStatus;
use crate::model::message::{ExternalReferences, Qualification};
use crate::model::{Message, Participant, ParticipantRole};
use crate::{Core, now};

/// Most recipients of one draft.
const MAX_RECIPIENTS: usize = 500;
/// Longest subject, in characters.
const MAX_SUBJECT: usize = 998;
/// Longest body, in characters.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// The client's part of a draft, once creation or patch has settled it.
pub(crate) struct DraftInput {
    /// The id the client chose for a new draft (none: a new UUIDv7; ignored
    /// when replacing a draft).
    pub id: Option<Uuid>,
    pub privacy_features: BTreeMap<String, String>,
    pub user_identities: Vec<String>,
    pub participants: Vec<DraftParticipant>,
    pub subject: String,
    pub body: String,
    pub body_is_plain: bool,
}

/// The draft `input` makes, replacing `existing` when there is one.
pub(crate) async fn compose(
    core: &Core,
    user_id: Uuid,
    input: DraftInput,
    parent: Option<&Message>,
    existing: Option<&Message>,
) -> CoreResult<Message> {
    let identity_id = match input.user_identities.as_slice() {
        [one] => one
            .parse::<Uuid>()
            .map_err(|_| CoreError::invalid("user_identities[0]", "is not an identity id"))?,
        _ => {
            return Err(CoreError::invalid(
                "user_identities",
                "must name exactly one of your identities",
            ));
        }
    };
    let identity = core.identity(user_id, identity_id).await?;
    if identity.status != IdentityStatus::Active {
        return Err(CoreError::invalid(
            "user_identities[0]",
            "is not an active identity",
        ));
    }
    validate::text("subject", &input.subject, MAX_SUBJECT)?;
    validate::text("body", &input.body, MAX_BODY)?;

    let own = core.user_addresses(user_id).await?;
    let recipients = match parent {
        Some(parent) => reply_participants(parent, &own),
        None => recipients(&input.participants)?,
    };
    let mut participants = vec![Participant {
        role: ParticipantRole::From,
        protocol: identity.protocol.clone(),
        address: identity.identifier.clone(),
        label: identity.display_name.clone(),
        contact_ids: Vec::new(),
    }];
    participants.extend(recipients);
    for p in &mut participants {
        p.contact_ids = core.contact_ids_by_address(user_id, &p.address).await?;
    }
    let subject = match parent {
        Some(parent) if input.subject.trim().is_empty() => reply_subject(&parent.subject),
        _ => input.subject,
    };
    let (body_plain, body_html) = if input.body_is_plain {
        (Some(input.body), None)
    } else {
        (None, Some(input.body))
    };
    let date = now();
    let id = existing
        .map(|m| m.id)
        .or(input.id)
        .unwrap_or_else(Uuid::now_v7);
    let external_references = match existing {
        Some(m) => m.external_references.clone(),
        // A client's id is the client's: the Message-ID, which the world sees
        // and which must be unique in it, gets an id of the server's making.
        None => new_references(
            if input.id.is_some() {
                Uuid::now_v7()
            } else {
                id
            },
            &core.config().default_domain,
            parent,
        ),
    };
    Ok(Message {
        id,
        user_id,
        discussion_id: discussion_id(&discussion_key(&participants)),
        protocol: "email".into(),
        subject,
        date,
        date_insert: existing.map_or(date, |m| m.date_insert),
        date_sort: date,
        participants,
        body_plain,
        body_html,
        html_safety: Default::default(),
        attachments: existing.map(|m| m.attachments.clone()).unwrap_or_default(),
        external_references,
        importance_level: 0,
        pi: None,
        privacy_features: input.privacy_features,
        tags: existing.map(|m| m.tags.clone()).unwrap_or_default(),
        is_unread: false,
        is_draft: true,
        is_answered: false,
        is_received: false,
        raw_msg_id: None,
        user_identities: vec![identity.id],
        parent_id: parent.map(|p| p.id).or(existing.and_then(|m| m.parent_id)),
        qualification: Qualification::default(),
        problems: Vec::new(),
        send_state: None,
    })
}

/// The recipients a client gave, validated; a `From` is dropped (the identity gives it).
fn recipients(given: &[DraftParticipant]) -> CoreResult<Vec<Participant>> {
    let mut out: Vec<Participant> = Vec::new();
    for (i, p) in given.iter().enumerate() {
        let role = match ParticipantRole::parse(&p.role) {
            Some(ParticipantRole::From) => continue,
            Some(
                r @ (ParticipantRole::To
                | ParticipantRole::Cc
                | ParticipantRole::Bcc
                | ParticipantRole::ReplyTo),
            ) => r,
            _ => {
                return Err(CoreError::invalid(
                    format!("participants[{i}].type"),
                    "must be To, Cc, Bcc or Reply-To",
                ));
            }
        };
        let protocol = if p.protocol.is_empty() {
            "email"
        } else {
            p.protocol.as_str()
        };
        if protocol != "email" {
            return Err(CoreError::invalid(
                format!("participants[{i}].protocol"),
                "only `email` is supported",
            ));
        }
        let address = validate::email(&format!("participants[{i}].address"), &p.address)?;
        validate::text(&format!("participants[{i}].label"), &p.label, 256)?;
        if out.iter().any(|q| q.role == role && q.address == address) {
            continue;
        }
        out.push(Participant {
            role,
            protocol: protocol.to_owned(),
            address,
            label: p.label.trim().to_owned(),
            contact_ids: Vec::new(),
        });
    }
    if out.len() > MAX_RECIPIENTS {
        return Err(CoreError::invalid(
            "participants",
            format!("at most {MAX_RECIPIENTS} recipients"),
        ));
    }
    Ok(out)
}

/// The recipients of a reply to `parent` (see the module docs of [`super::drafts`]).
fn reply_participants(parent: &Message, own: &[String]) -> Vec<Participant> {
    let of = |role: ParticipantRole| parent.participants.iter().filter(move |p| p.role == role);
    let is_own = |p: &&Participant| own.iter().any(|a| a.eq_ignore_ascii_case(&p.address));
    let sent_by_user = of(ParticipantRole::From).any(|p| is_own(&p));
    let (to, cc): (Vec<&Participant>, Vec<&Participant>) = if sent_by_user {
        (
            of(ParticipantRole::To).collect(),
            of(ParticipantRole::Cc).collect(),
        )
    } else {
        let reply_to: Vec<&Participant> = of(ParticipantRole::ReplyTo).collect();
        let to = if reply_to.is_empty() {
            of(ParticipantRole::From).collect()
        } else {
            reply_to
        };
        (
            to,
            of(ParticipantRole::To)
                .chain(of(ParticipantRole::Cc))
                .collect(),
        )
    };
    let mut out: Vec<Participant> = Vec::new();
    for (role, list) in [(ParticipantRole::To, to), (ParticipantRole::Cc, cc)] {
        for p in list.into_iter().filter(|p| !is_own(p)) {
            if !out.iter().any(|q| q.address == p.address) {
                out.push(Participant {
                    role,
                    contact_ids: Vec::new(),
                    ..p.clone()
                });
            }
        }
    }
    out.extend(of(ParticipantRole::ListId).cloned());
    out
}

/// `Re: <subject>` unless it already says so.
fn reply_subject(subject: &str) -> String {
    let trimmed = subject.trim();
    if trimmed
        .get(..3)
        .is_some_and(|start| start.eq_ignore_ascii_case("re:"))
    {
        trimmed.to_owned()
    } else {
        format!("Re: {trimmed}")
    }
}

/// A new draft's Message-ID (without angle brackets, like received ones), and
/// for a reply its In-Reply-To and References.
fn new_references(id: Uuid, domain: &str, parent: Option<&Message>) -> ExternalReferences {
    let mut refs = ExternalReferences {
        message_id: Some(format!("{id}@{domain}")),
        ..ExternalReferences::default()
    };
    if let Some(parent) = parent {
        refs.ancestors_ids = parent.external_references.ancestors_ids.clone();
        if let Some(parent_msgid) = &parent.external_references.message_id {
            refs.ancestors_ids.push(parent_msgid.clone());
            refs.parent_id = Some(parent_msgid.clone());
        }
    }
    refs
}
