//! What the Scylla backend refuses before sending anything, without a server: keys
//! over the contract's limit, batches and ephemeral values over Scylla's mutation
//! size.

use caliopen_storage_scylla::limits::{MAX_MUTATION_BYTES, check_batch, check_ephemeral_put};
use caliopen_storage_traits::limits::MAX_KEY_BYTES;
use caliopen_storage_traits::{Batch, Scope, StorageError, Table};

const PLAIN: Table = Table::plain("contacts");
const COUNTERS: Table = Table::counter("counters");

fn too_large(result: &Result<(), StorageError>) -> bool {
    matches!(result, Err(StorageError::TooLarge { .. }))
}

#[test]
fn batches_with_an_over_long_key_are_refused_whatever_the_operation() {
    for len in [MAX_KEY_BYTES + 1, 70_000] {
        let key = vec![b'k'; len];
        let mut put = Batch::new();
        put.put(PLAIN, Scope::Global, key.clone(), Vec::new());
        let mut delete = Batch::new();
        delete.delete(PLAIN, Scope::Global, key.clone());
        let mut add = Batch::new();
        add.add(COUNTERS, Scope::Global, key, 1);
        for batch in [put, delete, add] {
            assert!(too_large(&check_batch(&batch)), "{len}: {batch:?}");
        }
    }
    let mut longest = Batch::new();
    longest.put(PLAIN, Scope::Global, vec![b'k'; MAX_KEY_BYTES], Vec::new());
    check_batch(&longest).expect("a key at the limit passes");
}

#[test]
fn batches_over_one_mutation_are_refused() {
    let mut batch = Batch::new();
    for i in 0..3 {
        batch.put(
            PLAIN,
            Scope::Global,
            format!("k{i}").into_bytes(),
            vec![0; MAX_MUTATION_BYTES / 3 + 1],
        );
    }
    let err = check_batch(&batch).unwrap_err();
    assert!(
        matches!(err, StorageError::TooLarge { what: "batch", .. }),
        "{err:?}"
    );
    let mut small = Batch::new();
    small.put(PLAIN, Scope::Global, b"k".to_vec(), vec![0; 1024]);
    check_batch(&small).expect("a small batch passes");
}

#[test]
fn ephemeral_writes_are_bounded_in_key_namespace_and_value() {
    assert!(too_large(&check_ephemeral_put("ns", &[1; 70_000], b"v")));
    assert!(too_large(&check_ephemeral_put(
        &"n".repeat(70_000),
        b"k",
        b"v"
    )));
    assert!(too_large(&check_ephemeral_put(
        "ns",
        b"k",
        &vec![0; MAX_MUTATION_BYTES]
    )));
    check_ephemeral_put("ns", b"k", b"v").expect("a small value passes");
}
