//! The pure part: the importance level from the view (tags, spam, PI, references,
//! participants) and the host's answers ([`importance`]).

use crate::settings::{self, Settings};
use crate::{MessageView, ParticipantRole, RuleHit, Tag, Verdict};

/// The lowest and highest importance levels.
pub const MIN_LEVEL: i8 = -10;
pub const MAX_LEVEL: i8 = 10;

/// Everything the qualifier asked the host, answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostAnswers {
    /// `user.identities` (empty when the host could not answer).
    pub identities: Vec<String>,
    /// `user.tags` (empty when the host could not answer: then tags do not count).
    pub tags: Vec<Tag>,
}

/// The verdict: the importance level, each contribution reported as a rule.
pub fn importance(view: &MessageView, host: &HostAnswers, settings: &Settings) -> Verdict {
    let message = &view.message;
    let mut rules: Vec<RuleHit> = Vec::new();
    let mut add = |rule: String, contribution: f32, detail: String| {
        if contribution != 0.0 && contribution.is_finite() {
            rules.push(RuleHit {
                rule,
                contribution,
                detail,
            });
        }
    };
    let mut fixed = |rule: &str, detail: String| add(rule.to_owned(), settings.steps(rule), detail);

    if view.is_spam {
        fixed(settings::SPAM, "the message is spam".into());
    }
    if let Some(pi) = view.pi {
        let mean =
            (f32::from(pi.technic) + f32::from(pi.comportment) + f32::from(pi.context)) / 3.0;
        if mean < settings.low_pi {
            let detail = format!("privacy index mean {mean:.0} is under {}", settings.low_pi);
            fixed(settings::LOW_PI, detail);
        }
        if f32::from(pi.comportment) >= settings.trusted_comportment {
            let detail = format!("comportment {} shows a trusted sender", pi.comportment);
            fixed(settings::TRUSTED_SENDER, detail);
        }
    }
    if let Some(parent) = &message.external_references.parent_id {
        fixed(settings::REPLY, format!("a reply (to <{parent}>)"));
    }
    let is_user = |address: &str| {
        let address = address.trim().to_lowercase();
        host.identities
            .iter()
            .any(|i| i.trim().to_lowercase() == address)
    };
    let in_to = message
        .participants
        .iter()
        .any(|p| p.role == ParticipantRole::To && is_user(&p.address));
    if in_to {
        fixed(
            settings::ADDRESSED_TO,
            "you are addressed directly (To)".into(),
        );
    } else if let Some(list) = message
        .participants
        .iter()
        .find(|p| p.role == ParticipantRole::ListId)
    {
        fixed(
            settings::VIA_LIST,
            format!("through the list {}, not to you", list.address),
        );
    }

    for name in &view.tags {
        let Some(tag) = host
            .tags
            .iter()
            .find(|t| t.name.trim().to_lowercase() == name.trim().to_lowercase())
        else {
            continue;
        };
        // The spam verdict is counted once, by the `spam` rule.
        if view.is_spam && tag.name.trim().eq_ignore_ascii_case(settings::SPAM) {
            continue;
        }
        let detail = format!(
            "tagged `{}` (importance level {})",
            tag.name, tag.importance_level
        );
        add(
            format!("tag:{}", tag.name),
            f32::from(tag.importance_level),
            detail,
        );
    }

    let raw = rules.iter().fold(0.0_f32, |sum, r| sum + r.contribution);
    let level = raw
        .round()
        .clamp(f32::from(MIN_LEVEL), f32::from(MAX_LEVEL));
    if level != raw.round() {
        rules.push(RuleHit {
            rule: "clamp".into(),
            contribution: level - raw,
            detail: format!("{raw} brought into {MIN_LEVEL}..{MAX_LEVEL}"),
        });
    }
    Verdict {
        pi: None,
        importance_level: Some(level as i8),
        is_spam: None,
        spam_score: None,
        add_tags: Vec::new(),
        rules,
    }
}

#[cfg(test)]
#[path = "level/tests.rs"]
mod tests;
