//! The keyspace's schema as ordered, versioned migrations, applied at start-up and
//! recorded in `schema_migrations`.
//!
//! Every statement is idempotent (`IF NOT EXISTS`), so a node that stops half-way
//! through a migration, or two nodes starting together, converge on the same schema;
//! a migration is recorded only once all its statements succeeded. Released
//! migrations are never edited: a change is a new version at the end of the list.
//!
//! Tables (one set shared by every Caliopen table, whose name is a partition column):
//! - `records`: `((tbl, scope, bucket), key) -> value`. `bucket` is 0 except for
//!   time-ordered tables (see [`crate::bucket`]).
//! - `record_buckets`: `((tbl, scope), bucket)`: the buckets a time-ordered partition
//!   uses, written in the same batch as the records, read by scans.
//! - `counter_deltas`: `((tbl, scope, key), id) -> delta`: a counter is the sum of its
//!   deltas. Native counter columns cannot join a logged batch nor be reset, so
//!   counters are plain rows and `Add` is atomic with the rest of its batch.
//! - `blobs` and `blob_chunks`: blob metadata, and the bytes in chunks of at most
//!   [`crate::blobs::CHUNK_SIZE`], one chunk per partition.
//! - `ephemeral`, `ephemeral_windows`, `ephemeral_hits`: values and rate counters with
//!   a TTL (expiry also checked on read: CQL TTLs are whole seconds).

use std::collections::BTreeSet;

use scylla::client::caching_session::CachingSession;
use tracing::{info, instrument};

use crate::config::Replication;
use crate::error::ScyllaError;

/// One schema version: statements with `{ks}` standing for the keyspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub statements: &'static [&'static str],
}

impl Migration {
    /// The statements with the keyspace filled in.
    pub fn cql(&self, keyspace: &str) -> Vec<String> {
        self.statements
            .iter()
            .map(|s| s.replace("{ks}", keyspace))
            .collect()
    }
}

/// Every migration, in the order they apply.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "records",
        statements: &[
            "CREATE TABLE IF NOT EXISTS {ks}.records (tbl text, scope text, bucket bigint, \
             key blob, value blob, PRIMARY KEY ((tbl, scope, bucket), key)) \
             WITH CLUSTERING ORDER BY (key ASC)",
            "CREATE TABLE IF NOT EXISTS {ks}.record_buckets (tbl text, scope text, \
             bucket bigint, PRIMARY KEY ((tbl, scope), bucket)) \
             WITH CLUSTERING ORDER BY (bucket ASC)",
            "CREATE TABLE IF NOT EXISTS {ks}.counter_deltas (tbl text, scope text, key blob, \
             id uuid, delta bigint, PRIMARY KEY ((tbl, scope, key), id))",
        ],
    },
    Migration {
        version: 2,
        name: "blobs",
        statements: &[
            "CREATE TABLE IF NOT EXISTS {ks}.blobs (id blob PRIMARY KEY, size bigint, \
             chunks int, chunk_size int)",
            "CREATE TABLE IF NOT EXISTS {ks}.blob_chunks (id blob, chunk int, data blob, \
             PRIMARY KEY ((id, chunk)))",
        ],
    },
    Migration {
        version: 3,
        name: "ephemeral",
        statements: &[
            "CREATE TABLE IF NOT EXISTS {ks}.ephemeral (ns text, key blob, value blob, \
             expires_at bigint, PRIMARY KEY ((ns, key))) WITH gc_grace_seconds = 3600",
            "CREATE TABLE IF NOT EXISTS {ks}.ephemeral_windows (ns text, key blob, \
             started_at bigint, expires_at bigint, PRIMARY KEY ((ns, key))) \
             WITH gc_grace_seconds = 3600",
            "CREATE TABLE IF NOT EXISTS {ks}.ephemeral_hits (ns text, key blob, \
             started_at bigint, hit uuid, PRIMARY KEY ((ns, key, started_at), hit)) \
             WITH gc_grace_seconds = 3600",
        ],
    },
];

