//! What a query's words match, and the highlights that show it.

use caliopen_storage_traits::search::DocKind;
use uuid::Uuid;

use super::{
    apply, contact, ids, message, message_ids, participant, query, search, upsert_contact,
    upsert_message,
};
use crate::Backend;
use crate::support::{close, open};

/// Every word must match (in any text field); word order does not matter.
pub async fn search_words_and(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = Uuid::new_v4();
    let invoice = message(
        user,
        1,
        "Quarterly invoice for March",
        "Please find the invoice attached.",
    );
    let holiday = message(
        user,
        2,
        "Holiday plans",
        "Let us meet in March, by the sea.",
    );
    let mut tagged = message(user, 3, "Minutes", "Nothing to see.");
    tagged.tags = vec!["Accounting".into()];
    tagged.attachment_names = vec!["ledger-2024.pdf".into()];
    apply(
        backend,
        &stores,
        &[
            upsert_message(&invoice),
            upsert_message(&holiday),
            upsert_message(&tagged),
        ],
    )
    .await;

    let sorted = |mut v: Vec<Uuid>| {
        v.sort();
        v
    };
    let both = sorted(vec![invoice.id, holiday.id]);
    let cases: [(&str, Vec<Uuid>); 8] = [
        ("march invoice", vec![invoice.id]),
        ("invoice quarterly", vec![invoice.id]),
        ("march", both),
        ("invoice holiday", vec![]),
        ("march sea", vec![holiday.id]),
        ("accounting", vec![tagged.id]),
        ("ledger", vec![tagged.id]),
        ("minutes accounting ledger", vec![tagged.id]),
    ];
    for (text, want) in cases {
        let got = sorted(message_ids(backend, &stores, user, text).await);
        assert_eq!(
            got, want,
            "[{name}] query {text:?}: every word must match one text field (subject, body, tags, attachments)"
        );
    }
    close(backend, stores).await;
}

/// Matching ignores case and folds accents, both ways.
pub async fn search_case_and_accents(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = Uuid::new_v4();
    let doc = message(
        user,
        1,
        "Résumé of the CAFÉ meeting",
        "Naïve élève à Zürich",
    );
    let plain = message(user, 2, "Resume", "cafe naive eleve zurich");
    apply(
        backend,
        &stores,
        &[upsert_message(&doc), upsert_message(&plain)],
    )
    .await;
    let mut both = vec![doc.id, plain.id];
    both.sort();
    for text in [
        "resume",
        "RÉSUMÉ",
        "Résumé",
        "cafe",
        "Café",
        "CAFE",
        "naive",
        "NAÏVE",
        "eleve zurich",
        "ZÜRICH",
    ] {
        let mut got = message_ids(backend, &stores, user, text).await;
        got.sort();
        assert_eq!(
            got, both,
            "[{name}] query {text:?} matches regardless of case and accents"
        );
    }
    close(backend, stores).await;
}

/// Words match whole words only: no prefixes, no substrings, no stemming.
pub async fn search_whole_words(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = Uuid::new_v4();
    let doc = message(user, 1, "Invoice", "the payment is overdue");
    apply(backend, &stores, &[upsert_message(&doc)]).await;
    assert_eq!(
        message_ids(backend, &stores, user, "invoice").await,
        vec![doc.id],
        "[{name}] a whole word matches"
    );
    for text in [
        "inv", "invoic", "nvoice", "invoices", "pay", "overdu", "due",
    ] {
        let got = message_ids(backend, &stores, user, text).await;
        assert!(
            got.is_empty(),
            "[{name}] query {text:?} is not a whole word of the document, yet matched"
        );
    }
    close(backend, stores).await;
}

