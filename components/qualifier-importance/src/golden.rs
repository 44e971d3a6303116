//! Golden cases: whole verdicts on a few typical messages, rendered as text and
//! compared with `tests/golden/<case>.txt`. `UPDATE_GOLDEN=1 cargo test -p
//! caliopen-qualifier-importance golden` rewrites them; review every change by eye.

use std::path::PathBuf;

use crate::level::{HostAnswers, importance};
use crate::testkit::{participant, render, system_tags, tag, view};
use crate::{MessageView, ParticipantRole, Pi, Settings};

fn cases() -> Vec<(&'static str, MessageView)> {
    let mut reply_important = view();
    reply_important.tags = vec!["important".into(), "internal".into()];
    reply_important.message.external_references.parent_id = Some("p@caliopen.local".into());
    reply_important.pi = Some(Pi {
        technic: 40,
        comportment: 70,
        context: 90,
    });

    let mut spam = view();
    spam.is_spam = true;
    spam.tags = vec!["spam".into()];
    spam.pi = Some(Pi {
        technic: 0,
        comportment: 0,
        context: 35,
    });

    let mut newsletter = view();
    newsletter.message.participants[1] = participant(ParticipantRole::To, "news@shop.example", "");
    newsletter.message.participants.push(participant(
        ParticipantRole::ListId,
        "news.shop.example",
        "",
    ));
    newsletter.tags = vec!["newsletters".into()];
    newsletter.pi = Some(Pi {
        technic: 25,
        comportment: 30,
        context: 20,
    });

    vec![
        ("reply-important-internal", reply_important),
        ("spam", spam),
        ("newsletter", newsletter),
    ]
}

#[test]
fn verdicts_match_their_goldens() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut tags = system_tags();
    tags.push(tag("newsletters", "user", -2));
    let host = HostAnswers {
        identities: vec!["bob@caliopen.local".into()],
        tags,
    };
    let mut failures = Vec::new();
    for (name, view) in cases() {
        let actual = render(&importance(&view, &host, &Settings::default()));
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
