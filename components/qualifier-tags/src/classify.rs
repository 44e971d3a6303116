//! The pure part: which participants to look up ([`to_look_up`]), and the verdict
//! from the view and the host's answers ([`qualify`]).

use crate::settings::Settings;
use crate::{Contact, Message, MessageView, ParticipantRole, RuleHit, Tag, Verdict};

/// What the host answered for one address.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// The user's contact that owns the address.
    Known(Contact),
    /// No contact owns it.
    Unknown,
    /// The host could not answer (the error, as text).
    Failed(String),
}

/// Everything the qualifier asked the host, answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostAnswers {
    /// `user.local-domain`.
    pub local_domain: String,
    /// `user.identities` (empty when the host could not answer).
    pub identities: Vec<String>,
    /// `user.tags` (empty when the host could not answer: then nothing is tagged).
    pub tags: Vec<Tag>,
    /// `contacts.lookup` of each address of [`to_look_up`], in that order.
    pub contacts: Vec<(String, Lookup)>,
    /// Addresses left out of the lookups by the cap.
    pub not_looked_up: usize,
}

/// The distinct participant addresses worth a contact lookup, in participant order
/// (From first), lower case: the user's own addresses and the List-ID are left out.
/// Answers at most `max` of them, and how many were left out.
pub fn to_look_up(message: &Message, identities: &[String], max: usize) -> (Vec<String>, usize) {
    let mut distinct: Vec<String> = Vec::new();
    for p in &message.participants {
        let address = normalize(&p.address);
        let own = identities.iter().any(|i| normalize(i) == address);
        if p.role == ParticipantRole::ListId || address.is_empty() || own {
            continue;
        }
        if !distinct.contains(&address) {
            distinct.push(address);
        }
    }
    let left_out = distinct.len().saturating_sub(max);
    distinct.truncate(max);
    (distinct, left_out)
}

/// The verdict: the internal tag when every participant is the user's or in the local
/// domain; the known contacts as rules; the known-contact tag when the sender is one.
/// Tags are only ever added when the user has them.
pub fn qualify(view: &MessageView, host: &HostAnswers, settings: &Settings) -> Verdict {
    let message = &view.message;
    let mut tags: Vec<String> = Vec::new();
    let mut rules: Vec<RuleHit> = Vec::new();
    let mut hit = |rule: &str, contribution: f32, detail: String| {
        rules.push(RuleHit {
            rule: rule.to_owned(),
            contribution,
            detail,
        });
    };

    if let Some(detail) = internal(message, host) {
        match existing_tag(&host.tags, &settings.internal_tag) {
            Some(tag) => {
                tags.push(tag.to_owned());
                hit("internal", 1.0, format!("{detail}: tagged `{tag}`"));
            }
            None => {
                let missing = format!("{detail}, but you have no tag `{}`", settings.internal_tag);
                hit("internal", 0.0, missing);
            }
        }
    }

    for (address, lookup) in &host.contacts {
        match lookup {
            Lookup::Known(c) => hit(
                "known-contact",
                0.0,
                format!("{address} is your contact “{}”", c.title),
            ),
            Lookup::Unknown => {}
            Lookup::Failed(e) => hit("contact-lookup-failed", 0.0, format!("{address}: {e}")),
        }
    }
    if host.not_looked_up > 0 {
        let detail = format!(
            "{} more participants not looked up (cap reached)",
            host.not_looked_up
        );
        hit("lookups-capped", 0.0, detail);
    }

    if let Some(wanted) = &settings.known_contact_tag
        && let Some(contact) = sender_contact(message, host)
    {
        match existing_tag(&host.tags, wanted) {
            Some(tag) if !tags.iter().any(|t| t == tag) => {
                tags.push(tag.to_owned());
                let detail = format!(
                    "the sender is your contact “{}”: tagged `{tag}`",
                    contact.title
                );
                hit("known-contact-tag", 1.0, detail);
            }
            Some(_) => {}
            None => hit(
                "known-contact-tag",
                0.0,
                format!("you have no tag `{wanted}`: not added"),
            ),
        }
    }

    Verdict {
        pi: None,
        importance_level: None,
        is_spam: None,
        spam_score: None,
        add_tags: tags,
        rules,
    }
}

/// Why the message is internal (every participant is one of the user's addresses or
/// in the local domain), or none; a message without participants is not.
fn internal(message: &Message, host: &HostAnswers) -> Option<String> {
    let domain = normalize(&host.local_domain);
    let domain = domain.trim_matches('.');
    let participants = &message.participants;
    if participants.is_empty() {
        return None;
    }
    let all_ours = participants.iter().all(|p| {
        let address = normalize(&p.address);
        host.identities.iter().any(|i| normalize(i) == address) || in_domain(&address, domain)
    });
    all_ours.then(|| {
        format!(
            "all {} participants are yours or in {}",
            participants.len(),
            if domain.is_empty() {
                "(no local domain)"
            } else {
                domain
            }
        )
    })
}

/// True when the domain of `address` (after its last `@`; a List-ID is a domain
/// whole) is `domain` or one of its subdomains. Nothing is in an empty domain.
pub fn in_domain(address: &str, domain: &str) -> bool {
    if domain.is_empty() {
        return false;
    }
    let host = address.rsplit_once('@').map_or(address, |(_, d)| d);
    let host = host.trim_end_matches('.');
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|head| head.ends_with('.'))
}

/// The contact the host found for the first From address.
fn sender_contact<'a>(message: &Message, host: &'a HostAnswers) -> Option<&'a Contact> {
    let from = message
        .participants
        .iter()
        .find(|p| p.role == ParticipantRole::From)?;
    let from = normalize(&from.address);
    host.contacts
        .iter()
        .find_map(|(address, lookup)| match lookup {
            Lookup::Known(c) if *address == from => Some(c),
            _ => None,
        })
}

/// The user's tag named `name` (case-insensitively), as the user spells it.
fn existing_tag<'a>(tags: &'a [Tag], name: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.name.trim().to_lowercase() == name.trim().to_lowercase())
        .map(|t| t.name.as_str())
}

/// An address as compared here: trimmed, lower case.
pub fn normalize(address: &str) -> String {
    address.trim().to_lowercase()
}

#[cfg(test)]
#[path = "classify/tests.rs"]
mod tests;
