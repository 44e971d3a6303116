//! Which documents a query sees and in what order: users, kinds, filters, ranking,
//! paging, upserts, deletes, clearing.

use caliopen_storage_traits::search::{DocKind, IndexOp, SearchQuery};
use uuid::Uuid;

use super::{
    apply, contact, ids, message, message_ids, query, search, upsert_contact, upsert_message,
};
use crate::Backend;
use crate::support::{close, open};

/// A user only ever finds their own documents; deleting a user removes only theirs.
pub async fn search_user_isolation(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let for_alice = message(alice, 1, "Shared secret", "the launch code");
    let for_bob = message(bob, 1, "Shared secret", "the launch code");
    let bobs_contact = contact(bob, &["Secret Agent"], &["agent@example.org"]);
    apply(
        backend,
        &stores,
        &[
            upsert_message(&for_alice),
            upsert_message(&for_bob),
            upsert_contact(&bobs_contact),
        ],
    )
    .await;

    let found = search(backend, &stores, &query(alice, "secret")).await;
    assert_eq!(
        ids(&found, DocKind::Message),
        vec![for_alice.id],
        "[{name}] alice finds only her message"
    );
    assert_eq!(
        found.messages.total, 1,
        "[{name}] totals count only the user's documents"
    );
    assert!(
        found.contacts.hits.is_empty() && found.contacts.total == 0,
        "[{name}] alice does not find bob's contact"
    );
    assert_eq!(
        message_ids(backend, &stores, bob, "secret").await,
        vec![for_bob.id],
        "[{name}] bob finds only his message"
    );

    apply(backend, &stores, &[IndexOp::DeleteUser { user: alice }]).await;
    let found = search(backend, &stores, &query(alice, "secret")).await;
    assert!(
        found.messages.hits.is_empty() && found.messages.total == 0,
        "[{name}] a deleted user has no documents left"
    );
    let found = search(backend, &stores, &query(bob, "secret")).await;
    assert_eq!(
        ids(&found, DocKind::Message),
        vec![for_bob.id],
        "[{name}] deleting a user keeps other users' messages"
    );
    assert_eq!(
        ids(&found, DocKind::Contact),
        vec![bobs_contact.id],
        "[{name}] deleting a user keeps other users' contacts"
    );
    close(backend, stores).await;
}

/// Results are grouped by kind with their totals; a kind filter empties the other.
pub async fn search_kind_filter_and_totals(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = Uuid::new_v4();
    let mut ops: Vec<IndexOp> = (0..3)
        .map(|i| upsert_message(&message(user, i, "Zephyr newsletter", "weekly")))
        .collect();
    ops.extend((0..2).map(|i| upsert_contact(&contact(user, &[&format!("Zephyr {i}")], &[]))));
    apply(backend, &stores, &ops).await;

    let both = search(backend, &stores, &query(user, "zephyr")).await;
    assert_eq!(
        (both.messages.total, both.messages.hits.len()),
        (3, 3),
        "[{name}] messages: total and hits"
    );
    assert_eq!(
        (both.contacts.total, both.contacts.hits.len()),
        (2, 2),
        "[{name}] contacts: total and hits"
    );

    let mut only = query(user, "zephyr");
    only.kind = Some(DocKind::Message);
    let found = search(backend, &stores, &only).await;
    assert_eq!(
        found.messages.total, 3,
        "[{name}] kind=message keeps the messages"
    );
    assert!(
        found.contacts.hits.is_empty() && found.contacts.total == 0,
        "[{name}] kind=message leaves no contacts"
    );
    only.kind = Some(DocKind::Contact);
    let found = search(backend, &stores, &only).await;
    assert_eq!(
        found.contacts.total, 2,
        "[{name}] kind=contact keeps the contacts"
    );
    assert!(
        found.messages.hits.is_empty() && found.messages.total == 0,
        "[{name}] kind=contact leaves no messages"
    );
    close(backend, stores).await;
}

