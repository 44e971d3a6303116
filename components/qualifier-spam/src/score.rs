//! [`score`]: the pure scoring function. Every rule of [`Rule::ALL`] is evaluated on
//! the message view; each that fires contributes its weight (see `rules`), and the
//! sum is compared with the threshold.

use crate::html;
use crate::links;
use crate::rules::Rule;
use crate::settings::Settings;
use crate::text;
use crate::{Contact, Message, MessageView, Participant, ParticipantRole, RuleHit, Verdict};

/// The standard GTUBE test string (68 characters).
pub const GTUBE: &str = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

/// The tag a spam verdict adds (a system tag every user has).
pub const SPAM_TAG: &str = "spam";

/// How much of a body the text rules read; the GTUBE rule reads whole bodies.
pub const SCAN_LIMIT: usize = 256 * 1024;

/// How many links of an HTML body `LINK_TEXT_MISMATCH` looks at.
pub const MAX_LINKS: usize = 200;

/// The verdict on `view`. `sender` is the user's contact owning the From address,
/// when the host found one.
pub fn score(view: &MessageView, sender: Option<&Contact>, settings: &Settings) -> Verdict {
    let message = &view.message;
    let body = body_text(message);
    let mut hits = Hits::new(settings);

    if [&message.body_plain, &message.body_html]
        .into_iter()
        .flatten()
        .any(|b| b.contains(GTUBE))
    {
        hits.add(
            Rule::Gtube,
            1.0,
            "the GTUBE test string is in the body".into(),
        );
    }
    upstream(message, &mut hits);
    if let Some((upper, letters)) = text::mostly_capitals(&message.subject) {
        let detail = format!("{upper} of the subject's {letters} letters are capitals");
        hits.add(Rule::SubjectAllCaps, 1.0, detail);
    }
    if let Some(detail) = text::many_exclamations(&message.subject, &body) {
        hits.add(Rule::Exclamations, 1.0, detail);
    }
    html_rules(message, &mut hits);
    sender_rules(message, &mut hits);
    header_rules(message, settings, &mut hits);

    let normalized = text::normalize(&format!("{} {body}", message.subject));
    let phrases = text::spam_phrases(&normalized, settings.max_phrases);
    if !phrases.is_empty() {
        let detail = format!("spam phrases: {}", phrases.join(", "));
        hits.add(Rule::SpamPhrases, phrases.len() as f32, detail);
    }
    if let Some((sum, word)) = text::money_offer(&normalized) {
        let detail = format!("a large sum of money ({sum}) and `{word}`");
        hits.add(Rule::MoneyOffer, 1.0, detail);
    }
    if let Some(contact) = sender {
        let detail = format!("the sender is your contact “{}”", contact.title);
        hits.add(Rule::KnownContact, 1.0, detail);
    }
    hits.verdict(settings.threshold)
}

/// The fired rules so far and their contributions.
struct Hits<'a> {
    settings: &'a Settings,
    rules: Vec<RuleHit>,
}

impl<'a> Hits<'a> {
    fn new(settings: &'a Settings) -> Self {
        Self {
            settings,
            rules: Vec::new(),
        }
    }

    /// Records `rule` with `units` times its weight; a zero contribution (a rule
    /// disabled by a zero weight) is not recorded.
    fn add(&mut self, rule: Rule, units: f32, detail: String) {
        self.add_contribution(rule, units * self.settings.weight(rule), detail);
    }

    fn add_contribution(&mut self, rule: Rule, contribution: f32, detail: String) {
        if contribution != 0.0 && contribution.is_finite() {
            self.rules.push(RuleHit {
                rule: rule.name().to_owned(),
                contribution,
                detail,
            });
        }
    }

    fn verdict(self, threshold: f32) -> Verdict {
        // A fold from +0.0: `Sum` starts from −0.0, which would show as `-0`.
        let sum = self
            .rules
            .iter()
            .fold(0.0_f32, |sum, r| sum + r.contribution);
        let is_spam = sum >= threshold;
        Verdict {
            pi: None,
            importance_level: None,
            is_spam: Some(is_spam),
            spam_score: Some(sum),
            add_tags: if is_spam {
                vec![SPAM_TAG.to_owned()]
            } else {
                Vec::new()
            },
            rules: self.rules,
        }
    }
}

/// The upstream filter's verdict and score. A positive score counts (the original
/// Caliopen clamped it to zero or below).
fn upstream(message: &Message, hits: &mut Hits<'_>) {
    let features = &message.privacy_features;
    match features.upstream_spam {
        Some(true) => hits.add(
            Rule::UpstreamSpam,
            1.0,
            "the upstream filter says spam".into(),
        ),
        Some(false) => hits.add(
            Rule::UpstreamHam,
            1.0,
            "the upstream filter says not spam".into(),
        ),
        None => {}
    }
    if let Some(score) = features.upstream_spam_score.filter(|s| s.is_finite()) {
        let factor = hits.settings.weight(Rule::UpstreamScore);
        let contribution = (score * factor).clamp(-5.0, 10.0);
        let detail = format!("upstream score {score} × {factor}, bounded to −5..10");
        hits.add_contribution(Rule::UpstreamScore, contribution, detail);
    }
}

