//! The secondary indexes (`caliopen_core::indexes`): the unfiltered message list
//! by `date_sort` newest first, paged by offset and limit (the original sorted its
//! message index by `date_sort` descending, `idx/messages.go`), the lookup of an
//! account by recovery address (`cas/users.go` `UserByRecoveryEmail`), and their
//! back-fill when a store written before them is opened.

use caliopen_core::delivery::ImportedMail;
use caliopen_core::model::User;
use caliopen_core::service::messages::MessageFilter;
use caliopen_core::tables::{MESSAGES_BY_DATE, RECOVERY_ADDRESSES, SYSTEM};
use caliopen_storage_traits::{Batch, Scan, Scope, Table};
use chrono::{DateTime, TimeZone, Utc};

use crate::harness::Node;

fn day(year: i32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).unwrap()
}

/// Imports a mail whose source dates it `date` (imported mail is placed at its
/// own date), and waits for it.
async fn import(node: &Node, to: &User, subject: &str, date: DateTime<Utc>) {
    let recipient = node.core.import_recipient(&to.username).await.unwrap();
    let raw = format!("Subject: {subject}\r\nFrom: bob@example.org\r\n\r\nbody of {subject}\r\n");
    let imported = ImportedMail {
        source_date: Some(date),
        ..ImportedMail::default()
    };
    node.core
        .import_mail(&recipient, raw.into_bytes(), "bob@example.org", imported)
        .await
        .unwrap();
    node.settle().await;
}

/// The subjects of one page of the unfiltered list, and the total.
async fn page(node: &Node, user: &User, offset: usize, limit: usize) -> (u64, Vec<String>) {
    let filter = MessageFilter {
        offset,
        limit,
        ..MessageFilter::default()
    };
    let (total, messages) = node.core.list_messages(user.id, &filter).await.unwrap();
    (total, messages.into_iter().map(|m| m.subject).collect())
}

async fn keys(node: &Node, table: Table, scope: Scope) -> Vec<Vec<u8>> {
    let page = node
        .stores
        .records
        .scan(table, scope, Scan::all(10_000))
        .await
        .unwrap();
    page.items.into_iter().map(|(k, _)| k).collect()
}

/// Removes every index entry and back-fill record, as a store written by a
/// version without the indexes has none.
async fn forget_indexes(node: &Node, users: &[&User]) {
    let mut batch = Batch::new();
    for user in users {
        for key in keys(node, MESSAGES_BY_DATE, Scope::User(user.id)).await {
            batch.delete(MESSAGES_BY_DATE, Scope::User(user.id), key);
        }
    }
    for key in keys(node, RECOVERY_ADDRESSES, Scope::Global).await {
        batch.delete(RECOVERY_ADDRESSES, Scope::Global, key);
    }
    for key in keys(node, SYSTEM, Scope::Global).await {
        if key.starts_with(b"indexes_") {
            batch.delete(SYSTEM, Scope::Global, key);
        }
    }
    node.stores.records.write(batch).await.unwrap();
}

#[tokio::test]
async fn the_unfiltered_list_follows_date_sort_and_pages_by_offset() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    // Imported out of date order, then one delivered now.
    import(&node, &alice, "2021", day(2021)).await;
    import(&node, &alice, "2020", day(2020)).await;
    import(&node, &alice, "2022", day(2022)).await;
    node.deliver(&alice, "Subject: now\nFrom: bob@example.org", "hi")
        .await;
    assert_eq!(
        page(&node, &alice, 0, 10).await,
        (
            4,
            vec!["now".into(), "2022".into(), "2021".into(), "2020".into()]
        )
    );
    assert_eq!(
        page(&node, &alice, 1, 2).await,
        (4, vec!["2022".into(), "2021".into()])
    );
    assert_eq!(page(&node, &alice, 4, 2).await, (4, vec![]));
    assert_eq!(page(&node, &alice, usize::MAX, 2).await, (4, vec![]));

    let gone = node
        .messages(alice.id)
        .await
        .into_iter()
        .find(|m| m.subject == "2021")
        .unwrap();
    node.core.delete_message(alice.id, gone.id).await.unwrap();
    assert_eq!(
        page(&node, &alice, 0, 10).await,
        (3, vec!["now".into(), "2022".into(), "2020".into()])
    );
    assert_eq!(
        keys(&node, MESSAGES_BY_DATE, Scope::User(alice.id))
            .await
            .len(),
        3,
        "a deleted message leaves no index entry"
    );
}

