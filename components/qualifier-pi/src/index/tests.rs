//! Each rule (fires / does not fire), per axis; then clamping, the config and the
//! lookup plan.

use super::*;
use crate::rules::*;
use crate::testkit::{contact, contact_with, participant, rule_names, view};

const BOB: &str = "bob@caliopen.local";

fn host() -> HostAnswers {
    HostAnswers {
        identities: vec![BOB.into()],
        contacts: vec![("alice@example.org".into(), None)],
        complete: true,
    }
}

fn known_alice(c: Contact) -> HostAnswers {
    HostAnswers {
        contacts: vec![("alice@example.org".into(), Some(c))],
        ..host()
    }
}

fn run(view: &MessageView, host: &HostAnswers) -> Verdict {
    privacy_index(view, host, &Settings::default())
}

fn pi(view: &MessageView) -> Pi {
    run(view, &host()).pi.expect("always a PI")
}

fn contribution(verdict: &Verdict, rule: &str) -> Option<f32> {
    verdict
        .rules
        .iter()
        .find(|r| r.rule == rule)
        .map(|r| r.contribution)
}

#[test]
fn a_plain_external_message() {
    let verdict = run(&view(), &host());
    assert_eq!(
        rule_names(&verdict),
        [
            COMPORTMENT_BASELINE,
            CONTEXT_BASELINE,
            ONE_EXTERNAL_HOP,
            ADDRESSED_TO
        ]
    );
    let pi = verdict.pi.unwrap();
    assert_eq!((pi.technic, pi.comportment, pi.context), (0, 30, 55));
}

#[test]
fn tls_versions_rank_and_unknown_forms_score_without_failing() {
    let technic = |version: &str| {
        let mut v = view();
        v.message.privacy_features.transport_tls_version = Some(version.into());
        pi(&v).technic
    };
    assert_eq!(technic("TLSv1.3"), 30);
    assert_eq!(technic("TLSv1.2"), 25);
    assert_eq!(technic("TLSv1.1"), 10);
    assert_eq!(technic("TLSv1"), 10);
    assert_eq!(technic("TLSv1/SSLv3"), 5);
    assert_eq!(technic("SSLv3"), 2);
    assert_eq!(technic("TLSv9.9"), 10);
    assert_eq!(technic("\u{0}garbage"), 10);
}

#[test]
fn tls_without_a_version_from_the_ingress_flag() {
    let mut v = view();
    v.message.privacy_features.extra = vec![("ingress_tls".into(), "true".into())];
    let verdict = run(&v, &host());
    assert_eq!(contribution(&verdict, TLS_UNKNOWN), Some(10.0));
    v.message.privacy_features.extra = vec![("ingress_tls".into(), "false".into())];
    assert_eq!(pi(&v).technic, 0);
}

#[test]
fn tls_counts_half_when_earlier_hops_are_unknown() {
    let mut v = view();
    v.message.privacy_features.transport_tls_version = Some("TLSv1.2".into());
    v.message.privacy_features.external_hops = 3;
    let verdict = run(&v, &host());
    assert_eq!(contribution(&verdict, TLS_PATH_UNVERIFIED), Some(-12.5));
    assert_eq!(
        verdict.pi.unwrap().technic,
        13,
        "12.5 rounds half away from zero"
    );
    v.message.privacy_features.transport_tls_version = None;
    assert_eq!(contribution(&run(&v, &host()), TLS_PATH_UNVERIFIED), None);
}

#[test]
fn dkim() {
    let mut v = view();
    v.message.privacy_features.dkim_signed = true;
    assert_eq!(pi(&v).technic, 15);
}

#[test]
fn encryption_raises_technic_for_every_scheme() {
    for (scheme, points) in [
        (CryptoScheme::PgpMime, 40),
        (CryptoScheme::PgpInline, 35),
        (CryptoScheme::Smime, 35),
    ] {
        let mut v = view();
        v.message.privacy_features.encryption = Some(scheme);
        assert_eq!(pi(&v).technic, points, "{scheme:?}");
    }
}

#[test]
fn signatures() {
    for (scheme, points) in [
        (CryptoScheme::PgpMime, 15),
        (CryptoScheme::PgpInline, 10),
        (CryptoScheme::Smime, 15),
    ] {
        let mut v = view();
        v.message.privacy_features.signature = Some(scheme);
        assert_eq!(pi(&v).technic, points, "{scheme:?}");
    }
}

#[test]
fn the_best_technic_is_100() {
    let mut v = view();
    let f = &mut v.message.privacy_features;
    f.transport_tls_version = Some("TLSv1.3".into());
    f.dkim_signed = true;
    f.encryption = Some(CryptoScheme::PgpMime);
    f.signature = Some(CryptoScheme::PgpMime);
    assert_eq!(pi(&v).technic, 100);
}

#[test]
fn a_known_sender_with_a_key_and_a_trusted_record() {
    let plain = known_alice(contact("Alice", "alice@example.org"));
    let verdict = run(&view(), &plain);
    assert_eq!(contribution(&verdict, KNOWN_SENDER), Some(25.0));
    assert_eq!(contribution(&verdict, SENDER_PUBLIC_KEY), None);
    assert_eq!(verdict.pi.unwrap().comportment, 55);

    let trusted = Pi {
        technic: 0,
        comportment: 80,
        context: 0,
    };
    let keyed = known_alice(contact_with(
        "Alice",
        "alice@example.org",
        true,
        Some(trusted),
    ));
    let verdict = run(&view(), &keyed);
    assert_eq!(contribution(&verdict, SENDER_PUBLIC_KEY), Some(20.0));
    assert_eq!(contribution(&verdict, SENDER_TRUST), Some(8.0));
    assert_eq!(verdict.pi.unwrap().comportment, 83);
}

