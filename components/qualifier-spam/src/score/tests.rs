//! One test per rule (fires / does not fire), then the threshold, the config
//! overrides and the verdict's shape.

use std::collections::BTreeMap;

use super::*;
use crate::testkit::{contact, participant, rule_names, view};
use crate::{CryptoScheme, MessageView};

fn run(view: &MessageView) -> Verdict {
    score(view, None, &Settings::default())
}

fn fired(view: &MessageView, rule: Rule) -> Option<RuleHit> {
    run(view).rules.into_iter().find(|r| r.rule == rule.name())
}

fn with_config(pairs: &[(&str, &str)]) -> Settings {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::from_config(|key| map.get(key).cloned())
}

#[test]
fn a_plain_message_fires_nothing_and_is_not_spam() {
    let verdict = run(&view());
    assert!(verdict.rules.is_empty(), "{:?}", rule_names(&verdict));
    assert_eq!(verdict.is_spam, Some(false));
    assert_eq!(verdict.spam_score, Some(0.0));
    assert!(verdict.add_tags.is_empty());
    assert_eq!((verdict.pi, verdict.importance_level), (None, None));
}

#[test]
fn gtube_in_plain_or_html_body() {
    let mut v = view();
    v.message.body_plain = Some(format!("test\n{GTUBE}\n"));
    let hit = fired(&v, Rule::Gtube).expect("fires");
    assert_eq!(hit.contribution, 1000.0);
    v.message.body_plain = None;
    v.message.body_html = Some(format!("<p>{GTUBE}</p>"));
    assert!(fired(&v, Rule::Gtube).is_some());
    v.message.body_html = Some(GTUBE.replace("C.34X", "C.34Y"));
    assert!(
        fired(&v, Rule::Gtube).is_none(),
        "an altered string is not GTUBE"
    );
    assert_eq!(GTUBE.len(), 68);
}

#[test]
fn upstream_verdicts() {
    let mut v = view();
    v.message.privacy_features.upstream_spam = Some(true);
    assert_eq!(
        fired(&v, Rule::UpstreamSpam).map(|h| h.contribution),
        Some(5.0)
    );
    assert!(fired(&v, Rule::UpstreamHam).is_none());
    v.message.privacy_features.upstream_spam = Some(false);
    assert_eq!(
        fired(&v, Rule::UpstreamHam).map(|h| h.contribution),
        Some(-0.5)
    );
    assert!(fired(&v, Rule::UpstreamSpam).is_none());
    v.message.privacy_features.upstream_spam = None;
    assert!(run(&v).rules.is_empty());
}

#[test]
fn a_positive_upstream_score_counts_and_is_bounded() {
    let mut v = view();
    let features =
        |v: &mut MessageView, s: f32| v.message.privacy_features.upstream_spam_score = Some(s);
    features(&mut v, 6.5);
    assert_eq!(
        fired(&v, Rule::UpstreamScore).map(|h| h.contribution),
        Some(3.25)
    );
    features(&mut v, -2.0);
    assert_eq!(
        fired(&v, Rule::UpstreamScore).map(|h| h.contribution),
        Some(-1.0)
    );
    features(&mut v, 500.0);
    assert_eq!(
        fired(&v, Rule::UpstreamScore).map(|h| h.contribution),
        Some(10.0)
    );
    features(&mut v, -500.0);
    assert_eq!(
        fired(&v, Rule::UpstreamScore).map(|h| h.contribution),
        Some(-5.0)
    );
    features(&mut v, 0.0);
    assert!(fired(&v, Rule::UpstreamScore).is_none(), "nothing to add");
    features(&mut v, f32::NAN);
    assert!(fired(&v, Rule::UpstreamScore).is_none());
}

#[test]
fn subject_all_caps() {
    let mut v = view();
    v.message.subject = "URGENT BUSINESS ASSISTANCE".into();
    assert!(fired(&v, Rule::SubjectAllCaps).is_some());
    v.message.subject = "Urgent business assistance".into();
    assert!(fired(&v, Rule::SubjectAllCaps).is_none());
}

#[test]
fn exclamations() {
    let mut v = view();
    v.message.subject = "Act fast!!".into();
    assert!(fired(&v, Rule::Exclamations).is_some());
    v.message.subject = "Hi!".into();
    assert!(fired(&v, Rule::Exclamations).is_none());
    v.message.body_plain = Some("Amazing!!! Really".into());
    assert!(fired(&v, Rule::Exclamations).is_some());
}

