//! Inbound: a `parsed-mail` to a Caliopen `message`. Pure: the local domain comes in
//! as a parameter, nothing here calls the host.
//!
//! Fields:
//! - `participants`: see `participants` (roles, lower case, de-duplicated, List-ID);
//! - `subject`: as parsed, empty when absent;
//! - `date`: the Date header, else `received-at` (reported in `problems`);
//! - `body-plain`, `body-html`, `attachments`: as parsed, never synthesised; the
//!   HTML is kept as sent and only flagged (see `html`);
//! - `external-references`: the Message-ID; the parent is the first In-Reply-To id,
//!   else the last References id; the ancestors are the References ids;
//! - `discussion-key`: see `participants::discussion_key`;
//! - `privacy-features`: see `privacy`;
//! - `problems`: the parser's, then the broker's.

use crate::domain::LocalDomain;
use crate::{ExternalReferences, HtmlSafety, Message, ParsedMail, html, participants, privacy};

/// Builds the message of `mail`, received at `received_at` (ms since the epoch) by a
/// user of `local_domain`. Never fails: what was wrong is listed in `problems`.
pub fn inbound(mail: &ParsedMail, received_at: i64, local_domain: &str) -> Message {
    let mut message = without_content(mail, received_at, local_domain);
    message.body_plain = mail.body_plain.clone();
    message.body_html = mail.body_html.clone();
    message.attachments = mail.attachments.clone();
    message
}

/// [`inbound`], moving the bodies and attachments of `mail` into the message rather
/// than copying them: a mail at the size limit is then held once, not twice, in the
/// component's memory.
pub fn inbound_owned(mut mail: ParsedMail, received_at: i64, local_domain: &str) -> Message {
    let mut message = without_content(&mail, received_at, local_domain);
    message.body_plain = mail.body_plain.take();
    message.body_html = mail.body_html.take();
    message.attachments = std::mem::take(&mut mail.attachments);
    message
}

/// The message, with no body and no attachment yet.
fn without_content(mail: &ParsedMail, received_at: i64, local_domain: &str) -> Message {
    let local = LocalDomain::new(local_domain);
    let mut problems = mail.problems.clone();

    let participants = participants::participants(mail, &mut problems);
    if participants.is_empty() {
        problems.push("no participant: the discussion key is empty".to_string());
    }
    let date = mail.date.unwrap_or_else(|| {
        problems.push("no usable Date header: the reception time is used as the date".to_string());
        received_at
    });
    let html_safety = match &mail.body_html {
        Some(body) => html::safety(body),
        None => HtmlSafety {
            has_scripts: false,
            has_remote_content: false,
            has_forms: false,
        },
    };
    let external_references = ExternalReferences {
        message_id: mail.message_id.clone(),
        parent_id: mail.in_reply_to.first().or(mail.references.last()).cloned(),
        ancestors_ids: mail.references.clone(),
    };
    let privacy_features = privacy::features(mail, &participants, &local);

    Message {
        subject: mail.subject.clone().unwrap_or_default(),
        date,
        discussion_key: participants::discussion_key(&participants),
        participants,
        body_plain: None,
        body_html: None,
        html_safety,
        attachments: Vec::new(),
        external_references,
        privacy_features,
        problems,
    }
}
