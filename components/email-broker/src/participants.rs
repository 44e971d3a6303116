//! The participants of an inbound mail, its discussion key and whether it is
//! internal.
//!
//! Roles come in the order From, To, Cc, Bcc, Reply-To, Sender, List-ID. Addresses
//! are trimmed and lower-cased (as core does when it stores them), display names are
//! kept as written, and a second participant with the same role and address is
//! dropped (its label is kept when the first had none).

use crate::domain::LocalDomain;
use crate::headers;
use crate::{Mailbox, ParsedMail, Participant, ParticipantRole};

/// The protocol of every participant this broker makes.
pub(crate) const PROTOCOL: &str = "email";

/// The participants of `mail`; what was dropped is reported in `problems`.
pub(crate) fn participants(mail: &ParsedMail, problems: &mut Vec<String>) -> Vec<Participant> {
    let sender = mail.sender.as_slice();
    let by_role: [(ParticipantRole, &[Mailbox]); 6] = [
        (ParticipantRole::From, &mail.from),
        (ParticipantRole::To, &mail.to),
        (ParticipantRole::Cc, &mail.cc),
        (ParticipantRole::Bcc, &mail.bcc),
        (ParticipantRole::ReplyTo, &mail.reply_to),
        (ParticipantRole::Sender, sender),
    ];
    let mut list: Vec<Participant> = Vec::new();
    for (role, mailboxes) in by_role {
        for mailbox in mailboxes {
            push(&mut list, role, &mailbox.address, &mailbox.name, problems);
        }
    }
    if let Some(list_id) = &mail.list_id {
        let label = list_label(headers::first(&mail.headers, "List-Id").unwrap_or_default());
        push(
            &mut list,
            ParticipantRole::ListId,
            list_id,
            &label,
            problems,
        );
    }
    list
}

/// Adds one participant unless its address is blank or already there for the role.
fn push(
    list: &mut Vec<Participant>,
    role: ParticipantRole,
    address: &str,
    label: &str,
    problems: &mut Vec<String>,
) {
    let address = address.trim().to_lowercase();
    let label = label.trim();
    if address.is_empty() {
        problems.push(format!("{}: blank address skipped", role_name(role)));
        return;
    }
    if let Some(known) = list
        .iter_mut()
        .find(|p| p.role == role && p.address == address)
    {
        if known.label.is_empty() && !label.is_empty() {
            known.label = label.to_string();
        }
        problems.push(format!(
            "{}: duplicate address {address:?} removed",
            role_name(role)
        ));
        return;
    }
    list.push(Participant {
        role,
        protocol: PROTOCOL.to_string(),
        address,
        label: label.to_string(),
    });
}

/// The display text of a List-Id field (`Emacs development <emacs-devel.gnu.org>`
/// gives `Emacs development`), unquoted; empty when there is none.
fn list_label(value: &str) -> String {
    let Some(open) = value.rfind('<') else {
        return String::new();
    };
    let phrase = value[..open].trim();
    let phrase = phrase
        .strip_prefix('"')
        .and_then(|p| p.strip_suffix('"'))
        .unwrap_or(phrase);
    phrase.trim().to_string()
}

/// The header name of a role, for problem texts.
pub(crate) fn role_name(role: ParticipantRole) -> &'static str {
    match role {
        ParticipantRole::From => "From",
        ParticipantRole::To => "To",
        ParticipantRole::Cc => "Cc",
        ParticipantRole::Bcc => "Bcc",
        ParticipantRole::ReplyTo => "Reply-To",
        ParticipantRole::Sender => "Sender",
        ParticipantRole::ListId => "List-Id",
    }
}

/// The discussion key, exactly as core's `discussion_key` computes it: `list:<id>`
/// for the first List-ID participant, else the sorted, de-duplicated
/// `protocol:address` URIs of every participant joined by `,`.
pub(crate) fn discussion_key(participants: &[Participant]) -> String {
    if let Some(list) = participants
        .iter()
        .find(|p| p.role == ParticipantRole::ListId)
    {
        return format!("list:{}", list.address);
    }
    let mut uris: Vec<String> = participants
        .iter()
        .map(|p| format!("{}:{}", p.protocol, p.address))
        .collect();
    uris.sort();
    uris.dedup();
    uris.join(",")
}

/// True when there is at least one participant and every participant's address
/// (a List-ID's list id taken as a domain) is in the local domain.
pub(crate) fn is_internal(participants: &[Participant], local: &LocalDomain) -> bool {
    !participants.is_empty()
        && participants
            .iter()
            .all(|p| local.contains_address(&p.address))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(role: ParticipantRole, address: &str) -> Participant {
        Participant {
            role,
            protocol: PROTOCOL.into(),
            address: address.into(),
            label: String::new(),
        }
    }

    #[test]
    fn same_people_same_key_whatever_the_roles() {
        let a = [
            p(ParticipantRole::From, "a@x.org"),
            p(ParticipantRole::To, "b@y.org"),
        ];
        let b = [
            p(ParticipantRole::To, "a@x.org"),
            p(ParticipantRole::From, "b@y.org"),
            p(ParticipantRole::Cc, "a@x.org"),
        ];
        assert_eq!(discussion_key(&a), "email:a@x.org,email:b@y.org");
        assert_eq!(discussion_key(&a), discussion_key(&b));
    }

    #[test]
    fn list_id_takes_priority() {
        let a = [
            p(ParticipantRole::From, "a@x.org"),
            p(ParticipantRole::ListId, "dev.lists.org"),
        ];
        assert_eq!(discussion_key(&a), "list:dev.lists.org");
    }

    #[test]
    fn duplicates_and_case() {
        let mut problems = Vec::new();
        let mut list = Vec::new();
        push(
            &mut list,
            ParticipantRole::To,
            " Bob@X.org ",
            "",
            &mut problems,
        );
        push(
            &mut list,
            ParticipantRole::To,
            "bob@x.org",
            "Bob",
            &mut problems,
        );
        push(
            &mut list,
            ParticipantRole::Cc,
            "bob@x.org",
            "",
            &mut problems,
        );
        push(&mut list, ParticipantRole::Cc, "  ", "", &mut problems);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].address, "bob@x.org");
        assert_eq!(list[0].label, "Bob");
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn list_labels() {
        assert_eq!(
            list_label("Emacs devel <emacs-devel.gnu.org>"),
            "Emacs devel"
        );
        assert_eq!(list_label("\"Dev, list\" <dev.x.org>"), "Dev, list");
        assert_eq!(list_label("dev.x.org"), "");
    }

    #[test]
    fn internal_needs_everyone_local() {
        let local = LocalDomain::new("caliopen.local");
        let a = [
            p(ParticipantRole::From, "a@caliopen.local"),
            p(ParticipantRole::To, "b@caliopen.local"),
        ];
        let b = [
            p(ParticipantRole::From, "a@caliopen.local"),
            p(ParticipantRole::To, "b@y.org"),
        ];
        assert!(is_internal(&a, &local));
        assert!(!is_internal(&b, &local));
        assert!(!is_internal(&[], &local));
    }
}
