//! Checks of record order: bytewise key order, and paging through a partition with
//! prefixes, cursors and limits in both directions.

use caliopen_storage_traits::{Batch, Scan, ordered_i64, ordered_i64_value};

use crate::Backend;
use crate::support::{PLAIN, close, fresh_user, ok, open, scan_keys, write};

/// Keys come back in bytewise order, forward and reverse.
pub async fn records_key_order(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = fresh_user();
    let keys: Vec<Vec<u8>> = vec![
        vec![0xff],
        b"b".to_vec(),
        vec![0x00],
        b"a".to_vec(),
        b"ab".to_vec(),
        vec![b'a', 0x00],
        b"B".to_vec(),
        vec![0x80, 0x01],
        b"aa".to_vec(),
        vec![0xff, 0xff],
        vec![0x00, 0x01],
        b"a\xff".to_vec(),
    ];
    let mut batch = Batch::new();
    for (i, key) in keys.iter().enumerate() {
        batch.put(PLAIN, user, key.clone(), vec![i as u8]);
    }
    write(backend, &stores, "writing keys out of order", batch).await;
    let mut sorted = keys.clone();
    sorted.sort();

    let page = ok(
        backend,
        "scan",
        stores.records.scan(PLAIN, user, Scan::all(100)).await,
    );
    let got: Vec<Vec<u8>> = page.items.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(
        got, sorted,
        "[{name}] a scan returns keys in bytewise order"
    );
    assert_eq!(
        page.next, None,
        "[{name}] a scan that returned everything has no next"
    );
    for (key, value) in &page.items {
        let i = keys.iter().position(|k| k == key).unwrap_or(usize::MAX);
        assert_eq!(
            value,
            &vec![i as u8],
            "[{name}] the value scanned for {key:?} is the one put"
        );
    }

    let page = ok(
        backend,
        "reverse scan",
        stores
            .records
            .scan(PLAIN, user, Scan::all(100).reversed())
            .await,
    );
    let got: Vec<Vec<u8>> = page.items.into_iter().map(|(k, _)| k).collect();
    let mut reversed = sorted;
    reversed.reverse();
    assert_eq!(
        got, reversed,
        "[{name}] a reverse scan returns keys in descending bytewise order"
    );
    close(backend, stores).await;
}

/// Prefixes, cursors across pages in both directions, limits, cursors between keys.
pub async fn records_paging(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = fresh_user();
    let mut inside: Vec<Vec<u8>> = (0..25)
        .map(|i| format!("item-{i:02}").into_bytes())
        .collect();
    inside.push(b"item-\xff".to_vec());
    inside.push(b"item-\xff\xff".to_vec());
    inside.push(b"item-".to_vec());
    let outside: Vec<Vec<u8>> = vec![
        b"item".to_vec(),
        b"item.".to_vec(),
        b"iten-0".to_vec(),
        b"a".to_vec(),
    ];
    let mut batch = Batch::new();
    for key in inside.iter().chain(&outside) {
        batch.put(PLAIN, user, key.clone(), key.clone());
    }
    write(backend, &stores, "writing keys to page through", batch).await;
    inside.sort();

    for limit in [1, 7, 28, 29, 100] {
        let got = scan_keys(
            backend,
            &stores,
            PLAIN,
            user,
            Scan::prefix(b"item-".to_vec(), limit),
        )
        .await;
        assert_eq!(
            got, inside,
            "[{name}] forward pages of {limit} under a prefix return exactly its keys, in order"
        );
        let got = scan_keys(
            backend,
            &stores,
            PLAIN,
            user,
            Scan::prefix(b"item-".to_vec(), limit).reversed(),
        )
        .await;
        let mut reversed = inside.clone();
        reversed.reverse();
        assert_eq!(
            got, reversed,
            "[{name}] reverse pages of {limit} return the prefix's keys in descending order"
        );
    }

    let page = ok(
        backend,
        "scan with limit 0",
        stores.records.scan(PLAIN, user, Scan::all(0)).await,
    );
    assert!(
        page.items.is_empty(),
        "[{name}] a scan with limit 0 returns nothing"
    );
    assert_eq!(
        page.next, None,
        "[{name}] a scan with limit 0 has no cursor"
    );

    let first = ok(
        backend,
        "first page",
        stores
            .records
            .scan(PLAIN, user, Scan::prefix(b"item-".to_vec(), 3))
            .await,
    );
    assert_eq!(
        first.items.len(),
        3,
        "[{name}] a page holds `limit` records when more exist"
    );
    assert_eq!(
        first.next,
        Some(inside[2].clone()),
        "[{name}] next is the last key of a full page"
    );

    let between = Scan::prefix(b"item-".to_vec(), 2).after(Some(b"item-04a".to_vec()));
    let page = ok(
        backend,
        "scan after a missing key",
        stores.records.scan(PLAIN, user, between).await,
    );
    let got: Vec<&[u8]> = page.items.iter().map(|(k, _)| k.as_slice()).collect();
    assert_eq!(
        got,
        [&b"item-05"[..], b"item-06"],
        "[{name}] a cursor between keys resumes at the next key"
    );

    let back = Scan::prefix(b"item-".to_vec(), 2)
        .after(Some(b"item-04a".to_vec()))
        .reversed();
    let page = ok(
        backend,
        "reverse scan after a missing key",
        stores.records.scan(PLAIN, user, back).await,
    );
    let got: Vec<&[u8]> = page.items.iter().map(|(k, _)| k.as_slice()).collect();
    assert_eq!(
        got,
        [&b"item-04"[..], b"item-03"],
        "[{name}] a reverse cursor resumes below it"
    );

    let before = Scan::prefix(b"item-".to_vec(), 1).after(Some(b"a".to_vec()));
    let page = ok(
        backend,
        "scan after a key before the prefix",
        stores.records.scan(PLAIN, user, before).await,
    );
    assert_eq!(
        page.items.first().map(|(k, _)| k.clone()),
        Some(inside[0].clone()),
        "[{name}] a cursor before the prefix starts at the prefix"
    );

    let beyond = Scan::prefix(b"item-".to_vec(), 10).after(Some(b"z".to_vec()));
    let page = ok(
        backend,
        "scan after a key beyond the prefix",
        stores.records.scan(PLAIN, user, beyond).await,
    );
    assert!(
        page.items.is_empty() && page.next.is_none(),
        "[{name}] a cursor beyond the prefix finds nothing"
    );

    let none = ok(
        backend,
        "scan of an unused prefix",
        stores
            .records
            .scan(PLAIN, user, Scan::prefix(b"zz".to_vec(), 10))
            .await,
    );
    assert!(
        none.items.is_empty() && none.next.is_none(),
        "[{name}] an unused prefix finds nothing"
    );

    let all = scan_keys(backend, &stores, PLAIN, user, Scan::all(4)).await;
    assert_eq!(
        all.len(),
        inside.len() + outside.len(),
        "[{name}] paging the whole partition reaches every key"
    );
    close(backend, stores).await;
}

