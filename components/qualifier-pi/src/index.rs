//! The pure part: which participants to look up ([`to_look_up`]) and the privacy
//! index from the view and the host's answers ([`privacy_index`]).

use crate::rules::{self, Axis};
use crate::settings::Settings;
use crate::tls::{self, Tls};
use crate::{Contact, CryptoScheme, Message, MessageView, ParticipantRole, Pi, RuleHit, Verdict};

/// Everything the qualifier asked the host, answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostAnswers {
    /// `user.identities` (empty when the host could not answer).
    pub identities: Vec<String>,
    /// `contacts.lookup` of each address of [`to_look_up`], in that order; none for an
    /// address no contact owns (or whose lookup failed).
    pub contacts: Vec<(String, Option<Contact>)>,
    /// Every address worth a lookup was looked up, and every lookup answered.
    pub complete: bool,
}

/// The distinct participant addresses worth a contact lookup, in participant order
/// (From first), lower case, leaving out the user's own addresses and the List-ID.
/// Answers at most `max` of them, and how many were left out.
pub fn to_look_up(message: &Message, identities: &[String], max: usize) -> (Vec<String>, usize) {
    let mut distinct: Vec<String> = Vec::new();
    for p in &message.participants {
        let address = normalize(&p.address);
        let own = is_identity(&address, identities);
        if p.role != ParticipantRole::ListId
            && !address.is_empty()
            && !own
            && !distinct.contains(&address)
        {
            distinct.push(address);
        }
    }
    let left_out = distinct.len().saturating_sub(max);
    distinct.truncate(max);
    (distinct, left_out)
}

/// The verdict: the privacy index, each contribution reported as a rule.
pub fn privacy_index(view: &MessageView, host: &HostAnswers, settings: &Settings) -> Verdict {
    let mut score = Score {
        settings,
        rules: Vec::new(),
    };
    technic(&view.message, &mut score);
    comportment(view, host, &mut score);
    context(view, host, &mut score);
    let pi = Pi {
        technic: score.close(Axis::Technic),
        comportment: score.close(Axis::Comportment),
        context: score.close(Axis::Context),
    };
    Verdict {
        pi: Some(pi),
        importance_level: None,
        is_spam: None,
        spam_score: None,
        add_tags: Vec::new(),
        rules: score.rules,
    }
}

/// The contributions so far.
struct Score<'a> {
    settings: &'a Settings,
    rules: Vec<RuleHit>,
}

impl Score<'_> {
    /// Records `rule` with `units` times its points; zero contributions are dropped.
    fn add(&mut self, rule: &str, units: f32, detail: String) -> f32 {
        let contribution = units * self.settings.points(rule);
        if contribution != 0.0 && contribution.is_finite() {
            self.rules.push(RuleHit {
                rule: rule.to_owned(),
                contribution,
                detail,
            });
            contribution
        } else {
            0.0
        }
    }

    /// The axis' score, 0..100; when the raw sum is outside, a `<axis>:clamp` rule
    /// records the difference so that the rules always add up to the score.
    fn close(&mut self, axis: Axis) -> u8 {
        let raw = self
            .rules
            .iter()
            .filter(|r| rules::axis_of(&r.rule) == Some(axis))
            .fold(0.0_f32, |sum, r| sum + r.contribution);
        let score = raw.round().clamp(0.0, 100.0);
        if score != raw.round() {
            self.rules.push(RuleHit {
                rule: format!("{}:clamp", axis.name()),
                contribution: score - raw,
                detail: format!("{raw} brought into 0..100"),
            });
        }
        score as u8
    }
}

/// Transport TLS (by version; halved back when earlier hops are unknown), DKIM,
/// encryption and signature.
fn technic(message: &Message, score: &mut Score<'_>) {
    let features = &message.privacy_features;
    let ingress_tls = features
        .extra
        .iter()
        .any(|(k, v)| k == "ingress_tls" && v.trim().eq_ignore_ascii_case("true"));
    let tls = match features.transport_tls_version.as_deref() {
        Some(version) => Some(tls::classify(version)),
        None if ingress_tls => Some(Tls::Unknown(String::new())),
        None => None,
    };
    let tls_points = match tls {
        None => 0.0,
        Some(version) => {
            let (rule, detail) = match &version {
                Tls::V13 => (
                    rules::TLS_13,
                    "the last external hop used TLS 1.3".to_owned(),
                ),
                Tls::V12 => (
                    rules::TLS_12,
                    "the last external hop used TLS 1.2".to_owned(),
                ),
                Tls::V11 => (
                    rules::TLS_11,
                    "the last external hop used TLS 1.1".to_owned(),
                ),
                Tls::V10 => (
                    rules::TLS_10,
                    "the last external hop used TLS 1.0".to_owned(),
                ),
                Tls::Legacy => (
                    rules::TLS_LEGACY,
                    "the last external hop used TLSv1/SSLv3".to_owned(),
                ),
                Tls::Ssl => (
                    rules::SSL_OBSOLETE,
                    "the last external hop used obsolete SSL".to_owned(),
                ),
                Tls::Unknown(text) if text.is_empty() => (
                    rules::TLS_UNKNOWN,
                    "the last external hop used TLS (version not stated)".to_owned(),
                ),
                Tls::Unknown(text) => (
                    rules::TLS_UNKNOWN,
                    format!("the last external hop used TLS, unknown version `{text}`"),
                ),
            };
            score.add(rule, 1.0, detail)
        }
    };
    let hops = features.external_hops;
    if hops > 1 && tls_points > 0.0 {
        let detail = format!("{hops} external hops: only the last is known to be encrypted");
        score.add(rules::TLS_PATH_UNVERIFIED, -tls_points, detail);
    }
    if features.dkim_signed {
        score.add(rules::DKIM, 1.0, "the message has a DKIM signature".into());
    }
    if let Some(scheme) = features.encryption {
        let (rule, name) = match scheme {
            CryptoScheme::PgpMime => (rules::PGP_MIME_ENCRYPTED, "PGP/MIME"),
            CryptoScheme::PgpInline => (rules::PGP_INLINE_ENCRYPTED, "inline PGP"),
            CryptoScheme::Smime => (rules::SMIME_ENCRYPTED, "S/MIME"),
        };
        score.add(rule, 1.0, format!("the body is encrypted ({name})"));
    }
    if let Some(scheme) = features.signature {
        let (rule, name) = match scheme {
            CryptoScheme::PgpMime => (rules::PGP_MIME_SIGNED, "PGP/MIME"),
            CryptoScheme::PgpInline => (rules::PGP_INLINE_SIGNED, "inline PGP"),
            CryptoScheme::Smime => (rules::SMIME_SIGNED, "S/MIME"),
        };
        score.add(rule, 1.0, format!("the message is signed ({name})"));
    }
}

