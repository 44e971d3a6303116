//! The rule table: every rule's stable name, default weight and meaning. The names
//! are what a verdict's `rules` carry and what `weight.<RULE>` overrides.

/// One named spam rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// The 68-character GTUBE test string is in a body.
    Gtube,
    /// The upstream filter (SpamAssassin, rspamd) said spam.
    UpstreamSpam,
    /// The upstream filter said not spam.
    UpstreamHam,
    /// The upstream score, times the weight (a multiplier), bounded to −5..10.
    UpstreamScore,
    /// The subject is mostly capital letters.
    SubjectAllCaps,
    /// Many exclamation marks in the subject or the body.
    Exclamations,
    /// An HTML body without a text alternative that loads remote content.
    HtmlOnlyRemote,
    /// The HTML body has scripts.
    HtmlScript,
    /// The HTML body has forms.
    HtmlForm,
    /// A link shows a URL or domain other than the one it points to.
    LinkTextMismatch,
    /// The From display name holds an address other than the sender's.
    FromNameAddress,
    /// Reply-To goes to another domain than From, outside a mailing list.
    ReplyToDiffers,
    /// The Date header is missing or does not parse.
    MissingDate,
    /// The Message-ID header is missing.
    MissingMessageId,
    /// Very many recipients (To, Cc and Bcc together).
    ManyRecipients,
    /// Common spam phrases, the weight per phrase found.
    SpamPhrases,
    /// A large sum of money together with money-transfer vocabulary.
    MoneyOffer,
    /// The sender is one of the user's contacts.
    KnownContact,
}

impl Rule {
    /// Every rule, in the order a verdict lists them.
    pub const ALL: [Rule; 18] = [
        Rule::Gtube,
        Rule::UpstreamSpam,
        Rule::UpstreamHam,
        Rule::UpstreamScore,
        Rule::SubjectAllCaps,
        Rule::Exclamations,
        Rule::HtmlOnlyRemote,
        Rule::HtmlScript,
        Rule::HtmlForm,
        Rule::LinkTextMismatch,
        Rule::FromNameAddress,
        Rule::ReplyToDiffers,
        Rule::MissingDate,
        Rule::MissingMessageId,
        Rule::ManyRecipients,
        Rule::SpamPhrases,
        Rule::MoneyOffer,
        Rule::KnownContact,
    ];

    /// The stable name, as in `rule-hit.rule` and in `weight.<RULE>`.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Gtube => "GTUBE",
            Rule::UpstreamSpam => "UPSTREAM_SPAM",
            Rule::UpstreamHam => "UPSTREAM_HAM",
            Rule::UpstreamScore => "UPSTREAM_SCORE",
            Rule::SubjectAllCaps => "SUBJECT_ALL_CAPS",
            Rule::Exclamations => "EXCLAMATIONS",
            Rule::HtmlOnlyRemote => "HTML_ONLY_REMOTE",
            Rule::HtmlScript => "HTML_SCRIPT",
            Rule::HtmlForm => "HTML_FORM",
            Rule::LinkTextMismatch => "LINK_TEXT_MISMATCH",
            Rule::FromNameAddress => "FROM_NAME_ADDRESS",
            Rule::ReplyToDiffers => "REPLYTO_DIFFERS",
            Rule::MissingDate => "MISSING_DATE",
            Rule::MissingMessageId => "MISSING_MESSAGE_ID",
            Rule::ManyRecipients => "MANY_RECIPIENTS",
            Rule::SpamPhrases => "SPAM_PHRASES",
            Rule::MoneyOffer => "MONEY_OFFER",
            Rule::KnownContact => "KNOWN_CONTACT",
        }
    }

    /// The weight when the manifest does not override it. For [`Rule::UpstreamScore`]
    /// it multiplies the upstream score; for [`Rule::SpamPhrases`] it is per phrase.
    pub fn default_weight(self) -> f32 {
        match self {
            Rule::Gtube => 1000.0,
            Rule::UpstreamSpam => 5.0,
            Rule::UpstreamHam => -0.5,
            Rule::UpstreamScore => 0.5,
            Rule::SubjectAllCaps => 1.0,
            Rule::Exclamations => 1.0,
            Rule::HtmlOnlyRemote => 1.5,
            Rule::HtmlScript => 1.0,
            Rule::HtmlForm => 1.0,
            Rule::LinkTextMismatch => 2.5,
            Rule::FromNameAddress => 2.0,
            Rule::ReplyToDiffers => 0.8,
            Rule::MissingDate => 0.5,
            Rule::MissingMessageId => 0.5,
            Rule::ManyRecipients => 1.0,
            Rule::SpamPhrases => 0.5,
            Rule::MoneyOffer => 2.5,
            Rule::KnownContact => -3.0,
        }
    }

    /// The rule whose name is `name` (exact, upper case).
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::Rule;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut names: Vec<_> = Rule::ALL.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Rule::ALL.len());
        for rule in Rule::ALL {
            assert_eq!(Rule::from_name(rule.name()), Some(rule));
        }
        assert_eq!(Rule::from_name("gtube"), None);
    }

    #[test]
    fn only_gtube_reaches_the_default_threshold_alone_besides_an_upstream_verdict() {
        let alone: Vec<_> = Rule::ALL
            .into_iter()
            .filter(|r| r.default_weight() >= 5.0)
            .collect();
        assert_eq!(alone, [Rule::Gtube, Rule::UpstreamSpam]);
    }
}
