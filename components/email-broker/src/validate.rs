//! The checks a draft must pass before it is rendered, and what they give the
//! renderer: the header participants by role and the ids of In-Reply-To and
//! References.
//!
//! A draft is refused (`component-error`, kind `invalid-draft`) when it has no valid
//! From, no To/Cc/Bcc recipient, a participant of another protocol than `email`, an
//! address that is not `local@domain` (RFC 5322 dot-atom or quoted local part; RFC
//! 6531 UTF-8 allowed; domain names or address literals), a From in its participants
//! other than the draft's author, several Sender, CR, LF or NUL in any header value
//! (subject, display names, ids, file names, content types), a Message-ID that is
//! not `left@right`, a malformed message id among the parent's, a date outside
//! 1970..9999, or an attachment without file name or with a content type that is not
//! `type/subtype`. List-ID participants are not addresses and are left out (a reply
//! to a list keeps its parent's participants).

use crate::participants::role_name;
use crate::{ComponentError, Draft, Participant, ParticipantRole};

/// The kind of every error this module answers.
pub(crate) const INVALID_DRAFT: &str = "invalid-draft";

/// The latest date a draft may carry: 9999-12-31T23:59:59.999Z.
const MAX_DATE_MS: i64 = 253_402_300_799_999;

/// References ids kept: the first one and the most recent ones, as RFC 5322 §3.6.4
/// allows trimming a long chain.
pub(crate) const MAX_REFERENCES: usize = 100;

/// What a valid draft gives the renderer.
#[derive(Debug)]
pub(crate) struct Checked<'d> {
    pub from: &'d Participant,
    pub sender: Option<&'d Participant>,
    pub to: Vec<&'d Participant>,
    pub cc: Vec<&'d Participant>,
    pub reply_to: Vec<&'d Participant>,
    pub in_reply_to: Option<&'d str>,
    pub references: Vec<&'d str>,
}

fn invalid(message: impl Into<String>) -> ComponentError {
    ComponentError {
        kind: INVALID_DRAFT.to_string(),
        message: message.into(),
    }
}

/// Checks `draft`; see the module documentation for the rules.
pub(crate) fn check(draft: &Draft) -> Result<Checked<'_>, ComponentError> {
    participant("From", &draft.from)?;
    let mut checked = Checked {
        from: &draft.from,
        sender: None,
        to: Vec::new(),
        cc: Vec::new(),
        reply_to: Vec::new(),
        in_reply_to: None,
        references: Vec::new(),
    };
    let mut recipients = 0;
    for p in &draft.participants {
        if p.role == ParticipantRole::ListId {
            continue;
        }
        participant(role_name(p.role), p)?;
        let list = match p.role {
            ParticipantRole::From if same_address(p, &draft.from) => continue,
            ParticipantRole::From => {
                return Err(invalid(format!(
                    "the participants name a From {:?} other than the draft's author {:?}",
                    p.address, draft.from.address
                )));
            }
            ParticipantRole::Sender => {
                if checked.sender.is_some_and(|s| !same_address(s, p)) {
                    return Err(invalid("the participants name several Sender addresses"));
                }
                checked.sender = Some(p);
                continue;
            }
            ParticipantRole::To => &mut checked.to,
            ParticipantRole::Cc => &mut checked.cc,
            ParticipantRole::Bcc => {
                recipients += 1;
                continue;
            }
            ParticipantRole::ReplyTo => &mut checked.reply_to,
            ParticipantRole::ListId => continue,
        };
        if p.role != ParticipantRole::ReplyTo {
            recipients += 1;
        }
        if !list.iter().any(|known| same_address(known, p)) {
            list.push(p);
        }
    }
    if recipients == 0 {
        return Err(invalid(
            "the draft has no recipient: add a To, Cc or Bcc participant",
        ));
    }
    header_text("Subject", &draft.subject)?;
    if !(0..=MAX_DATE_MS).contains(&draft.date) {
        return Err(invalid(format!(
            "date {} ms is outside the years 1970 to 9999",
            draft.date
        )));
    }
    message_id("Message-ID", &draft.message_id, true)?;
    if let Some(parent) = &draft.parent {
        let parent_id = parent
            .message_id
            .as_deref()
            .filter(|id| !id.trim().is_empty());
        if let Some(id) = parent_id {
            message_id("parent message id", id, false)?;
        }
        let others = parent.ancestors_ids.iter().chain(&parent.parent_id);
        for id in others.filter(|id| !id.trim().is_empty()) {
            message_id("parent reference", id, false)?;
        }
        checked.in_reply_to = parent_id.map(str::trim);
        checked.references = references(parent, parent_id);
    }
    for (n, attachment) in draft.attachments.iter().enumerate() {
        let what = format!("attachment {}", n + 1);
        if attachment.file_name.trim().is_empty() {
            return Err(invalid(format!("{what} has no file name")));
        }
        header_text(&format!("{what} file name"), &attachment.file_name)?;
        if !is_content_type(&attachment.content_type) {
            return Err(invalid(format!(
                "{what} content type {:?} is not type/subtype",
                attachment.content_type
            )));
        }
    }
    Ok(checked)
}