/// Checks a migration list: versions start at 1 and increase by one, names are unique,
/// every migration has statements and each names the keyspace.
pub fn check_order(migrations: &[Migration]) -> Result<(), String> {
    let mut names = BTreeSet::new();
    for (index, migration) in migrations.iter().enumerate() {
        let expected = u32::try_from(index + 1).map_err(|e| e.to_string())?;
        if migration.version != expected {
            return Err(format!(
                "migration `{}` has version {}, expected {expected}",
                migration.name, migration.version
            ));
        }
        if !names.insert(migration.name) {
            return Err(format!("two migrations are named `{}`", migration.name));
        }
        if migration.statements.is_empty() {
            return Err(format!("migration `{}` has no statement", migration.name));
        }
        if let Some(bad) = migration.statements.iter().find(|s| !s.contains("{ks}.")) {
            return Err(format!(
                "a statement of `{}` does not name the keyspace: {bad}",
                migration.name
            ));
        }
    }
    Ok(())
}

/// The migrations not yet applied, in order. A recorded version unknown to this build
/// means a newer Caliopen migrated the keyspace: refuse to run on it.
pub fn pending<'a>(
    migrations: &'a [Migration],
    applied: &BTreeSet<u32>,
) -> Result<Vec<&'a Migration>, ScyllaError> {
    let known = migrations.last().map_or(0, |m| m.version);
    if let Some(newer) = applied.iter().find(|v| **v > known) {
        return Err(ScyllaError::Migration {
            version: *newer,
            name: "unknown",
            message: format!(
                "the keyspace has schema version {newer}, this build knows up to {known}: \
                 upgrade this node"
            ),
        });
    }
    Ok(migrations
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .collect())
}

/// `CREATE KEYSPACE` with the configured replication.
pub fn create_keyspace(keyspace: &str, replication: &Replication) -> String {
    format!(
        "CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = {} \
         AND durable_writes = true",
        replication.cql()
    )
}

/// The table that records applied migrations.
pub fn create_migrations_table(keyspace: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {keyspace}.schema_migrations (version int PRIMARY KEY, \
         name text, applied_at timestamp)"
    )
}