#[test]
fn a_known_participant_who_is_not_the_sender_does_not_count_as_sender() {
    let mut answers = host();
    answers.contacts = vec![
        ("alice@example.org".into(), None),
        (
            "carol@example.org".into(),
            Some(contact("Carol", "carol@example.org")),
        ),
    ];
    assert_eq!(contribution(&run(&view(), &answers), KNOWN_SENDER), None);
}

#[test]
fn a_reply_in_a_discussion() {
    let mut v = view();
    v.message.external_references.parent_id = Some("parent@example.org".into());
    assert_eq!(pi(&v).comportment, 45);
}

#[test]
fn spam_lowers_comportment() {
    let mut v = view();
    v.is_spam = true;
    assert_eq!(pi(&v).comportment, 0);
}

#[test]
fn internal_from_the_features_or_the_tag() {
    let mut v = view();
    v.message.privacy_features.is_internal = true;
    assert_eq!(pi(&v).context, 85);
    v.message.privacy_features.is_internal = false;
    v.tags = vec!["Internal".into()];
    assert_eq!(pi(&v).context, 85);
}

#[test]
fn external_hops() {
    let context = |hops: u32| {
        let mut v = view();
        v.message.privacy_features.external_hops = hops;
        pi(&v).context
    };
    assert_eq!(
        (context(0), context(1), context(2), context(3), context(9)),
        (60, 55, 45, 30, 30)
    );
}

#[test]
fn how_the_user_was_addressed() {
    let mut v = view();
    let rules_of = |v: &MessageView| {
        run(v, &host())
            .rules
            .into_iter()
            .map(|r| r.rule)
            .collect::<Vec<_>>()
    };
    assert!(rules_of(&v).contains(&ADDRESSED_TO.to_owned()));
    v.message.participants[1] = participant(ParticipantRole::Cc, "BOB@caliopen.local", "");
    assert!(rules_of(&v).contains(&ADDRESSED_CC.to_owned()));
    v.message.participants[1].role = ParticipantRole::Bcc;
    assert!(rules_of(&v).contains(&ADDRESSED_BCC.to_owned()));
    v.message.participants[1].address = "someone@else.example".into();
    let names = rules_of(&v);
    assert!(
        !names.iter().any(|r| r.starts_with("context:addressed")),
        "{names:?}"
    );
}

#[test]
fn mailing_lists_lower_context() {
    let mut v = view();
    v.message.participants.push(participant(
        ParticipantRole::ListId,
        "dev.lists.example",
        "",
    ));
    assert_eq!(pi(&v).context, 40);
}

#[test]
fn all_participants_known_only_when_every_lookup_answered() {
    let known = known_alice(contact("Alice", "alice@example.org"));
    assert_eq!(
        contribution(&run(&view(), &known), ALL_PARTICIPANTS_KNOWN),
        Some(10.0)
    );
    let incomplete = HostAnswers {
        complete: false,
        ..known
    };
    assert_eq!(
        contribution(&run(&view(), &incomplete), ALL_PARTICIPANTS_KNOWN),
        None
    );
    let nobody = HostAnswers {
        contacts: Vec::new(),
        ..host()
    };
    assert_eq!(
        contribution(&run(&view(), &nobody), ALL_PARTICIPANTS_KNOWN),
        None
    );
}

#[test]
fn axes_are_clamped_and_the_clamp_is_reported() {
    let mut v = view();
    v.is_spam = true;
    v.message.privacy_features.external_hops = 5;
    v.message
        .participants
        .push(participant(ParticipantRole::ListId, "l.example", ""));
    v.message.participants[1].address = "other@example.net".into();
    let settings =
        Settings::from_config(|k| (k == "weight.comportment:spam").then(|| "-90".to_owned()));
    let verdict = privacy_index(&v, &host(), &settings);
    let pi = verdict.pi.unwrap();
    assert_eq!((pi.comportment, pi.context), (0, 0));
    assert_eq!(contribution(&verdict, "comportment:clamp"), Some(60.0));
    assert_eq!(contribution(&verdict, "context:clamp"), Some(5.0));

    let generous =
        Settings::from_config(|k| (k == "weight.technic:dkim").then(|| "250".to_owned()));
    let mut v = view();
    v.message.privacy_features.dkim_signed = true;
    let verdict = privacy_index(&v, &host(), &generous);
    assert_eq!(verdict.pi.unwrap().technic, 100);
    assert_eq!(contribution(&verdict, "technic:clamp"), Some(-150.0));
}

#[test]
fn weights_override_and_zero_disables() {
    let settings =
        Settings::from_config(|k| (k == "weight.comportment:baseline").then(|| "0".to_owned()));
    let verdict = privacy_index(&view(), &host(), &settings);
    assert_eq!(verdict.pi.unwrap().comportment, 0);
    assert!(!rule_names(&verdict).contains(&COMPORTMENT_BASELINE));
}

#[test]
fn lookups_leave_out_the_user_and_lists_and_are_capped() {
    let mut v = view();
    v.message.participants.extend([
        participant(ParticipantRole::Cc, "c@example.net", ""),
        participant(ParticipantRole::Cc, "ALICE@example.org", ""),
        participant(ParticipantRole::ListId, "l.example", ""),
    ]);
    let (all, left_out) = to_look_up(&v.message, &[BOB.into()], 20);
    assert_eq!(
        (all.as_slice(), left_out),
        (
            ["alice@example.org".to_owned(), "c@example.net".to_owned()].as_slice(),
            0
        )
    );
    assert_eq!(to_look_up(&v.message, &[BOB.into()], 1).1, 1);
}