/// Privacy index and importance ranges are inclusive filters on messages.
pub async fn search_range_filters(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = Uuid::new_v4();
    let docs: Vec<_> = [(10u8, -5i8), (50, 0), (90, 5), (100, -128)]
        .into_iter()
        .enumerate()
        .map(|(i, (pi, importance))| {
            let mut doc = message(user, i as i64, "Report", "quarterly numbers");
            doc.pi = pi;
            doc.importance_level = importance;
            doc
        })
        .collect();
    apply(
        backend,
        &stores,
        &docs.iter().map(upsert_message).collect::<Vec<_>>(),
    )
    .await;
    let id = |i: usize| docs[i].id;
    let shared = &stores;
    let run = |pi: Option<(u8, u8)>, importance: Option<(i8, i8)>| {
        let query = SearchQuery {
            pi,
            importance,
            kind: Some(DocKind::Message),
            ..query(user, "report")
        };
        async move {
            let mut got = ids(&search(backend, shared, &query).await, DocKind::Message);
            got.sort();
            got
        }
    };
    let sorted = |mut v: Vec<Uuid>| {
        v.sort();
        v
    };
    assert_eq!(
        run(None, None).await,
        sorted(vec![id(0), id(1), id(2), id(3)]),
        "[{name}] no filter: all"
    );
    assert_eq!(
        run(Some((40, 100)), None).await,
        sorted(vec![id(1), id(2), id(3)]),
        "[{name}] pi 40..=100"
    );
    assert_eq!(
        run(Some((50, 50)), None).await,
        vec![id(1)],
        "[{name}] pi 50..=50 is inclusive"
    );
    assert_eq!(
        run(Some((0, 9)), None).await,
        Vec::<Uuid>::new(),
        "[{name}] pi 0..=9 matches none"
    );
    assert_eq!(
        run(None, Some((-10, -1))).await,
        vec![id(0)],
        "[{name}] importance -10..=-1"
    );
    assert_eq!(
        run(None, Some((-128, -128))).await,
        vec![id(3)],
        "[{name}] importance at the i8 minimum"
    );
    assert_eq!(
        run(None, Some((0, 5))).await,
        sorted(vec![id(1), id(2)]),
        "[{name}] importance 0..=5"
    );
    assert_eq!(
        run(Some((40, 95)), Some((1, 127))).await,
        vec![id(2)],
        "[{name}] both filters combine (AND)"
    );
    close(backend, stores).await;
}

/// More relevant first; equal relevance newest first; offset/limit pages with a
/// stable total.
pub async fn search_ranking_and_paging(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = Uuid::new_v4();
    let filler =
        "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ".repeat(8);
    let strong = message(user, 1, "Kiwi harvest", "kiwi kiwi and more kiwi");
    let weak = message(user, 2, "Orchard news", &format!("{filler} kiwi {filler}"));
    apply(
        backend,
        &stores,
        &[upsert_message(&strong), upsert_message(&weak)],
    )
    .await;
    assert_eq!(
        message_ids(backend, &stores, user, "kiwi").await,
        vec![strong.id, weak.id],
        "[{name}] the more relevant message ranks first, even when older"
    );

    let same: Vec<_> = (0..12)
        .map(|i| message(user, 1_000 + i, "Mango report", "mango sales"))
        .collect();
    apply(
        backend,
        &stores,
        &same.iter().map(upsert_message).collect::<Vec<_>>(),
    )
    .await;
    let newest_first: Vec<Uuid> = same.iter().rev().map(|d| d.id).collect();
    let mut paged = Vec::new();
    for offset in [0, 5, 10] {
        let page = SearchQuery {
            offset,
            limit: 5,
            ..query(user, "mango")
        };
        let found = search(backend, &stores, &page).await;
        assert_eq!(
            found.messages.total, 12,
            "[{name}] the total does not depend on the page (offset {offset})"
        );
        paged.extend(ids(&found, DocKind::Message));
    }
    assert_eq!(
        paged, newest_first,
        "[{name}] equal relevance orders newest first, and pages follow each other"
    );
    let beyond = SearchQuery {
        offset: 12,
        ..query(user, "mango")
    };
    let found = search(backend, &stores, &beyond).await;
    assert!(
        found.messages.hits.is_empty(),
        "[{name}] an offset past the end returns no hits"
    );
    assert_eq!(found.messages.total, 12, "[{name}] ...but still the total");
    let counting = SearchQuery {
        limit: 0,
        ..query(user, "mango")
    };
    let found = search(backend, &stores, &counting).await;
    assert!(
        found.messages.hits.is_empty(),
        "[{name}] limit 0 returns no hits"
    );
    assert_eq!(found.messages.total, 12, "[{name}] limit 0 still counts");
    close(backend, stores).await;
}