#[test]
fn html_only_with_remote_content() {
    let mut v = view();
    v.message.body_plain = None;
    v.message.body_html = Some("<img src='https://track.example/p.gif'>".into());
    v.message.html_safety.has_remote_content = true;
    assert!(fired(&v, Rule::HtmlOnlyRemote).is_some());
    v.message.body_plain = Some("  \n".into());
    assert!(
        fired(&v, Rule::HtmlOnlyRemote).is_some(),
        "a blank text part is no alternative"
    );
    v.message.body_plain = Some("the same in text".into());
    assert!(fired(&v, Rule::HtmlOnlyRemote).is_none());
    v.message.body_plain = None;
    v.message.html_safety.has_remote_content = false;
    assert!(fired(&v, Rule::HtmlOnlyRemote).is_none());
}

#[test]
fn html_scripts_and_forms() {
    let mut v = view();
    v.message.body_html = Some("<form><script></script></form>".into());
    assert!(fired(&v, Rule::HtmlScript).is_none() && fired(&v, Rule::HtmlForm).is_none());
    v.message.html_safety.has_scripts = true;
    v.message.html_safety.has_forms = true;
    assert!(fired(&v, Rule::HtmlScript).is_some() && fired(&v, Rule::HtmlForm).is_some());
}

#[test]
fn link_text_mismatch() {
    let mut v = view();
    v.message.body_html = Some(
        r#"<a href="https://evil.example/login">https://www.bank.example</a>
           <a href="http://x.evil.example">www.bank.example</a>"#
            .into(),
    );
    let hit = fired(&v, Rule::LinkTextMismatch).expect("fires");
    assert_eq!(hit.contribution, 2.5);
    assert!(hit.detail.contains("www.bank.example") && hit.detail.contains("2 such links"));
    v.message.body_html =
        Some(r#"<a href="https://login.bank.example/">www.bank.example</a>"#.into());
    assert!(fired(&v, Rule::LinkTextMismatch).is_none());
    v.message.body_html = Some(r#"<a href="https://evil.example/">Log in</a>"#.into());
    assert!(fired(&v, Rule::LinkTextMismatch).is_none());
}

#[test]
fn from_name_with_another_address() {
    let mut v = view();
    v.message.participants[0] = participant(
        ParticipantRole::From,
        "x@evil.example",
        "service@paypal.com",
    );
    let hit = fired(&v, Rule::FromNameAddress).expect("fires");
    assert!(hit.detail.contains("service@paypal.com"));
    v.message.participants[0] = participant(
        ParticipantRole::From,
        "alice@example.org",
        "'Alice@Example.org'",
    );
    assert!(
        fired(&v, Rule::FromNameAddress).is_none(),
        "the sender's own address"
    );
    v.message.participants[0] = participant(ParticipantRole::From, "a@b.example", "Alice @ home");
    assert!(fired(&v, Rule::FromNameAddress).is_none());
}

#[test]
fn reply_to_on_another_site() {
    let mut v = view();
    let reply_to = participant(ParticipantRole::ReplyTo, "claims@aol.example", "");
    v.message.participants.push(reply_to);
    assert!(fired(&v, Rule::ReplyToDiffers).is_some());
    v.message.participants[2].address = "alice@mail.example.org".into();
    assert!(fired(&v, Rule::ReplyToDiffers).is_none(), "same site");
    v.message.participants[2].address = "list@lists.example".into();
    let list = participant(ParticipantRole::ListId, "dev.lists.example", "");
    v.message.participants.push(list);
    assert!(
        fired(&v, Rule::ReplyToDiffers).is_none(),
        "lists set Reply-To"
    );
}

#[test]
fn missing_date_and_message_id_from_problems() {
    let mut v = view();
    v.message.problems = vec!["no Date header".into()];
    assert!(fired(&v, Rule::MissingDate).is_some());
    v.message.problems = vec!["Date header does not parse: `soon`".into()];
    assert!(fired(&v, Rule::MissingDate).is_some());
    v.message.problems = vec!["no Message-ID header".into()];
    assert!(fired(&v, Rule::MissingDate).is_none());
    assert!(fired(&v, Rule::MissingMessageId).is_some());
    v.message.problems.clear();
    v.message.external_references.message_id = None;
    assert!(fired(&v, Rule::MissingMessageId).is_some());
}

#[test]
fn many_recipients_from_the_configured_count() {
    let mut v = view();
    for i in 0..19 {
        let role = if i % 2 == 0 {
            ParticipantRole::Cc
        } else {
            ParticipantRole::Bcc
        };
        v.message
            .participants
            .push(participant(role, &format!("r{i}@example.net"), ""));
    }
    assert!(
        fired(&v, Rule::ManyRecipients).is_some(),
        "1 To + 19 others"
    );
    v.message.participants.pop();
    assert!(fired(&v, Rule::ManyRecipients).is_none());
    let settings = with_config(&[("many_recipients", "5")]);
    assert!(rule_names(&score(&v, None, &settings)).contains(&"MANY_RECIPIENTS"));
}

#[test]
fn spam_phrases_per_phrase_and_capped() {
    let mut v = view();
    v.message.subject = "Dear friend".into();
    v.message.body_plain = Some("Click here to claim your cash prize".into());
    let hit = fired(&v, Rule::SpamPhrases).expect("fires");
    assert_eq!(hit.contribution, 2.0, "{}", hit.detail);
    let capped = score(&v, None, &with_config(&[("max_phrases", "1")]));
    assert_eq!(capped.rules[0].contribution, 0.5);
    assert!(fired(&view(), Rule::SpamPhrases).is_none());
}

#[test]
fn money_offer() {
    let mut v = view();
    v.message.body_plain = Some("the sum of $25,000,000 will be transferred to you".into());
    assert!(fired(&v, Rule::MoneyOffer).is_some());
    v.message.body_plain = Some("the budget is $25,000,000 this year".into());
    assert!(fired(&v, Rule::MoneyOffer).is_none());
}

#[test]
fn a_known_sender_lowers_the_score() {
    let mut v = view();
    v.message.privacy_features.upstream_spam = Some(true);
    let alice = contact("Alice", "alice@example.org");
    let verdict = score(&v, Some(&alice), &Settings::default());
    assert_eq!(verdict.spam_score, Some(2.0));
    assert_eq!(verdict.is_spam, Some(false));
    assert!(verdict.rules[1].detail.contains("Alice"));
    assert_eq!(run(&v).is_spam, Some(true), "the same without the contact");
}

#[test]
fn threshold_is_inclusive_and_configurable() {
    let mut v = view();
    v.message.privacy_features.upstream_spam = Some(true);
    let verdict = run(&v);
    assert_eq!(
        (verdict.spam_score, verdict.is_spam),
        (Some(5.0), Some(true))
    );
    assert_eq!(verdict.add_tags, ["spam"]);
    let strict = score(&v, None, &with_config(&[("threshold", "5.01")]));
    assert_eq!(strict.is_spam, Some(false));
    assert!(strict.add_tags.is_empty());
}

#[test]
fn weights_are_overridable_and_zero_disables() {
    let mut v = view();
    v.message.subject = "URGENT BUSINESS ASSISTANCE".into();
    let settings = with_config(&[
        ("weight.SUBJECT_ALL_CAPS", "4.5"),
        ("weight.SPAM_PHRASES", "0"),
    ]);
    let verdict = score(&v, None, &settings);
    assert_eq!(rule_names(&verdict), ["SUBJECT_ALL_CAPS"]);
    assert_eq!(verdict.spam_score, Some(4.5));
}

#[test]
fn every_rule_has_a_firing_case_here() {
    // The rule list and this file stay in step: a new rule needs its test above.
    let mut v = view();
    v.message.subject = "URGENT!! DEAR FRIEND".into();
    v.message.body_plain = None;
    v.message.body_html = Some(format!(
        r#"{GTUBE} $1,000,000 transfer <a href="https://evil.example">https://bank.example</a>"#
    ));
    v.message.html_safety = crate::HtmlSafety {
        has_scripts: true,
        has_remote_content: true,
        has_forms: true,
    };
    v.message.participants[0].label = "ceo@bank.example".into();
    v.message
        .participants
        .push(participant(ParticipantRole::ReplyTo, "x@other.example", ""));
    v.message.problems = vec!["no Date header".into()];
    v.message.external_references.message_id = None;
    v.message.privacy_features.upstream_spam = Some(true);
    v.message.privacy_features.upstream_spam_score = Some(9.0);
    v.message.privacy_features.encryption = Some(CryptoScheme::PgpMime);
    let settings = with_config(&[("many_recipients", "1")]);
    let alice = contact("Alice", "alice@example.org");
    let verdict = score(&v, Some(&alice), &settings);
    let names = rule_names(&verdict);
    let expected: Vec<&str> = Rule::ALL
        .into_iter()
        .filter(|r| *r != Rule::UpstreamHam)
        .map(Rule::name)
        .collect();
    assert_eq!(names, expected);
}
