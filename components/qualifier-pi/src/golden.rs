//! Golden cases: whole verdicts on a few typical messages, rendered as text and
//! compared with `tests/golden/<case>.txt`. `UPDATE_GOLDEN=1 cargo test -p
//! caliopen-qualifier-pi golden` rewrites them; review every change by eye.

use std::path::PathBuf;

use crate::index::{HostAnswers, privacy_index};
use crate::testkit::{contact_with, participant, render, view};
use crate::{CryptoScheme, MessageView, ParticipantRole, Pi, Settings};

fn cases() -> Vec<(&'static str, MessageView, HostAnswers)> {
    let nobody = HostAnswers {
        identities: vec!["bob@caliopen.local".into()],
        contacts: vec![("alice@example.org".into(), None)],
        complete: true,
    };

    let mut plain_tls = view();
    plain_tls.message.privacy_features.transport_tls_version = Some("TLSv1.2".into());
    plain_tls.message.privacy_features.dkim_signed = true;

    let mut encrypted = view();
    let f = &mut encrypted.message.privacy_features;
    f.transport_tls_version = Some("TLSv1.3".into());
    f.encryption = Some(CryptoScheme::PgpMime);
    f.signature = Some(CryptoScheme::PgpMime);
    encrypted.message.external_references.parent_id = Some("p@example.org".into());
    let trusted = Pi {
        technic: 60,
        comportment: 70,
        context: 50,
    };
    let friend = HostAnswers {
        contacts: vec![(
            "alice@example.org".into(),
            Some(contact_with(
                "Alice",
                "alice@example.org",
                true,
                Some(trusted),
            )),
        )],
        ..nobody.clone()
    };

    let mut list_spam = view();
    list_spam.is_spam = true;
    list_spam.message.privacy_features.external_hops = 4;
    list_spam.message.privacy_features.transport_tls_version = Some("TLSv1/SSLv3".into());
    list_spam.message.participants[1] = participant(ParticipantRole::To, "list@lists.example", "");
    list_spam.message.participants.push(participant(
        ParticipantRole::ListId,
        "dev.lists.example",
        "",
    ));

    let mut internal = view();
    internal.message.participants[0] =
        participant(ParticipantRole::From, "carol@caliopen.local", "Carol");
    internal.message.privacy_features.external_hops = 0;
    internal.message.privacy_features.is_internal = true;
    internal.tags = vec!["internal".into()];
    let colleague = HostAnswers {
        contacts: vec![(
            "carol@caliopen.local".into(),
            Some(contact_with("Carol", "carol@caliopen.local", false, None)),
        )],
        ..nobody.clone()
    };

    vec![
        ("plain-tls12-dkim", plain_tls, nobody.clone()),
        ("encrypted-reply-from-friend", encrypted, friend),
        ("list-spam-many-hops", list_spam, nobody),
        ("internal-colleague", internal, colleague),
    ]
}

#[test]
fn verdicts_match_their_goldens() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    for (name, view, host) in cases() {
        let actual = render(&privacy_index(&view, &host, &Settings::default()));
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
