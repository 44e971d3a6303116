//! The Scylla configuration as operators write it, and blob chunking.

use caliopen_storage_scylla::blobs::{BlobMeta, CHUNK_SIZE, assemble, split};
use caliopen_storage_scylla::{Consistency, Replication, ScyllaConfig};
use caliopen_storage_traits::{BlobId, StorageError};

#[test]
fn a_full_configuration_parses() {
    let config: ScyllaConfig = toml::from_str(
        r#"
        contact_points = ["10.0.0.1:9042", "10.0.0.2:9042"]
        keyspace = "caliopen_prod"
        consistency = "local_quorum"
        page_size = 500
        credentials = { username = "caliopen", password = "s3cret" }
        tls = { ca_file = "/etc/caliopen/scylla-ca.pem" }
        replication = { class = "network_topology", datacenters = { dc1 = 3, dc2 = 3 } }
        "#,
    )
    .expect("the configuration parses");
    config.validate().expect("and is valid");
    assert_eq!(config.consistency, Consistency::LocalQuorum);
    assert_eq!(
        scylla::statement::Consistency::from(config.consistency),
        scylla::statement::Consistency::LocalQuorum
    );
    assert!(matches!(
        config.replication,
        Replication::NetworkTopology { .. }
    ));
    assert!(
        !format!("{config:?}").contains("s3cret"),
        "Debug hides the password"
    );
}

#[test]
fn defaults_fit_one_local_node() {
    let config: ScyllaConfig =
        toml::from_str(r#"contact_points = ["127.0.0.1:9042"]"#).expect("parses");
    assert_eq!(config, ScyllaConfig::local("127.0.0.1:9042"));
    assert_eq!(config.keyspace, "caliopen");
    assert_eq!(config.replication, Replication::Simple { factor: 1 });
}

#[test]
fn mistakes_are_refused_with_a_reason() {
    let unknown = toml::from_str::<ScyllaConfig>(
        r#"contact_points = ["a:9042"]
        keyspcae = "typo""#,
    );
    assert!(unknown.unwrap_err().to_string().contains("keyspcae"));
    let mut config = ScyllaConfig::local("a:9042");
    config.keyspace = "drop table".into();
    assert!(
        config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("keyspace")
    );
    config.keyspace = "ok".into();
    config.contact_points.clear();
    assert!(
        config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("contact_points")
    );
}

#[test]
fn blobs_are_cut_in_chunks_under_one_megabyte_and_put_back_together() {
    const { assert!(CHUNK_SIZE < 1024 * 1024) };
    let data: Vec<u8> = (0..(CHUNK_SIZE * 2 + 17))
        .map(|i| (i % 251) as u8)
        .collect();
    let id = BlobId::of(&data);
    let meta = BlobMeta::of(&data);
    assert_eq!(meta.chunks, 3);
    let mut chunks: Vec<(i32, Vec<u8>)> = split(&data).map(|(i, c)| (i, c.to_vec())).collect();
    assert!(chunks.iter().all(|(_, c)| c.len() <= CHUNK_SIZE));
    chunks.reverse();
    assert_eq!(assemble(&id, meta, chunks.clone()).expect("whole"), data);

    let missing = chunks[1..].to_vec();
    assert!(matches!(
        assemble(&id, meta, missing),
        Err(StorageError::Corrupt { .. })
    ));
    let mut altered = chunks;
    altered[0].1[0] ^= 1;
    assert!(matches!(
        assemble(&id, meta, altered),
        Err(StorageError::Corrupt { .. })
    ));
    let empty = BlobMeta::of(b"");
    assert_eq!(empty.chunks, 0);
    assert_eq!(
        assemble(&BlobId::of(b""), empty, Vec::new()).expect("empty"),
        b""
    );
}
