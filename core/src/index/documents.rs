//! What core gives the search role for each searchable record.

use caliopen_storage_traits::search::{ContactDocument, IndexedParticipant, MessageDocument};

use crate::model::{Contact, Message};
use crate::text;

/// At most this much body text is indexed per message.
const MAX_BODY_CHARS: usize = 64 * 1024;

pub fn message_document(m: &Message) -> MessageDocument {
    let body = match (&m.body_plain, &m.body_html) {
        (Some(p), _) if !p.trim().is_empty() => p.clone(),
        (_, Some(h)) => text::html_to_text(h),
        _ => String::new(),
    };
    let body = if body.len() > MAX_BODY_CHARS {
        body.chars().take(MAX_BODY_CHARS).collect()
    } else {
        body
    };
    MessageDocument {
        user: m.user_id,
        id: m.id,
        discussion_id: m.discussion_id.clone(),
        date: m.date_sort.timestamp_millis(),
        subject: m.subject.clone(),
        body,
        participants: m
            .participants
            .iter()
            .map(|p| IndexedParticipant {
                role: p.role.as_str().into(),
                address: p.address.clone(),
                label: p.label.clone(),
            })
            .collect(),
        tags: m.tags.clone(),
        attachment_names: m.attachments.iter().map(|a| a.file_name.clone()).collect(),
        pi: m.pi.map(|p| p.aggregate()).unwrap_or(0),
        importance_level: m.importance_level,
        is_unread: m.is_unread,
        is_draft: m.is_draft,
        language: None,
    }
}

pub fn contact_document(c: &Contact) -> ContactDocument {
    let mut names = vec![c.title.clone(), c.given_name.clone(), c.family_name.clone()];
    names.retain(|n| !n.is_empty());
    ContactDocument {
        user: c.user_id,
        id: c.id,
        names,
        emails: c.emails.iter().map(|e| e.address.clone()).collect(),
        phones: c.phones.iter().map(|p| p.number.clone()).collect(),
        organizations: c.organizations.iter().map(|o| o.name.clone()).collect(),
        tags: c.tags.clone(),
    }
}