/// The sender as the user knows them, the discussion, spam.
fn comportment(view: &MessageView, host: &HostAnswers, score: &mut Score<'_>) {
    let message = &view.message;
    let start = "the starting point: nothing known about the sender either way";
    score.add(rules::COMPORTMENT_BASELINE, 1.0, start.into());
    let from = message
        .participants
        .iter()
        .find(|p| p.role == ParticipantRole::From)
        .map(|p| normalize(&p.address));
    let sender = from.and_then(|from| {
        host.contacts
            .iter()
            .find(|(address, _)| *address == from)
            .and_then(|(_, contact)| contact.as_ref())
    });
    if let Some(contact) = sender {
        score.add(
            rules::KNOWN_SENDER,
            1.0,
            format!("the sender is your contact “{}”", contact.title),
        );
        if contact.has_public_key {
            score.add(
                rules::SENDER_PUBLIC_KEY,
                1.0,
                "you have the sender's public key".into(),
            );
        }
        if let Some(pi) = contact.pi {
            let detail = format!("the contact's own comportment score is {}", pi.comportment);
            score.add(
                rules::SENDER_TRUST,
                f32::from(pi.comportment.min(100)),
                detail,
            );
        }
    }
    if let Some(parent) = &message.external_references.parent_id {
        score.add(
            rules::KNOWN_DISCUSSION,
            1.0,
            format!("a reply in a discussion (to <{parent}>)"),
        );
    }
    if view.is_spam {
        score.add(rules::SPAM, 1.0, "an earlier qualifier found spam".into());
    }
}

/// Internal mail, the path length, how the user was addressed, mailing lists, known
/// participants.
fn context(view: &MessageView, host: &HostAnswers, score: &mut Score<'_>) {
    let message = &view.message;
    let features = &message.privacy_features;
    score.add(
        rules::CONTEXT_BASELINE,
        1.0,
        "the starting point: an ordinary context".into(),
    );
    let tagged_internal = view.tags.iter().any(|t| t.eq_ignore_ascii_case("internal"));
    if features.is_internal || tagged_internal {
        score.add(
            rules::INTERNAL,
            1.0,
            "internal mail: every participant is local".into(),
        );
    }
    let hops = features.external_hops;
    let hop_rule = match hops {
        0 => rules::NO_EXTERNAL_HOP,
        1 => rules::ONE_EXTERNAL_HOP,
        2 => rules::TWO_EXTERNAL_HOPS,
        _ => rules::MANY_EXTERNAL_HOPS,
    };
    score.add(
        hop_rule,
        1.0,
        format!("{hops} external hop{}", plural(hops as usize)),
    );
    let addressed = |role: ParticipantRole| {
        message
            .participants
            .iter()
            .any(|p| p.role == role && is_identity(&normalize(&p.address), &host.identities))
    };
    if addressed(ParticipantRole::To) {
        score.add(
            rules::ADDRESSED_TO,
            1.0,
            "you are addressed directly (To)".into(),
        );
    } else if addressed(ParticipantRole::Cc) {
        score.add(rules::ADDRESSED_CC, 1.0, "you are in copy (Cc)".into());
    } else if addressed(ParticipantRole::Bcc) {
        score.add(
            rules::ADDRESSED_BCC,
            1.0,
            "you are in blind copy (Bcc)".into(),
        );
    }
    if let Some(list) = message
        .participants
        .iter()
        .find(|p| p.role == ParticipantRole::ListId)
    {
        score.add(
            rules::VIA_LIST,
            1.0,
            format!("came through the list {}", list.address),
        );
    }
    let all_known = host.complete
        && !host.contacts.is_empty()
        && host.contacts.iter().all(|(_, c)| c.is_some());
    if all_known {
        let detail = match host.contacts.len() {
            1 => "the other participant is your contact".to_owned(),
            n => format!("all {n} other participants are your contacts"),
        };
        score.add(rules::ALL_PARTICIPANTS_KNOWN, 1.0, detail);
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn is_identity(address: &str, identities: &[String]) -> bool {
    identities.iter().any(|i| normalize(i) == address)
}

/// An address as compared here: trimmed, lower case.
pub fn normalize(address: &str) -> String {
    address.trim().to_lowercase()
}

#[cfg(test)]
#[path = "index/tests.rs"]
mod tests;
