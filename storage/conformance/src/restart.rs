//! Data written before a close is all there after a reopen, in every role.

use std::time::Duration;

use caliopen_storage_traits::search::DocKind;
use caliopen_storage_traits::{Batch, BlobId, Scan, Scope, Stores};
use uuid::Uuid;

use crate::Backend;
use crate::search::{apply, contact, ids, message, query, search, upsert_contact, upsert_message};
use crate::support::{COUNTERS, PLAIN, close, fresh_user, noise, ok, open, scan_keys, write};

const NS: &str = "conformance-restart";

/// What one round of [`restart_keeps_everything`] wrote.
struct Written {
    user: Scope,
    search_user: Uuid,
    keys: Vec<Vec<u8>>,
    counter: i64,
    blob: (BlobId, Vec<u8>),
    ephemeral_key: Vec<u8>,
    ephemeral_counter: Vec<u8>,
    message: Uuid,
    contact: Uuid,
}

async fn write_round(
    backend: &dyn Backend,
    stores: &Stores,
    round: u32,
    written: Option<&Written>,
) -> Written {
    let user = written.map_or_else(fresh_user, |w| w.user);
    let search_user = written.map_or_else(Uuid::new_v4, |w| w.search_user);
    let mut keys = written.map(|w| w.keys.clone()).unwrap_or_default();
    let mut batch = Batch::new();
    for i in 0..50 {
        let key = format!("r{round}-{i:03}").into_bytes();
        batch.put(PLAIN, user, key.clone(), key.clone());
        keys.push(key);
    }
    batch.put(
        PLAIN,
        user,
        format!("r{round}-deleted").into_bytes(),
        b"x".to_vec(),
    );
    batch.add(COUNTERS, user, b"restarts".to_vec(), 10);
    write(backend, stores, "writing records before a restart", batch).await;
    let mut delete = Batch::new();
    delete.delete(PLAIN, user, format!("r{round}-deleted").into_bytes());
    write(
        backend,
        stores,
        "deleting a record before a restart",
        delete,
    )
    .await;
    keys.sort();

    let mut data = noise(u64::from(round) + 100, 3 * 1024 * 1024);
    data[..16].copy_from_slice(Uuid::new_v4().as_bytes());
    let blob = ok(
        backend,
        "putting a blob before a restart",
        stores.blobs.put(&data).await,
    );

    let ephemeral_key = Uuid::new_v4().as_bytes().to_vec();
    let ttl = Duration::from_secs(600);
    ok(
        backend,
        "putting an ephemeral value",
        stores.ephemeral.put(NS, &ephemeral_key, b"kept", ttl).await,
    );
    let ephemeral_counter = written.map_or_else(
        || Uuid::new_v4().as_bytes().to_vec(),
        |w| w.ephemeral_counter.clone(),
    );
    let count = ok(
        backend,
        "incrementing",
        stores
            .ephemeral
            .increment(NS, &ephemeral_counter, ttl)
            .await,
    );
    assert_eq!(
        u32::try_from(count).ok(),
        Some(round + 1),
        "[{}] an ephemeral counter survives restarts",
        backend.name()
    );

    let mail = message(
        search_user,
        i64::from(round),
        &format!("Restart round{round}"),
        "persisted text",
    );
    let person = contact(
        search_user,
        &[&format!("Persistent round{round}")],
        &["keeper@example.org"],
    );
    apply(
        backend,
        stores,
        &[upsert_message(&mail), upsert_contact(&person)],
    )
    .await;

    Written {
        user,
        search_user,
        keys,
        counter: i64::from(round + 1) * 10,
        blob: (blob, data),
        ephemeral_key,
        ephemeral_counter,
        message: mail.id,
        contact: person.id,
    }
}

/// Records and counters accumulate over rounds: check the latest round's view.
async fn verify_records(backend: &dyn Backend, stores: &Stores, round: u32, written: &Written) {
    let name = backend.name();
    let keys = scan_keys(backend, stores, PLAIN, written.user, Scan::all(40)).await;
    assert_eq!(
        keys, written.keys,
        "[{name}] after restart {round}, every record is there (and the deleted one is not)"
    );
    let counter = ok(
        backend,
        "counter",
        stores
            .records
            .counter(COUNTERS, written.user, b"restarts")
            .await,
    );
    assert_eq!(
        counter, written.counter,
        "[{name}] after restart {round}, the counter is intact"
    );
}

/// Blobs, ephemeral values and documents are per round.
async fn verify_round(backend: &dyn Backend, stores: &Stores, round: u32, written: &Written) {
    let name = backend.name();
    let (id, data) = &written.blob;
    let back = ok(backend, "get blob", stores.blobs.get(id).await);
    assert!(
        back.as_ref() == Some(data),
        "[{name}] after restart {round}, the blob is intact"
    );
    let value = ok(
        backend,
        "get ephemeral",
        stores.ephemeral.get(NS, &written.ephemeral_key).await,
    );
    assert_eq!(
        value.as_deref(),
        Some(&b"kept"[..]),
        "[{name}] after restart {round}, an unexpired value is there"
    );
    let found = search(
        backend,
        stores,
        &query(written.search_user, &format!("round{round}")),
    )
    .await;
    assert_eq!(
        ids(&found, DocKind::Message),
        vec![written.message],
        "[{name}] after restart {round}, the message is searchable"
    );
    assert_eq!(
        ids(&found, DocKind::Contact),
        vec![written.contact],
        "[{name}] after restart {round}, the contact is searchable"
    );
}

/// Write in every role, close, reopen, read everything back; twice, so that data
/// written after a reopen survives the next one too.
pub async fn restart_keeps_everything(backend: &dyn Backend) {
    let stores = open(backend).await;
    let first = write_round(backend, &stores, 0, None).await;
    close(backend, stores).await;

    let stores = open(backend).await;
    verify_records(backend, &stores, 0, &first).await;
    verify_round(backend, &stores, 0, &first).await;
    let second = write_round(backend, &stores, 1, Some(&first)).await;
    close(backend, stores).await;

    let stores = open(backend).await;
    verify_records(backend, &stores, 1, &second).await;
    verify_round(backend, &stores, 0, &first).await;
    verify_round(backend, &stores, 1, &second).await;
    close(backend, stores).await;
}