/// References of a reply (RFC 5322 §3.6.4): the parent's References (or, without
/// them, its single In-Reply-To id) followed by the parent's Message-ID, trimmed to
/// [`MAX_REFERENCES`] by dropping the oldest ids after the first.
fn references<'d>(
    parent: &'d crate::ExternalReferences,
    parent_id: Option<&'d str>,
) -> Vec<&'d str> {
    let mut ids: Vec<&str> = parent
        .ancestors_ids
        .iter()
        .map(|id| id.trim())
        .filter(|id| !id.is_empty())
        .collect();
    if ids.is_empty()
        && let Some(grandparent) = parent.parent_id.as_deref().map(str::trim)
        && !grandparent.is_empty()
    {
        ids.push(grandparent);
    }
    ids.extend(parent_id.map(str::trim));
    ids.dedup();
    if ids.len() > MAX_REFERENCES {
        ids.drain(1..=ids.len() - MAX_REFERENCES);
    }
    ids
}

fn same_address(a: &Participant, b: &Participant) -> bool {
    a.address.trim().to_lowercase() == b.address.trim().to_lowercase()
}

/// Checks one participant: protocol, display name and address.
fn participant(what: &str, p: &Participant) -> Result<(), ComponentError> {
    if !p.protocol.is_empty() && !p.protocol.eq_ignore_ascii_case("email") {
        return Err(invalid(format!(
            "{what} participant {:?} has protocol {:?}, not email",
            p.address, p.protocol
        )));
    }
    header_text(&format!("{what} display name"), &p.label)?;
    address(p.address.trim()).map_err(|why| {
        invalid(format!(
            "{what} address {:?} is not valid: {why}",
            p.address
        ))
    })
}

/// Refuses CR, LF and NUL in a header value.
fn header_text(what: &str, value: &str) -> Result<(), ComponentError> {
    if value.contains(['\r', '\n', '\0']) {
        return Err(invalid(format!(
            "{what} contains a line break or NUL: {value:?}"
        )));
    }
    Ok(())
}

/// Checks a message id (without angle brackets). `strict` requires `left@right`.
fn message_id(what: &str, id: &str, strict: bool) -> Result<(), ComponentError> {
    let id = id.trim();
    let bad = id.is_empty()
        || id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>'))
        || (strict
            && !id
                .split_once('@')
                .is_some_and(|(l, r)| !l.is_empty() && !r.is_empty()));
    if bad {
        let shape = if strict { "left@right, " } else { "" };
        return Err(invalid(format!(
            "{what} {id:?} is not a message id ({shape}without blanks or angle brackets)"
        )));
    }
    Ok(())
}

/// `type/subtype` made of RFC 2045 token characters, parameters not allowed.
fn is_content_type(value: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
    };
    value
        .trim()
        .split_once('/')
        .is_some_and(|(ty, sub)| token(ty) && token(sub))
}

/// Checks the syntax of `local@domain`; the answer says what is wrong.
pub(crate) fn address(address: &str) -> Result<(), &'static str> {
    if address.is_empty() {
        return Err("it is empty");
    }
    if address.chars().any(|c| c.is_control()) {
        return Err("it contains a control character or a line break");
    }
    if !address.starts_with('"') && address.chars().any(char::is_whitespace) {
        return Err("it contains a blank");
    }
    if address.len() > 254 {
        return Err("it is longer than 254 bytes");
    }
    let (local, domain) = address.rsplit_once('@').ok_or("it has no @")?;
    local_part(local)?;
    domain_part(domain)
}

fn local_part(local: &str) -> Result<(), &'static str> {
    if local.is_empty() {
        return Err("the part before @ is empty");
    }
    if local.len() > 64 {
        return Err("the part before @ is longer than 64 bytes");
    }
    if let Some(inner) = local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        let mut escaped = false;
        for c in inner.chars() {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => return Err("the quoted part before @ has an unescaped quote"),
                _ => escaped = false,
            }
        }
        return if escaped {
            Err("the quoted part before @ ends with a backslash")
        } else {
            Ok(())
        };
    }
    let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii();
    if local
        .split('.')
        .any(|atom| atom.is_empty() || !atom.chars().all(atext))
    {
        return Err(
            "the part before @ is not a dot-atom (spaces, brackets, commas, or dots at the ends need quoting)",
        );
    }
    Ok(())
}

fn domain_part(domain: &str) -> Result<(), &'static str> {
    if domain.is_empty() {
        return Err("the domain is empty");
    }
    if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        let literal = literal.strip_prefix("IPv6:").unwrap_or(literal);
        let ok = !literal.is_empty()
            && literal
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == '.' || c == ':');
        return if ok {
            Ok(())
        } else {
            Err("the domain literal is not an IP address")
        };
    }
    if domain.len() > 253 {
        return Err("the domain is longer than 253 bytes");
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || !c.is_ascii())
    };
    if domain.split('.').all(label_ok) {
        Ok(())
    } else {
        Err("the domain is not a host name (letters, digits and hyphens between dots)")
    }
}

#[cfg(test)]
mod tests;
