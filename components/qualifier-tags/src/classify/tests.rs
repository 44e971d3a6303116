//! The lookup plan, then each rule (fires / does not fire), then the settings.

use super::*;
use crate::testkit::{contact, participant, rule_names, system_tags, tag, view};

const LOCAL: &str = "caliopen.local";

fn host(contacts: Vec<(&str, Lookup)>) -> HostAnswers {
    HostAnswers {
        local_domain: LOCAL.into(),
        identities: vec!["bob@caliopen.local".into(), "bob@gmail.example".into()],
        tags: system_tags(),
        contacts: contacts
            .into_iter()
            .map(|(a, l)| (a.to_owned(), l))
            .collect(),
        not_looked_up: 0,
    }
}

fn internal_view() -> MessageView {
    let mut v = view();
    v.message.participants = vec![
        participant(ParticipantRole::From, "carol@caliopen.local", "Carol"),
        participant(ParticipantRole::To, "bob@caliopen.local", "Bob"),
    ];
    v
}

#[test]
fn lookups_skip_the_user_the_list_and_duplicates_and_are_capped() {
    let mut v = view();
    v.message.participants.extend([
        participant(ParticipantRole::Cc, "Alice@Example.org ", ""),
        participant(ParticipantRole::Cc, "dave@example.net", ""),
        participant(ParticipantRole::ReplyTo, "erin@example.net", ""),
        participant(ParticipantRole::ListId, "dev.lists.example", ""),
        participant(ParticipantRole::Bcc, "BOB@gmail.example", ""),
    ]);
    let identities = host(vec![]).identities;
    let (all, left_out) = to_look_up(&v.message, &identities, 20);
    assert_eq!(
        all,
        ["alice@example.org", "dave@example.net", "erin@example.net"]
    );
    assert_eq!(left_out, 0);
    let (capped, left_out) = to_look_up(&v.message, &identities, 2);
    assert_eq!(capped, ["alice@example.org", "dave@example.net"]);
    assert_eq!(left_out, 1);
}

#[test]
fn internal_when_every_participant_is_local_or_the_users() {
    let verdict = qualify(&internal_view(), &host(vec![]), &Settings::default());
    assert_eq!(verdict.add_tags, ["internal"]);
    assert_eq!(rule_names(&verdict), ["internal"]);
    assert_eq!(verdict.rules[0].contribution, 1.0);

    let mut v = internal_view();
    v.message
        .participants
        .push(participant(ParticipantRole::Cc, "bob@gmail.example", ""));
    v.message
        .participants
        .push(participant(ParticipantRole::Cc, "x@mx.caliopen.local", ""));
    v.message.participants.push(participant(
        ParticipantRole::ListId,
        "dev.caliopen.local",
        "",
    ));
    let verdict = qualify(&v, &host(vec![]), &Settings::default());
    assert_eq!(
        verdict.add_tags,
        ["internal"],
        "identities, subdomains, local lists"
    );
}

#[test]
fn not_internal_with_one_outside_participant_or_none() {
    let mut v = internal_view();
    v.message.participants.push(participant(
        ParticipantRole::Cc,
        "eve@notcaliopen.local",
        "",
    ));
    let verdict = qualify(&v, &host(vec![]), &Settings::default());
    assert!(verdict.add_tags.is_empty() && verdict.rules.is_empty());

    v.message.participants.clear();
    assert!(
        qualify(&v, &host(vec![]), &Settings::default())
            .add_tags
            .is_empty()
    );

    let mut no_domain = host(vec![]);
    no_domain.local_domain = String::new();
    let verdict = qualify(&internal_view(), &no_domain, &Settings::default());
    assert!(
        verdict.add_tags.is_empty(),
        "carol is not one of bob's identities"
    );
}

#[test]
fn internal_is_not_invented_when_the_user_lacks_the_tag() {
    let mut answers = host(vec![]);
    answers.tags.retain(|t| t.name != "internal");
    let verdict = qualify(&internal_view(), &answers, &Settings::default());
    assert!(verdict.add_tags.is_empty());
    assert_eq!(verdict.rules[0].contribution, 0.0);
    assert!(verdict.rules[0].detail.contains("no tag `internal`"));

    let renamed = Settings::from_config(|k| (k == "internal_tag").then(|| "Inbox".to_owned()));
    let verdict = qualify(&internal_view(), &host(vec![]), &renamed);
    assert_eq!(verdict.add_tags, ["inbox"], "the user's spelling");
}

#[test]
fn known_contacts_and_failed_lookups_are_reported() {
    let answers = host(vec![
        (
            "alice@example.org",
            Lookup::Known(contact("Alice", "alice@example.org")),
        ),
        ("x@example.net", Lookup::Unknown),
        ("y@example.net", Lookup::Failed("unavailable".into())),
    ]);
    let mut answers = answers;
    answers.not_looked_up = 3;
    let verdict = qualify(&view(), &answers, &Settings::default());
    assert_eq!(
        rule_names(&verdict),
        ["known-contact", "contact-lookup-failed", "lookups-capped"]
    );
    assert!(verdict.rules[0].detail.contains("“Alice”"));
    assert!(verdict.rules.iter().all(|r| r.contribution == 0.0));
    assert!(
        verdict.add_tags.is_empty(),
        "no known_contact_tag configured"
    );
}

#[test]
fn known_contact_tag_only_for_a_known_sender_and_an_existing_tag() {
    let mut answers = host(vec![(
        "alice@example.org",
        Lookup::Known(contact("Alice", "alice@example.org")),
    )]);
    answers.tags.push(tag("Friends", "user", 2));
    let settings =
        Settings::from_config(|k| (k == "known_contact_tag").then(|| "friends".to_owned()));
    let verdict = qualify(&view(), &answers, &settings);
    assert_eq!(verdict.add_tags, ["Friends"]);
    assert_eq!(rule_names(&verdict), ["known-contact", "known-contact-tag"]);

    let missing = Settings::from_config(|k| (k == "known_contact_tag").then(|| "vip".to_owned()));
    let verdict = qualify(&view(), &answers, &missing);
    assert!(verdict.add_tags.is_empty());
    assert!(verdict.rules[1].detail.contains("no tag `vip`"));

    let mut cc_only = view();
    cc_only.message.participants[0].address = "stranger@example.net".into();
    cc_only
        .message
        .participants
        .push(participant(ParticipantRole::Cc, "alice@example.org", ""));
    let verdict = qualify(&cc_only, &answers, &settings);
    assert!(
        verdict.add_tags.is_empty(),
        "alice is known but is not the sender"
    );
}

#[test]
fn domains() {
    assert!(in_domain("a@caliopen.local", LOCAL));
    assert!(in_domain("a@mx.caliopen.local.", LOCAL));
    assert!(in_domain("dev.caliopen.local", LOCAL));
    assert!(!in_domain("a@evilcaliopen.local", LOCAL));
    assert!(!in_domain("a@caliopen.local.evil", LOCAL));
    assert!(!in_domain("a@caliopen.local", ""));
}