/// The rules on the HTML body and its safety flags.
fn html_rules(message: &Message, hits: &mut Hits<'_>) {
    let Some(html_body) = &message.body_html else {
        return;
    };
    let safety = &message.html_safety;
    let no_text = message
        .body_plain
        .as_deref()
        .is_none_or(|p| p.trim().is_empty());
    if no_text && safety.has_remote_content {
        let detail = "an HTML body without a text alternative loads remote content".into();
        hits.add(Rule::HtmlOnlyRemote, 1.0, detail);
    }
    if safety.has_scripts {
        hits.add(Rule::HtmlScript, 1.0, "the HTML body has scripts".into());
    }
    if safety.has_forms {
        hits.add(Rule::HtmlForm, 1.0, "the HTML body has forms".into());
    }
    let anchors = html::anchors(truncate(html_body, SCAN_LIMIT), MAX_LINKS);
    let mismatches: Vec<(String, String)> = anchors.iter().filter_map(links::mismatch).collect();
    if let Some((shown, target)) = mismatches.first() {
        let more = match mismatches.len() {
            1 => String::new(),
            n => format!(" ({n} such links)"),
        };
        let detail = format!("a link shows {shown} but goes to {target}{more}");
        hits.add(Rule::LinkTextMismatch, 1.0, detail);
    }
}

/// The rules on the From participant: its display name, and Reply-To.
fn sender_rules(message: &Message, hits: &mut Hits<'_>) {
    let Some(from) = first_with_role(&message.participants, ParticipantRole::From) else {
        return;
    };
    if let Some(shown) = address_in_name(&from.label)
        && !shown.eq_ignore_ascii_case(from.address.trim())
    {
        let detail = format!(
            "the From name shows {shown} but the sender is {}",
            from.address
        );
        hits.add(Rule::FromNameAddress, 1.0, detail);
    }
    let has_list = first_with_role(&message.participants, ParticipantRole::ListId).is_some();
    let from_site = links::address_domain(&from.address);
    let reply_to = message
        .participants
        .iter()
        .filter(|p| p.role == ParticipantRole::ReplyTo)
        .find_map(|p| links::address_domain(&p.address));
    if let (false, Some(from_site), Some(reply_site)) = (has_list, from_site, reply_to)
        && links::site(&from_site) != links::site(&reply_site)
    {
        let detail = format!("replies go to {reply_site}, the sender is at {from_site}");
        hits.add(Rule::ReplyToDiffers, 1.0, detail);
    }
}

/// The rules on missing headers and on the number of recipients.
fn header_rules(message: &Message, settings: &Settings, hits: &mut Hits<'_>) {
    let problem = |needles: &[&str]| {
        message
            .problems
            .iter()
            .find(|p| needles.iter().any(|n| p.contains(n)))
            .cloned()
    };
    if let Some(p) = problem(&[
        "no Date header",
        "Date header does not parse",
        "no usable Date",
    ]) {
        hits.add(Rule::MissingDate, 1.0, format!("problem: {p}"));
    }
    let missing_id = problem(&["no Message-ID header"]).or_else(|| {
        message
            .external_references
            .message_id
            .is_none()
            .then(|| "no Message-ID".to_owned())
    });
    if let Some(p) = missing_id {
        hits.add(Rule::MissingMessageId, 1.0, format!("problem: {p}"));
    }
    let recipients = message
        .participants
        .iter()
        .filter(|p| {
            matches!(
                p.role,
                ParticipantRole::To | ParticipantRole::Cc | ParticipantRole::Bcc
            )
        })
        .count();
    if recipients >= settings.many_recipients {
        hits.add(
            Rule::ManyRecipients,
            1.0,
            format!("{recipients} recipients"),
        );
    }
}

/// What the text rules read: the plain body, else the visible text of the HTML body,
/// at most [`SCAN_LIMIT`] bytes of it.
pub fn body_text(message: &Message) -> String {
    match (&message.body_plain, &message.body_html) {
        (Some(plain), _) if !plain.trim().is_empty() => truncate(plain, SCAN_LIMIT).to_owned(),
        (_, Some(html_body)) => html::to_text(truncate(html_body, SCAN_LIMIT)),
        _ => String::new(),
    }
}

/// The address of the first From participant, the one `KNOWN_CONTACT` asks about.
pub fn sender_address(message: &Message) -> Option<&str> {
    first_with_role(&message.participants, ParticipantRole::From)
        .map(|p| p.address.as_str())
        .filter(|a| !a.trim().is_empty())
}

fn first_with_role(participants: &[Participant], role: ParticipantRole) -> Option<&Participant> {
    participants.iter().find(|p| p.role == role)
}

/// The first address-looking word of a display name (`paypal@paypal.com via X`),
/// lower case.
fn address_in_name(name: &str) -> Option<String> {
    name.split(|c: char| {
        c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | '"' | '\'' | ',' | ';')
    })
    .map(|w| w.trim_matches(|c: char| matches!(c, '.' | ':' | '[' | ']')))
    .find(|w| {
        w.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.ends_with('.')
        })
    })
    .map(str::to_lowercase)
}

/// At most `max` bytes of `text`, cut on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
#[path = "score/tests.rs"]
mod tests;