/// An address matches in full, by its local part and by its domain (participants of
/// messages, emails of contacts); labels match as words.
pub async fn search_addresses(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = Uuid::new_v4();
    let mut mail = message(user, 1, "Lunch", "See you there.");
    mail.participants = vec![
        participant("From", "Alice Martin", "alice.martin@example.org"),
        participant("To", "", "bob@caliopen.local"),
    ];
    let carol = contact(user, &["Carol Dupont"], &["carol.d@example.net"]);
    apply(
        backend,
        &stores,
        &[upsert_message(&mail), upsert_contact(&carol)],
    )
    .await;

    for text in [
        "alice.martin@example.org",
        "ALICE.MARTIN@EXAMPLE.ORG",
        "alice.martin",
        "example.org",
        "bob@caliopen.local",
        "bob",
        "caliopen.local",
        "martin",
        "alice lunch",
    ] {
        let found = search(backend, &stores, &query(user, text)).await;
        assert_eq!(
            ids(&found, DocKind::Message),
            vec![mail.id],
            "[{name}] query {text:?} finds the message by its participants"
        );
        assert!(
            found.contacts.hits.is_empty(),
            "[{name}] query {text:?} must not find the contact"
        );
    }
    for text in ["carol.d@example.net", "carol.d", "example.net", "dupont"] {
        let found = search(backend, &stores, &query(user, text)).await;
        assert_eq!(
            ids(&found, DocKind::Contact),
            vec![carol.id],
            "[{name}] query {text:?} finds the contact by its email or name"
        );
        assert!(
            found.messages.hits.is_empty(),
            "[{name}] query {text:?} must not find the message"
        );
    }
    for text in [
        "nobody@example.org",
        "example.com",
        "alice.martin@example.net",
    ] {
        let found = search(backend, &stores, &query(user, text)).await;
        assert!(
            found.messages.hits.is_empty() && found.contacts.hits.is_empty(),
            "[{name}] query {text:?} is not any indexed address, yet matched"
        );
    }
    close(backend, stores).await;
}

/// Hits carry, per field where the words were found, fragments containing them, and
/// nothing for fields without a match.
pub async fn search_highlights(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = Uuid::new_v4();
    let mut mail = message(
        user,
        1,
        "Budget review",
        "Hello team, the budget for next year is attached. Regards, Dana.",
    );
    mail.participants = vec![participant("From", "Dana Scully", "dana@example.org")];
    mail.tags = vec!["finance".into()];
    let person = contact(user, &["Budget Office"], &["office@example.org"]);
    apply(
        backend,
        &stores,
        &[upsert_message(&mail), upsert_contact(&person)],
    )
    .await;

    let found = search(backend, &stores, &query(user, "budget")).await;
    let hit = found
        .messages
        .hits
        .first()
        .unwrap_or_else(|| panic!("[{name}] query \"budget\" finds the message"));
    for field in ["subject", "body"] {
        let fragments = hit.highlights.get(field).unwrap_or_else(|| {
            panic!(
                "[{name}] highlights name the field `{field}` where the word was found: {:?}",
                hit.highlights
            )
        });
        assert!(
            fragments
                .iter()
                .any(|f| f.to_lowercase().contains("budget")),
            "[{name}] a `{field}` fragment contains the matched word: {fragments:?}"
        );
    }
    for field in ["participants", "tags", "attachment_names"] {
        assert!(
            !hit.highlights.contains_key(field),
            "[{name}] no highlight for `{field}`, where nothing matched"
        );
    }
    let contact_hit = found
        .contacts
        .hits
        .first()
        .unwrap_or_else(|| panic!("[{name}] query \"budget\" finds the contact"));
    let names = contact_hit
        .highlights
        .get("names")
        .cloned()
        .unwrap_or_default();
    assert!(
        names.iter().any(|f| f.to_lowercase().contains("budget")),
        "[{name}] a contact hit highlights its `names`: {:?}",
        contact_hit.highlights
    );

    let found = search(backend, &stores, &query(user, "dana@example.org")).await;
    let hit = found
        .messages
        .hits
        .first()
        .unwrap_or_else(|| panic!("[{name}] the message is found by address"));
    let fragments = hit
        .highlights
        .get("participants")
        .cloned()
        .unwrap_or_default();
    assert!(
        fragments.iter().any(|f| f.to_lowercase().contains("dana")),
        "[{name}] an address match highlights `participants`: {:?}",
        hit.highlights
    );
    close(backend, stores).await;
}

/// Text without words matches every document of the user, newest first.
pub async fn search_empty_text(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = Uuid::new_v4();
    let docs: Vec<_> = (0..3)
        .map(|i| message(user, 10 + i, &format!("Note {i}"), "text"))
        .collect();
    apply(
        backend,
        &stores,
        &docs.iter().map(upsert_message).collect::<Vec<_>>(),
    )
    .await;
    let newest_first: Vec<Uuid> = docs.iter().rev().map(|d| d.id).collect();
    for text in ["", "   ", "-- !"] {
        let mut listing = query(user, text);
        listing.kind = Some(DocKind::Message);
        let found = search(backend, &stores, &listing).await;
        assert_eq!(
            ids(&found, DocKind::Message),
            newest_first,
            "[{name}] query {text:?} lists all messages, newest first"
        );
        assert_eq!(
            found.messages.total, 3,
            "[{name}] query {text:?} counts all messages"
        );
    }
    close(backend, stores).await;
}
