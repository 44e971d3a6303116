//! Golden cases: whole verdicts on a few typical messages, rendered as text and
//! compared with `tests/golden/<case>.txt`. `UPDATE_GOLDEN=1 cargo test -p
//! caliopen-qualifier-tags golden` rewrites them; review every change by eye.

use std::path::PathBuf;

use crate::classify::{HostAnswers, Lookup, qualify};
use crate::testkit::{contact, participant, render, system_tags, tag, view};
use crate::{MessageView, ParticipantRole, Settings};

fn answers(contacts: Vec<(&str, Lookup)>) -> HostAnswers {
    let mut tags = system_tags();
    tags.push(tag("contacts", "user", 1));
    HostAnswers {
        local_domain: "caliopen.local".into(),
        identities: vec!["bob@caliopen.local".into()],
        tags,
        contacts: contacts
            .into_iter()
            .map(|(a, l)| (a.to_owned(), l))
            .collect(),
        not_looked_up: 0,
    }
}

fn cases() -> Vec<(&'static str, MessageView, HostAnswers)> {
    let stranger = view();

    let mut internal = view();
    internal.message.participants[0] =
        participant(ParticipantRole::From, "carol@caliopen.local", "Carol");
    let colleague = answers(vec![(
        "carol@caliopen.local",
        Lookup::Known(contact("Carol", "carol@caliopen.local")),
    )]);

    let mut thread = view();
    thread
        .message
        .participants
        .push(participant(ParticipantRole::Cc, "dave@example.net", "Dave"));
    thread.message.participants.push(participant(
        ParticipantRole::ListId,
        "dev.lists.example",
        "",
    ));
    let known = answers(vec![
        (
            "alice@example.org",
            Lookup::Known(contact("Alice Liddell", "alice@example.org")),
        ),
        (
            "dave@example.net",
            Lookup::Failed("Unavailable(\"storage\")".into()),
        ),
    ]);

    vec![
        (
            "stranger",
            stranger,
            answers(vec![("alice@example.org", Lookup::Unknown)]),
        ),
        ("internal-colleague", internal, colleague),
        ("list-thread-known-sender", thread, known),
    ]
}

#[test]
fn verdicts_match_their_goldens() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let settings =
        Settings::from_config(|k| (k == "known_contact_tag").then(|| "contacts".to_owned()));
    let mut failures = Vec::new();
    for (name, view, host) in cases() {
        let actual = render(&qualify(&view, &host, &settings));
        let path = dir.join(format!("{name}.txt"));
        if update {
            std::fs::write(&path, &actual).expect("writable golden");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{name}:\n--- expected\n{expected}--- actual\n{actual}"
            )),
            Err(e) => failures.push(format!("{name}: no golden ({e}); run with UPDATE_GOLDEN=1")),
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
}