/// Keys that sort by a signed number then an id ([`ordered_i64`] + 16 bytes), as
/// core's by-date indexes are built: a reverse scan in small pages hands them out
/// newest first, ties by id (descending), dates before 1970 last; moving an entry
/// (delete the old key, put the new one, in one batch) and deleting one show at
/// once.
pub async fn records_number_order(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = fresh_user();
    let id = |n: u8| [n; 16];
    let key = |date: i64, n: u8| {
        let mut k = ordered_i64(date).to_vec();
        k.extend_from_slice(&id(n));
        k
    };
    let entries: Vec<(i64, u8)> = vec![
        (1_609_459_200_000_000, 1), // 2021-01-01, in microseconds
        (1_577_836_800_000_000, 2), // 2020-01-01
        (-86_400_000_000, 3),       // 1969-12-31
        (0, 4),
        (1_609_459_200_000_000, 0xff), // same date: the higher id first
        (1_609_459_200_000_000, 0x00),
        (i64::MIN, 5),
        (i64::MAX, 6),
        (-1, 7),
    ];
    let mut batch = Batch::new();
    for (date, n) in &entries {
        batch.put(PLAIN, user, key(*date, *n), Vec::new());
    }
    write(backend, &stores, "writing keys by number", batch).await;

    let mut expected: Vec<(i64, u8)> = entries.clone();
    expected.sort_by(|a, b| b.cmp(a));
    let newest_first = |keys: Vec<Vec<u8>>| -> Vec<(i64, u8)> {
        keys.iter()
            .map(|k| {
                let mut date = [0u8; 8];
                date.copy_from_slice(&k[..8]);
                (ordered_i64_value(date), k[8])
            })
            .collect()
    };
    let got = scan_keys(backend, &stores, PLAIN, user, Scan::all(2).reversed()).await;
    assert_eq!(
        newest_first(got),
        expected,
        "[{name}] a reverse scan in pages of 2 hands keys out by number, newest first, ties by id"
    );

    // The 2020 entry moves to 2022; the 1969 one goes.
    let mut batch = Batch::new();
    batch.delete(PLAIN, user, key(1_577_836_800_000_000, 2));
    batch.put(PLAIN, user, key(1_640_995_200_000_000, 2), Vec::new());
    batch.delete(PLAIN, user, key(-86_400_000_000, 3));
    write(
        backend,
        &stores,
        "moving and deleting keys by number",
        batch,
    )
    .await;
    expected.retain(|e| e.1 != 2 && e.1 != 3);
    expected.push((1_640_995_200_000_000, 2));
    expected.sort_by(|a, b| b.cmp(a));
    let got = scan_keys(backend, &stores, PLAIN, user, Scan::all(3).reversed()).await;
    assert_eq!(
        newest_first(got),
        expected,
        "[{name}] a moved key is found at its new number only, a deleted one nowhere"
    );
    // A page that starts after a cursor in the middle of ties.
    let after = key(1_609_459_200_000_000, 0xff);
    let page = ok(
        backend,
        "scan after a tie",
        stores
            .records
            .scan(PLAIN, user, Scan::all(2).reversed().after(Some(after)))
            .await,
    );
    let got = newest_first(page.items.into_iter().map(|(k, _)| k).collect());
    assert_eq!(
        got,
        vec![(1_609_459_200_000_000, 1), (1_609_459_200_000_000, 0)],
        "[{name}] a reverse scan after a key resumes with the next tie"
    );
    close(backend, stores).await;
}