#[tokio::test]
async fn a_store_written_without_the_indexes_is_back_filled_when_opened() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let bob = node.user("bob").await;
    for user in [&alice, &bob] {
        import(&node, user, "2019", day(2019)).await;
        import(&node, user, "2023", day(2023)).await;
        import(&node, user, "2001", day(2001)).await;
    }
    forget_indexes(&node, &[&alice, &bob]).await;
    assert_eq!(page(&node, &alice, 0, 10).await.1, Vec::<String>::new());
    let unknown = node
        .core
        .request_password_reset("", "alice@recovery.example", None)
        .await;
    assert!(
        matches!(unknown, Err(caliopen_core::CoreError::NotFound { .. })),
        "{unknown:?}"
    );
    node.stop();

    // Opened again (another core on the same store), as `caliopen serve` does.
    let opened = node.peer();
    let done = opened.core.prepare_indexes().await.unwrap();
    assert_eq!((done.users, done.messages), (2, 6));
    for user in [&alice, &bob] {
        assert_eq!(
            page(&opened, user, 0, 10).await,
            (3, vec!["2023".into(), "2019".into(), "2001".into()])
        );
    }
    let reset = opened
        .core
        .request_password_reset("", "Alice@Recovery.Example", None)
        .await
        .unwrap();
    assert_eq!(reset.user_id, alice.id);
    // Complete: the next start does nothing.
    let again = opened.core.prepare_indexes().await.unwrap();
    assert_eq!((again.users, again.messages), (0, 0));
}

#[tokio::test]
async fn an_interrupted_back_fill_resumes_after_the_last_user_it_finished() {
    let node = Node::new().await;
    let mut users = vec![node.user("alice").await, node.user("bob").await];
    users.sort_by_key(|u| u.id);
    for user in &users {
        import(&node, user, "2010", day(2010)).await;
    }
    forget_indexes(&node, &users.iter().collect::<Vec<_>>()).await;
    // As if the back-fill had stopped right after the first user.
    let mut batch = Batch::new();
    batch.put(
        SYSTEM,
        Scope::Global,
        b"indexes_backfill_cursor".to_vec(),
        users[0].id.as_bytes().to_vec(),
    );
    node.stores.records.write(batch).await.unwrap();
    let done = node.core.prepare_indexes().await.unwrap();
    assert_eq!((done.users, done.messages), (1, 1));
    assert_eq!(page(&node, &users[1], 0, 10).await.1, vec!["2010"]);
    // The user before the cursor is not read again.
    assert_eq!(page(&node, &users[0], 0, 10).await.1, Vec::<String>::new());
}

#[tokio::test]
async fn an_account_is_found_by_its_recovery_address_until_it_is_deleted() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let found = node
        .core
        .request_password_reset("", "alice@recovery.example", None)
        .await
        .unwrap();
    assert_eq!(found.user_id, alice.id);
    // Not a prefix match.
    for other in ["alice@recovery.exampl", "lice@recovery.example"] {
        let r = node.core.request_password_reset("", other, None).await;
        assert!(
            matches!(r, Err(caliopen_core::CoreError::NotFound { .. })),
            "{other}: {r:?}"
        );
    }
    node.core.delete_account(alice.id).await.unwrap();
    assert!(
        keys(&node, RECOVERY_ADDRESSES, Scope::Global)
            .await
            .is_empty()
    );
}