/// Creates the keyspace when missing and applies pending migrations in order.
/// Returns the versions applied by this call.
#[instrument(skip(session, replication), err)]
pub async fn migrate(
    session: &CachingSession,
    keyspace: &str,
    replication: &Replication,
) -> Result<Vec<u32>, ScyllaError> {
    check_order(MIGRATIONS).map_err(ScyllaError::Config)?;
    let ddl = |operation: &'static str, cql: String| async move {
        session
            .get_session()
            .query_unpaged(cql, ())
            .await
            .map_err(|e| ScyllaError::query(operation, &e))
    };
    ddl(
        "create the keyspace",
        create_keyspace(keyspace, replication),
    )
    .await?;
    ddl(
        "create the migrations table",
        create_migrations_table(keyspace),
    )
    .await?;

    let select = format!("SELECT version FROM {keyspace}.schema_migrations");
    let rows = session
        .execute_unpaged(select.as_str(), ())
        .await
        .map_err(|e| ScyllaError::query("read applied migrations", &e))?
        .into_rows_result()
        .map_err(|e| ScyllaError::decode("read applied migrations", e))?;
    let applied = rows
        .rows::<(i32,)>()
        .map_err(|e| ScyllaError::decode("read applied migrations", e))?
        .map(|row| row.map(|(v,)| u32::try_from(v).unwrap_or(u32::MAX)))
        .collect::<Result<BTreeSet<u32>, _>>()
        .map_err(|e| ScyllaError::decode("read applied migrations", e))?;

    let mut done = Vec::new();
    for migration in pending(MIGRATIONS, &applied)? {
        for statement in migration.cql(keyspace) {
            session
                .get_session()
                .query_unpaged(statement, ())
                .await
                .map_err(|e| ScyllaError::Migration {
                    version: migration.version,
                    name: migration.name,
                    message: e.to_string(),
                })?;
        }
        let record = format!(
            "INSERT INTO {keyspace}.schema_migrations (version, name, applied_at) \
             VALUES (?, ?, toTimestamp(now()))"
        );
        let version = i32::try_from(migration.version).unwrap_or(i32::MAX);
        session
            .execute_unpaged(record.as_str(), (version, migration.name))
            .await
            .map_err(|e| ScyllaError::query("record a migration", &e))?;
        info!(
            version = migration.version,
            name = migration.name,
            "applied schema migration"
        );
        done.push(migration.version);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_migrations_are_in_order() {
        check_order(MIGRATIONS).expect("MIGRATIONS is well ordered");
    }

    #[test]
    fn out_of_order_or_duplicate_migrations_are_refused() {
        let one = Migration {
            version: 1,
            name: "a",
            statements: &["CREATE TABLE IF NOT EXISTS {ks}.a (k int PRIMARY KEY)"],
        };
        let gap = Migration {
            version: 3,
            name: "b",
            ..one
        };
        assert!(check_order(&[one, gap]).unwrap_err().contains("expected 2"));
        let same_name = Migration { version: 2, ..one };
        assert!(
            check_order(&[one, same_name])
                .unwrap_err()
                .contains("two migrations")
        );
        let no_keyspace = Migration {
            version: 1,
            name: "c",
            statements: &["CREATE TABLE c (k int PRIMARY KEY)"],
        };
        assert!(
            check_order(&[no_keyspace])
                .unwrap_err()
                .contains("keyspace")
        );
    }

    #[test]
    fn pending_migrations_come_in_version_order() {
        let applied = BTreeSet::from([1]);
        let versions: Vec<u32> = pending(MIGRATIONS, &applied)
            .expect("no newer version")
            .iter()
            .map(|m| m.version)
            .collect();
        assert_eq!(versions, (2..=MIGRATIONS.len() as u32).collect::<Vec<_>>());
        let all = BTreeSet::from_iter(MIGRATIONS.iter().map(|m| m.version));
        assert!(pending(MIGRATIONS, &all).expect("known").is_empty());
    }

    #[test]
    fn a_keyspace_from_a_newer_build_is_refused() {
        let applied = BTreeSet::from([1, 2, 3, 99]);
        let err = pending(MIGRATIONS, &applied).unwrap_err();
        assert!(err.to_string().contains("upgrade this node"), "{err}");
    }

    #[test]
    fn statements_name_the_configured_keyspace() {
        let cql = MIGRATIONS[0].cql("mail_prod");
        assert!(cql[0].starts_with("CREATE TABLE IF NOT EXISTS mail_prod.records ("));
        assert!(cql[0].contains("PRIMARY KEY ((tbl, scope, bucket), key)"));
        assert!(cql.iter().all(|s| !s.contains("{ks}")));
        // No collections anywhere in the schema, no counters (they cannot be batched).
        for migration in MIGRATIONS {
            for statement in migration.statements {
                for word in ["list<", "set<", "map<", " counter"] {
                    assert!(!statement.contains(word), "{statement}");
                }
            }
        }
    }

    #[test]
    fn keyspace_ddl_carries_the_replication() {
        let simple = create_keyspace("caliopen", &Replication::Simple { factor: 3 });
        assert_eq!(
            simple,
            "CREATE KEYSPACE IF NOT EXISTS caliopen WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 3} AND durable_writes = true"
        );
        let dcs = Replication::NetworkTopology {
            datacenters: [("eu-west".to_string(), 3), ("us-east".to_string(), 2)].into(),
        };
        assert!(
            create_keyspace("k", &dcs)
                .contains("{'class': 'NetworkTopologyStrategy', 'eu-west': 3, 'us-east': 2}")
        );
        assert!(
            create_migrations_table("k").contains("k.schema_migrations (version int PRIMARY KEY")
        );
    }
}