/// Upserting the same document again replaces it; deletes are idempotent too.
pub async fn search_idempotent_upsert(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = Uuid::new_v4();
    let mut doc = message(user, 1, "Alpha draft", "first version");
    apply(backend, &stores, &[upsert_message(&doc)]).await;
    apply(
        backend,
        &stores,
        &[upsert_message(&doc), upsert_message(&doc)],
    )
    .await;
    let found = search(backend, &stores, &query(user, "alpha")).await;
    assert_eq!(
        ids(&found, DocKind::Message),
        vec![doc.id],
        "[{name}] the same upsert replayed leaves one document"
    );
    assert_eq!(found.messages.total, 1, "[{name}] ...counted once");

    doc.subject = "Omega final".into();
    apply(backend, &stores, &[upsert_message(&doc)]).await;
    assert!(
        message_ids(backend, &stores, user, "alpha")
            .await
            .is_empty(),
        "[{name}] an upsert replaces the old text"
    );
    assert_eq!(
        message_ids(backend, &stores, user, "omega").await,
        vec![doc.id],
        "[{name}] an upsert indexes the new text"
    );

    let same_id_contact = caliopen_storage_traits::search::ContactDocument {
        id: doc.id,
        ..contact(user, &["Omega Person"], &[])
    };
    apply(backend, &stores, &[upsert_contact(&same_id_contact)]).await;
    let found = search(backend, &stores, &query(user, "omega")).await;
    assert_eq!(
        (ids(&found, DocKind::Message), ids(&found, DocKind::Contact)),
        (vec![doc.id], vec![doc.id]),
        "[{name}] documents are identified by (user, kind, id): a contact does not replace a message"
    );

    let delete = IndexOp::Delete {
        user,
        kind: DocKind::Message,
        id: doc.id,
    };
    apply(backend, &stores, std::slice::from_ref(&delete)).await;
    apply(backend, &stores, &[delete]).await;
    let found = search(backend, &stores, &query(user, "omega")).await;
    assert!(
        found.messages.hits.is_empty(),
        "[{name}] a deleted message is not found"
    );
    assert_eq!(
        ids(&found, DocKind::Contact),
        vec![doc.id],
        "[{name}] deleting the message keeps the contact"
    );
    let never = IndexOp::Delete {
        user,
        kind: DocKind::Contact,
        id: Uuid::new_v4(),
    };
    apply(backend, &stores, &[never]).await;
    close(backend, stores).await;
}

/// `clear` empties the index, which keeps working afterwards.
///
/// This wipes every document of the backend: point remote backends at a throwaway index.
pub async fn search_clear(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = Uuid::new_v4();
    let doc = message(user, 1, "Ephemeral thought", "soon gone");
    apply(backend, &stores, &[upsert_message(&doc)]).await;
    assert_eq!(
        message_ids(backend, &stores, user, "thought").await,
        vec![doc.id],
        "[{name}] indexed before clearing"
    );
    let cleared = stores.search.clear().await;
    crate::support::ok(backend, "clearing the index", cleared);
    let found = search(backend, &stores, &query(user, "")).await;
    assert!(
        found.messages.total == 0 && found.contacts.total == 0,
        "[{name}] nothing is left after clear"
    );
    apply(backend, &stores, &[upsert_message(&doc)]).await;
    assert_eq!(
        message_ids(backend, &stores, user, "thought").await,
        vec![doc.id],
        "[{name}] the index works after clear"
    );
    close(backend, stores).await;
}
