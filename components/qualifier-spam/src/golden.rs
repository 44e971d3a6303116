//! Golden cases: whole verdicts on a few typical messages, rendered as text and
//! compared with `tests/golden/<case>.txt`. `UPDATE_GOLDEN=1 cargo test -p
//! caliopen-qualifier-spam golden` rewrites them; review every change by eye.

use std::path::PathBuf;

use crate::score::{GTUBE, score};
use crate::testkit::{contact, participant, render, view};
use crate::{Contact, MessageView, ParticipantRole, Settings};

fn cases() -> Vec<(&'static str, MessageView, Option<Contact>)> {
    let plain = view();

    let mut fraud = view();
    fraud.message.subject = "URGENT BUSINESS ASSISTANCE NEEDED".into();
    fraud.message.participants[0] = participant(
        ParticipantRole::From,
        "prince@bank.example",
        "Prince John Doe",
    );
    fraud.message.body_plain = Some(
        "Dear Friend,\nI am writing to you concerning the total sum of\nTwenty-Five Million \
         United States Dollars ($25,000,000 USD).\nAs the beneficiary, your honest cooperation \
         is needed for this confidential transaction.\nThis is 100% safe.\n"
            .into(),
    );

    let mut phishing = view();
    phishing.message.subject = "Security alert: verify your account".into();
    phishing.message.participants[0] = participant(
        ParticipantRole::From,
        "notice@mailer.example",
        "service@bank.example",
    );
    phishing.message.body_plain = None;
    phishing.message.body_html = Some(
        r#"<html><body><img src="https://cdn.mailer.example/logo.png">
           <p>Your account has been suspended. Log in at
           <a href="https://bank.example.evil.example/login">https://www.bank.example/login</a></p>
           </body></html>"#
            .into(),
    );
    phishing.message.html_safety.has_remote_content = true;
    phishing.message.problems = vec!["no Date header".into()];
    phishing.message.external_references.message_id = None;

    let mut gtube_from_contact = view();
    gtube_from_contact.message.body_plain = Some(format!("Testing the filter:\n{GTUBE}\n"));
    let alice = contact("Alice Liddell", "alice@example.org");

    let mut upstream = view();
    upstream.message.subject = "2 articles pour le prix d'1".into();
    upstream.message.privacy_features.upstream_spam = Some(true);
    upstream.message.privacy_features.upstream_spam_score = Some(6.5);

    vec![
        ("plain", plain, None),
        ("advance-fee", fraud, None),
        ("phishing-html", phishing, None),
        ("gtube-from-contact", gtube_from_contact, Some(alice)),
        ("upstream-spam", upstream, None),
    ]
}

#[test]
fn verdicts_match_their_goldens() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    for (name, view, sender) in cases() {
        let actual = render(&score(&view, sender.as_ref(), &Settings::default()));
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
