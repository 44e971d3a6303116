//! Each rule (fires / does not fire), the tags, clamping and the config.

use super::*;
use crate::Pi;
use crate::testkit::{participant, rule_names, system_tags, tag, view};

fn host() -> HostAnswers {
    HostAnswers {
        identities: vec!["bob@caliopen.local".into()],
        tags: system_tags(),
    }
}

fn run(view: &MessageView) -> Verdict {
    importance(view, &host(), &Settings::default())
}

fn level(view: &MessageView) -> i8 {
    run(view).importance_level.expect("always a level")
}

fn pi(technic: u8, comportment: u8, context: u8) -> Option<Pi> {
    Some(Pi {
        technic,
        comportment,
        context,
    })
}

#[test]
fn a_plain_message_addressed_to_the_user() {
    let verdict = run(&view());
    assert_eq!(rule_names(&verdict), ["addressed-to"]);
    assert_eq!(verdict.importance_level, Some(1));
    assert_eq!(
        (verdict.pi, verdict.is_spam, verdict.spam_score),
        (None, None, None)
    );
}

#[test]
fn spam_is_strongly_negative_and_its_tag_is_not_counted_twice() {
    let mut v = view();
    v.is_spam = true;
    v.tags = vec!["spam".into()];
    let verdict = run(&v);
    assert_eq!(rule_names(&verdict), ["spam", "addressed-to"]);
    assert_eq!(verdict.importance_level, Some(-9));
    v.is_spam = false;
    assert_eq!(
        level(&v),
        -9,
        "a spam tag without the verdict counts as a tag"
    );
}

#[test]
fn low_pi_and_trusted_sender() {
    let mut v = view();
    v.pi = pi(0, 30, 40);
    assert!(rule_names(&run(&v)).contains(&"low-pi"), "mean 23");
    v.pi = pi(0, 30, 45);
    assert!(!rule_names(&run(&v)).contains(&"low-pi"), "mean 25");
    v.pi = pi(0, 60, 45);
    assert!(rule_names(&run(&v)).contains(&"trusted-sender"));
    v.pi = pi(0, 59, 45);
    assert!(!rule_names(&run(&v)).contains(&"trusted-sender"));
    v.pi = None;
    assert_eq!(rule_names(&run(&v)), ["addressed-to"]);
}

#[test]
fn replies_go_up() {
    let mut v = view();
    v.message.external_references.parent_id = Some("p@example.org".into());
    assert_eq!(level(&v), 3);
}

#[test]
fn to_rather_than_cc_or_list() {
    let mut v = view();
    v.message.participants[1] = participant(ParticipantRole::Cc, "Bob@Caliopen.local", "");
    assert_eq!(level(&v), 0, "in copy: neither up nor down");
    v.message.participants.push(participant(
        ParticipantRole::ListId,
        "dev.lists.example",
        "",
    ));
    let verdict = run(&v);
    assert_eq!(rule_names(&verdict), ["via-list"]);
    assert_eq!(verdict.importance_level, Some(-1));
    v.message.participants[1].role = ParticipantRole::To;
    assert_eq!(
        rule_names(&run(&v)),
        ["addressed-to"],
        "in To of a list message"
    );
}

#[test]
fn tags_count_with_the_users_levels() {
    let mut v = view();
    v.tags = vec!["important".into(), "inbox".into(), "unknown-tag".into()];
    let verdict = run(&v);
    assert_eq!(rule_names(&verdict), ["addressed-to", "tag:important"]);
    assert_eq!(verdict.importance_level, Some(6));

    let mut answers = host();
    answers.tags.push(tag("Boss", "user", 4));
    answers.tags.push(tag("newsletters", "user", -3));
    v.tags = vec!["boss".into(), "newsletters".into()];
    let verdict = importance(&v, &answers, &Settings::default());
    assert_eq!(
        rule_names(&verdict),
        ["addressed-to", "tag:Boss", "tag:newsletters"]
    );
    assert_eq!(verdict.importance_level, Some(2));

    answers.tags.clear();
    assert_eq!(
        importance(&v, &answers, &Settings::default()).importance_level,
        Some(1)
    );
}

#[test]
fn the_level_is_clamped_and_the_clamp_reported() {
    let mut answers = host();
    answers.tags = vec![tag("vip", "user", 10), tag("boss", "user", 10)];
    let mut v = view();
    v.tags = vec!["vip".into(), "boss".into()];
    let verdict = importance(&v, &answers, &Settings::default());
    assert_eq!(verdict.importance_level, Some(10));
    let clamp = verdict.rules.last().unwrap();
    assert_eq!((clamp.rule.as_str(), clamp.contribution), ("clamp", -11.0));

    let mut v = view();
    v.is_spam = true;
    v.pi = pi(0, 0, 0);
    v.message.participants[1].address = "x@example.net".into();
    v.message
        .participants
        .push(participant(ParticipantRole::ListId, "l.example", ""));
    v.tags = vec!["newsletters".into()];
    answers.tags = vec![tag("newsletters", "user", -5)];
    let verdict = importance(&v, &answers, &Settings::default());
    assert_eq!(verdict.importance_level, Some(-10));
    assert_eq!(verdict.rules.last().unwrap().contribution, 7.0);
}

#[test]
fn rounding_before_clamping() {
    let settings = Settings::from_config(|k| (k == "weight.reply").then(|| "2.4".to_owned()));
    let mut v = view();
    v.message.external_references.parent_id = Some("p".into());
    assert_eq!(
        importance(&v, &host(), &settings).importance_level,
        Some(3),
        "1 + 2.4"
    );
}

#[test]
fn weights_and_thresholds_from_config() {
    let settings = Settings::from_config(|k| match k {
        "weight.addressed-to" => Some("0".into()),
        "weight.spam" => Some("-6".into()),
        "low_pi" => Some("50".into()),
        _ => None,
    });
    let mut v = view();
    v.is_spam = true;
    v.pi = pi(40, 40, 40);
    let verdict = importance(&v, &host(), &settings);
    assert_eq!(rule_names(&verdict), ["spam", "low-pi"]);
    assert_eq!(verdict.importance_level, Some(-7));
}
